// SPDX-License-Identifier: MIT
#include "pciem/device.hpp"

#include <cerrno>

#include <sys/ioctl.h>

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

Result<pciem_dev_info> Device::info() const {
    return query_dev_info(fd_.get());
}

std::string Device::address() const {
    return format_pci_address(info_.domain, info_.bus, info_.devfn);
}

} // namespace pciem
