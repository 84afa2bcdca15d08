// SPDX-License-Identifier: MIT
#include "backing.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "pciem/unique_fd.hpp"

namespace pciem::nvme {

namespace {

class FileBacking final : public Backing {
public:
    FileBacking(std::shared_ptr<UniqueFd> fd, uint64_t base, uint64_t size)
        : fd_(std::move(fd)), base_(base), size_(size) {}

    int read(uint64_t offset, std::span<std::byte> out) override {
        while (!out.empty()) {
            const ssize_t n =
                ::pread(fd_->get(), out.data(), out.size(), static_cast<off_t>(base_ + offset));
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0) {
                return errno;
            }
            if (n == 0) {
                // Past the end of a file someone truncated: holes read zero.
                std::memset(out.data(), 0, out.size());
                return 0;
            }
            out = out.subspan(static_cast<size_t>(n));
            offset += static_cast<uint64_t>(n);
        }
        return 0;
    }

    int write(uint64_t offset, std::span<const std::byte> in) override {
        while (!in.empty()) {
            const ssize_t n =
                ::pwrite(fd_->get(), in.data(), in.size(), static_cast<off_t>(base_ + offset));
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                return n < 0 ? errno : EIO;
            }
            in = in.subspan(static_cast<size_t>(n));
            offset += static_cast<uint64_t>(n);
        }
        return 0;
    }

    int deallocate(uint64_t offset, uint64_t length) override {
        if (::fallocate(fd_->get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                        static_cast<off_t>(base_ + offset), static_cast<off_t>(length)) == 0) {
            return 0;
        }
        if (errno != EOPNOTSUPP) {
            return errno;
        }
        // A file system without holes: the blocks must still read zero.
        static const std::array<std::byte, 64 * 1024> zeros{};
        while (length > 0) {
            const size_t n = static_cast<size_t>(std::min<uint64_t>(length, zeros.size()));
            if (int err = write(offset, std::span(zeros).first(n)); err != 0) {
                return err;
            }
            offset += n;
            length -= n;
        }
        return 0;
    }

    int flush() override { return ::fdatasync(fd_->get()) == 0 ? 0 : errno; }
    [[nodiscard]] uint64_t size() const override { return size_; }

private:
    std::shared_ptr<UniqueFd> fd_;
    uint64_t base_;
    uint64_t size_;
};

class MemoryBacking final : public Backing {
public:
    MemoryBacking(std::byte* bytes, uint64_t size) : bytes_(bytes), size_(size) {}
    ~MemoryBacking() override { ::munmap(bytes_, size_); }

    int read(uint64_t offset, std::span<std::byte> out) override {
        std::memcpy(out.data(), bytes_ + offset, out.size());
        return 0;
    }
    int write(uint64_t offset, std::span<const std::byte> in) override {
        std::memcpy(bytes_ + offset, in.data(), in.size());
        return 0;
    }
    int deallocate(uint64_t offset, uint64_t length) override {
        // Whole pages go back to the kernel (and read zero again); the
        // partial pages at either end are zeroed by hand.
        const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
        const uint64_t first = (offset + page - 1) / page * page;
        const uint64_t last = (offset + length) / page * page;
        if (first < last) {
            std::memset(bytes_ + offset, 0, first - offset);
            std::memset(bytes_ + last, 0, offset + length - last);
            ::madvise(bytes_ + first, last - first, MADV_DONTNEED);
        } else {
            std::memset(bytes_ + offset, 0, length);
        }
        return 0;
    }
    int flush() override { return 0; }
    [[nodiscard]] uint64_t size() const override { return size_; }
    [[nodiscard]] std::span<const std::byte> view(uint64_t offset, uint64_t length) override {
        return {bytes_ + offset, length};
    }

private:
    std::byte* bytes_;
    uint64_t size_;
};

} // namespace

Result<std::unique_ptr<Backing>> open_file_backing(const std::string& path, uint64_t base,
                                                   uint64_t size) {
    auto fd = std::make_shared<UniqueFd>(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (fd->get() < 0) {
        return fail(errno,
                    fmt::format("cannot open backing file {}: {}", path, std::strerror(errno)));
    }
    struct stat st {};
    if (::fstat(fd->get(), &st) != 0) {
        return fail(errno, fmt::format("cannot stat {}: {}", path, std::strerror(errno)));
    }
    const uint64_t need = base + size;
    if (S_ISREG(st.st_mode)) {
        if (static_cast<uint64_t>(st.st_size) < need &&
            ::ftruncate(fd->get(), static_cast<off_t>(need)) != 0) {
            return fail(errno, fmt::format("cannot extend {} to {} bytes: {}", path, need,
                                           std::strerror(errno)));
        }
    } else {
        // A block device cannot grow: it must be large enough already.
        const off_t end = ::lseek(fd->get(), 0, SEEK_END);
        if (end < 0 || static_cast<uint64_t>(end) < need) {
            return fail(ENOSPC, fmt::format("{} holds {} bytes, the namespaces need {}", path,
                                            end < 0 ? 0 : end, need));
        }
    }
    return std::make_unique<FileBacking>(std::move(fd), base, size);
}

Result<std::unique_ptr<Backing>> make_memory_backing(uint64_t size) {
    // MAP_NORESERVE: pages exist once written, so the size may exceed RAM
    // as long as the data written does not.
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        return fail(errno, fmt::format("cannot reserve {} bytes of memory for the namespace: {}",
                                       size, std::strerror(errno)));
    }
    return std::make_unique<MemoryBacking>(static_cast<std::byte*>(p), size);
}

} // namespace pciem::nvme
