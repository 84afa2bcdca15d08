// SPDX-License-Identifier: MIT
#include "twin_hosts.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "pciem/unique_fd.hpp"

namespace pciem::twin {
namespace {

constexpr size_t page = 4096;

DmaDirection direction(const std::string& dir) {
    if (dir == "to") {
        return DmaDirection::to_device;
    }
    return dir == "from" ? DmaDirection::from_device : DmaDirection::bidirectional;
}

// The files are debugfs and sysfs attributes: one open, one read or write
// each time, as `echo` and `cat` would.
Result<std::string> read_file(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        return fail(errno, fmt::format("{}: {}", path, std::strerror(errno)));
    }
    char buf[128];
    const ssize_t n = ::read(fd.get(), buf, sizeof(buf) - 1);
    if (n < 0) {
        return fail(errno, fmt::format("reading {}: {}", path, std::strerror(errno)));
    }
    return std::string(buf, static_cast<size_t>(n));
}

Result<void> write_file(const std::string& path, const std::string& text) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd.valid()) {
        return fail(errno, fmt::format("{}: {}", path, std::strerror(errno)));
    }
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
        return fail(errno, fmt::format("writing '{}' to {}: {}", text, path, std::strerror(errno)));
    }
    return {};
}

Result<uint64_t> parse_hex(const std::string& s, const std::string& what) {
    char* end = nullptr;
    errno = 0;
    const uint64_t v = std::strtoull(s.c_str(), &end, 0);
    if (errno != 0 || end == s.c_str()) {
        return fail(EIO, fmt::format("{}: '{}' is not a number", what, s));
    }
    return v;
}

} // namespace

// ---- the SimHost ------------------------------------------------------------

Result<std::unique_ptr<SimDriver>> SimDriver::create() {
    std::unique_ptr<SimDriver> d(new SimDriver());
    auto host = SimHost::create(d->model_);
    if (!host) {
        return std::unexpected(host.error());
    }
    d->host_ = std::move(*host);
    d->page_.reset(static_cast<std::byte*>(std::aligned_alloc(page, page)));
    if (!d->page_) {
        return fail(ENOMEM, "no memory for the DMA page");
    }
    std::memset(d->page_.get(), 0xa5, page);
    return d;
}

Result<uint32_t> SimDriver::cfg_read(uint32_t offset, unsigned size) {
    return host_->cfg_read(static_cast<uint16_t>(offset), size);
}

Result<void> SimDriver::cfg_write(uint32_t offset, unsigned size, uint32_t value) {
    host_->cfg_write(static_cast<uint16_t>(offset), size, value);
    return {};
}

Result<uint32_t> SimDriver::read(uint32_t offset) {
    // What readl() gives when nothing answers: all-ones.
    return static_cast<uint32_t>(host_->read(0, offset, 4).value_or(0xffffffffu));
}

Result<void> SimDriver::write(uint32_t offset, uint32_t value) {
    host_->write(0, offset, 4, value);
    return {};
}

Result<uint64_t> SimDriver::dma_map(const std::string& dir) {
    // As the test driver: a fresh page of 0xa5, mapped, then
    // pci_set_master().
    if (bus_ != 0) {
        host_->dma().unmap(bus_);
    }
    std::memset(page_.get(), 0xa5, page);
    bus_ = host_->dma().map({page_.get(), page}, direction(dir));
    const uint32_t cmd = host_->cfg_read(0x04, 2);
    host_->cfg_write(0x04, 2, cmd | 0x4);
    return bus_;
}

Result<void> SimDriver::dma_unmap() {
    if (bus_ != 0) {
        host_->dma().unmap(bus_);
    }
    bus_ = 0;
    return {};
}

Result<uint32_t> SimDriver::dma_word() {
    uint32_t w = 0;
    std::memcpy(&w, page_.get(), sizeof(w));
    return w;
}

// ---- pciem.ko -----------------------------------------------------------------

Result<std::unique_ptr<KernelDriver>> KernelDriver::open(const std::string& addr) {
    std::unique_ptr<KernelDriver> d(new KernelDriver());
    d->config_ = "/sys/bus/pci/devices/" + addr + "/config";
    const std::string dbg = "/sys/kernel/debug/pciem_mmio_test/" + addr;
    d->reg_ = dbg + "/reg";
    d->dmabuf_ = dbg + "/dmabuf";
    for (const std::string* p : {&d->config_, &d->reg_, &d->dmabuf_}) {
        if (::access(p->c_str(), R_OK | W_OK) != 0) {
            return fail(errno, fmt::format("{}: {} (is pciem_mmio_test bound to {}, debugfs mounted, "
                                           "and are you root?)",
                                           *p, std::strerror(errno), addr));
        }
    }
    return d;
}

Result<uint32_t> KernelDriver::cfg_read(uint32_t offset, unsigned size) {
    UniqueFd fd(::open(config_.c_str(), O_RDONLY | O_CLOEXEC));
    uint32_t v = 0;
    if (!fd.valid() || ::pread(fd.get(), &v, size, offset) != static_cast<ssize_t>(size)) {
        return fail(errno, fmt::format("config read at {:#x}: {}", offset, std::strerror(errno)));
    }
    return v; // little-endian, the upper bytes stay 0
}

Result<void> KernelDriver::cfg_write(uint32_t offset, unsigned size, uint32_t value) {
    UniqueFd fd(::open(config_.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd.valid() || ::pwrite(fd.get(), &value, size, offset) != static_cast<ssize_t>(size)) {
        return fail(errno, fmt::format("config write at {:#x}: {}", offset, std::strerror(errno)));
    }
    return {};
}

Result<uint32_t> KernelDriver::read(uint32_t offset) {
    if (auto r = write_file(reg_, fmt::format("{:#x}", offset)); !r) {
        return std::unexpected(r.error());
    }
    auto text = read_file(reg_);
    if (!text) {
        return std::unexpected(text.error());
    }
    auto v = parse_hex(*text, reg_);
    if (!v) {
        return std::unexpected(v.error());
    }
    return static_cast<uint32_t>(*v);
}

Result<void> KernelDriver::write(uint32_t offset, uint32_t value) {
    return write_file(reg_, fmt::format("{:#x} {:#x}", offset, value));
}

Result<uint64_t> KernelDriver::dma_map(const std::string& dir) {
    if (auto r = write_file(dmabuf_, "map " + dir); !r) {
        return std::unexpected(r.error());
    }
    auto text = read_file(dmabuf_);
    if (!text) {
        return std::unexpected(text.error());
    }
    return parse_hex(*text, dmabuf_); // "BUS WORD": the first field
}

Result<void> KernelDriver::dma_unmap() {
    return write_file(dmabuf_, "unmap");
}

Result<uint32_t> KernelDriver::dma_word() {
    auto text = read_file(dmabuf_);
    if (!text) {
        return std::unexpected(text.error());
    }
    const auto space = text->find(' ');
    if (space == std::string::npos) {
        return fail(EIO, fmt::format("{}: no page ('{}')", dmabuf_, *text));
    }
    auto v = parse_hex(text->substr(space + 1), dmabuf_);
    if (!v) {
        return std::unexpected(v.error());
    }
    return static_cast<uint32_t>(*v);
}

} // namespace pciem::twin
