// SPDX-License-Identifier: MIT
#include "pciem/device.hpp"

#include <cerrno>
#include <cstring>

#include <sys/ioctl.h>

#include <fmt/format.h>

#include "pciem/address.hpp"
#include "pciem/error_text.hpp"

namespace pciem {

Result<pciem_dev_info> query_dev_info(int device_fd) {
    pciem_dev_info info{};
    info.size = sizeof(info);
    if (::ioctl(device_fd, PCIEM_IOC_DEV_INFO, &info) < 0) {
        const int e = errno;
        return fail(e, describe_errno(e, "PCIEM_IOC_DEV_INFO"));
    }
    return info;
}

Result<void> back_bar(int device_fd, unsigned bar, uint64_t offset, void* addr, uint64_t len) {
    pciem_bar_backing req{};
    req.size = sizeof(req);
    req.bar = bar;
    req.offset = offset;
    req.len = len;
    req.addr = reinterpret_cast<uintptr_t>(addr);
    if (::ioctl(device_fd, PCIEM_IOC_BAR_BACKING, &req) < 0) {
        const int e = errno;
        return fail(e, describe_errno(e, fmt::format("PCIEM_IOC_BAR_BACKING of BAR {} bytes "
                                                     "{:#x}..{:#x}",
                                                     bar, offset, offset + len)));
    }
    return {};
}

std::string state_name(uint32_t state) {
    switch (state) {
    case PCIEM_STATE_PRESENT:
        return "present";
    case PCIEM_STATE_DETACHED:
        return "detached";
    case PCIEM_STATE_NOT_STARTED:
        return "not-started";
    case PCIEM_STATE_REMOVING:
        return "removing";
    case PCIEM_STATE_PULLED:
        return "pulled";
    default:
        return fmt::format("state-{}", state);
    }
}

Result<pciem_dev_info> Device::info() const {
    return query_dev_info(fd_.get());
}

Result<void> Device::start() {
    if (::ioctl(fd_.get(), PCIEM_IOC_START) < 0) {
        const int e = errno;
        return fail(e, describe_errno(e, fmt::format("PCIEM_IOC_START of {}", address())));
    }
    auto now = query_dev_info(fd_.get());
    if (!now) {
        return std::unexpected(now.error());
    }
    // Only the BAR addresses change at start; the address fields others
    // may be reading concurrently stay untouched.
    for (unsigned i = 0; i < PCIEM_MAX_BARS; ++i) {
        info_.bar_start[i] = now->bar_start[i];
    }
    return {};
}

std::string Device::address() const {
    return format_pci_address(info_.domain, info_.bus, info_.devfn);
}

Result<DmaWindowFile> dma_window_file(int device_fd, bool confined) {
    pciem_dma_window_fd req{};
    req.size = sizeof(req);
    req.flags = confined ? PCIEM_DMA_WINDOW_FD_F_CONFINED : 0;
    if (::ioctl(device_fd, PCIEM_IOC_DMA_WINDOW_FD, &req) != 0) {
        const int e = errno;
        return fail(e, e == ENXIO ? std::string("the function has no DMA window to hand out "
                                                "(create it with a window first)")
                                  : fmt::format("PCIEM_IOC_DMA_WINDOW_FD: {}", std::strerror(e)));
    }
    DmaWindowFile w;
    w.fd = UniqueFd(req.fd);
    w.size = req.window_size;
    w.bus_base = req.bus_base;
    return w;
}

} // namespace pciem
