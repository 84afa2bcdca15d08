// SPDX-License-Identifier: MIT
#include "picture.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <png.h>

#include <fmt/format.h>

namespace pciem::picture {

Picture from_scanout(std::span<const std::byte> memory, uint64_t offset, uint32_t width,
                     uint32_t height, uint32_t stride, PixelFormat format) {
    Picture p{width, height, std::vector<uint8_t>(size_t{width} * height * 3)};
    uint8_t* out = p.rgb.data();
    for (uint32_t y = 0; y < height; ++y) {
        const std::byte* line = memory.data() + offset + uint64_t{y} * stride;
        if (format == PixelFormat::xrgb8888) {
            for (uint32_t x = 0; x < width; ++x) {
                uint32_t v;
                std::memcpy(&v, line + size_t{x} * 4, 4);
                *out++ = static_cast<uint8_t>(v >> 16);
                *out++ = static_cast<uint8_t>(v >> 8);
                *out++ = static_cast<uint8_t>(v);
            }
        } else {
            for (uint32_t x = 0; x < width; ++x) {
                uint16_t v;
                std::memcpy(&v, line + size_t{x} * 2, 2);
                const unsigned r = v >> 11, g = (v >> 5) & 0x3f, b = v & 0x1f;
                *out++ = static_cast<uint8_t>(r << 3 | r >> 2);
                *out++ = static_cast<uint8_t>(g << 2 | g >> 4);
                *out++ = static_cast<uint8_t>(b << 3 | b >> 2);
            }
        }
    }
    return p;
}

Picture no_signal(uint32_t width, uint32_t height) {
    return {width, height, std::vector<uint8_t>(size_t{width} * height * 3, 0)};
}

namespace {

// libpng reports errors through longjmp; these keep the message.
struct PngErrors {
    std::string message;
};

void on_png_error(png_structp png, png_const_charp msg) {
    static_cast<PngErrors*>(png_get_error_ptr(png))->message = msg;
    png_longjmp(png, 1);
}

void on_png_warning(png_structp, png_const_charp) {}

} // namespace

Result<std::vector<uint8_t>> encode_png(const Picture& picture, int level) {
    if (picture.width == 0 || picture.height == 0) {
        return fail(EINVAL, "cannot encode an empty picture as PNG");
    }
    PngErrors errors;
    png_structp png =
        png_create_write_struct(PNG_LIBPNG_VER_STRING, &errors, on_png_error, on_png_warning);
    png_infop info = png ? png_create_info_struct(png) : nullptr;
    if (info == nullptr) {
        png_destroy_write_struct(&png, nullptr);
        return fail(ENOMEM, "libpng could not allocate its state");
    }
    std::vector<uint8_t> out;
    std::vector<png_bytep> rows(picture.height);
    for (uint32_t y = 0; y < picture.height; ++y) {
        rows[y] = const_cast<png_bytep>(picture.rgb.data() + size_t{y} * picture.width * 3);
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return fail(EIO, "PNG encoding failed: " + errors.message);
    }
    png_set_write_fn(
        png, &out,
        [](png_structp p, png_bytep data, png_size_t len) {
            auto* v = static_cast<std::vector<uint8_t>*>(png_get_io_ptr(p));
            v->insert(v->end(), data, data + len);
        },
        nullptr);
    png_set_compression_level(png, level);
    // A display's content is mostly flat areas and text: the Sub filter
    // alone compresses it about as well as adaptive filtering, faster.
    png_set_filter(png, 0, level == 0 ? PNG_FILTER_NONE : PNG_FILTER_SUB);
    png_set_IHDR(png, info, picture.width, picture.height, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_rows(png, info, rows.data());
    png_write_png(png, info, PNG_TRANSFORM_IDENTITY, nullptr);
    png_destroy_write_struct(&png, &info);
    return out;
}

Result<Picture> decode_png(std::span<const uint8_t> data) {
    png_image image{};
    image.version = PNG_IMAGE_VERSION;
    if (png_image_begin_read_from_memory(&image, data.data(), data.size()) == 0) {
        return fail(EINVAL, fmt::format("not a PNG libpng can read: {}", image.message));
    }
    image.format = PNG_FORMAT_RGB;
    Picture p{image.width, image.height, std::vector<uint8_t>(PNG_IMAGE_SIZE(image))};
    if (png_image_finish_read(&image, nullptr, p.rgb.data(), 0, nullptr) == 0) {
        std::string msg = image.message;
        png_image_free(&image);
        return fail(EINVAL, "PNG decoding failed: " + msg);
    }
    return p;
}

Result<void> write_png(const Picture& picture, const std::string& path) {
    auto png = encode_png(picture);
    if (!png) {
        return std::unexpected(png.error());
    }
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out.write(reinterpret_cast<const char*>(png->data()),
                       static_cast<std::streamsize>(png->size())) ||
            !out.flush()) {
            return fail(EIO, fmt::format("cannot write {}", tmp));
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        return fail(ec.value(), fmt::format("cannot rename {} to {}: {}", tmp, path, ec.message()));
    }
    return {};
}

Result<Picture> read_png(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return fail(ENOENT, fmt::format("cannot open {}", path));
    }
    const std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in),
                                     std::istreambuf_iterator<char>()};
    auto p = decode_png(bytes);
    if (!p) {
        return fail(p.error().errnum, fmt::format("{}: {}", path, p.error().message));
    }
    return p;
}

} // namespace pciem::picture
