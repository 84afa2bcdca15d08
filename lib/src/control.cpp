// SPDX-License-Identifier: MIT
#include "pciem/control.hpp"

#include <cerrno>

#include <fcntl.h>
#include <sys/ioctl.h>

#include <fmt/format.h>

#include "pciem/error_text.hpp"

namespace pciem {

Result<Control> Control::open(const std::string& path) {
    // O_CLOEXEC: a device model that spawns helpers must not leak the
    // control node (or, below, device fds) into them.
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        const int e = errno;
        return fail(e, describe_open_error(e, path));
    }
    Control control{UniqueFd{fd}, path};
    // Agree on the ABI before anything else: the layout of every other
    // request depends on it, and a module of another version would refuse
    // them with bare errnos (EPROTO, EINVAL) or, worse, misread them.
    // PCIEM_IOC_GET_INFO is the one request every version answers alike
    // (docs/abi.md, "Versions").
    auto info = control.info();
    if (!info) {
        return std::unexpected(info.error());
    }
    if (info->abi_version != PCIEM_ABI_VERSION) {
        return fail(EPROTO, describe_abi_mismatch(info->abi_version, path));
    }
    return control;
}

Result<pciem_info> Control::info() const {
    pciem_info info{};
    info.size = sizeof(info);
    if (::ioctl(fd_.get(), PCIEM_IOC_GET_INFO, &info) < 0) {
        const int e = errno;
        return fail(e, describe_errno(e, fmt::format("PCIEM_IOC_GET_INFO on {}", path_)));
    }
    return info;
}

Result<Device> Control::create(const DeviceSpec& spec, uint32_t create_flags) const {
    auto req = spec.build();
    if (!req) {
        return std::unexpected(req.error());
    }
    req->create().flags |= create_flags;
    // The ioctl returns the new device fd (created O_CLOEXEC by the
    // kernel) and fills req->create().error on failure.
    const int dev_fd = ::ioctl(fd_.get(), PCIEM_IOC_CREATE, &req->create());
    if (dev_fd < 0) {
        const int e = errno;
        return fail(e, describe_create_error(e, req->create().error, spec));
    }
    UniqueFd owned{dev_fd};
    auto info = query_dev_info(owned.get());
    if (!info) {
        // Dropping `owned` removes the half-reported function again.
        return std::unexpected(info.error());
    }
    return Device{std::move(owned), *info};
}

Result<uint32_t> Control::inject(const PciAddress& at, const FaultRequest& fault) const {
    auto q = fault.build(at.domain, at.bus, at.devfn);
    if (!q) {
        return std::unexpected(q.error());
    }
    if (::ioctl(fd_.get(), PCIEM_IOC_INJECT, &*q) < 0) {
        const int e = errno;
        const FaultInfo* info = find_fault(fault.fault);
        std::string why;
        switch (e) {
        case ENODEV:
            why = "there is no such PCIem function (pciemctl list shows them), or it is not on "
                  "the bus";
            break;
        case EOPNOTSUPP:
            why = "AER needs a Root Complex Integrated Endpoint with an AER capability: start "
                  "the model with --aer";
            break;
        case EALREADY:
            why = "it is in that state already (removed, link down) or not in the one this "
                  "undoes";
            break;
        case EAGAIN:
            why = "the driver has enabled neither MSI nor MSI-X";
            break;
        case ENOSPC:
            why = "the function has 64 rules already; clear some";
            break;
        default:
            why = describe_errno(e, "PCIEM_IOC_INJECT");
        }
        return fail(e, fmt::format("{} on {}: {}", info ? info->name : "fault",
                                   format_pci_address(at), why));
    }
    return q->id;
}

Result<void> Control::clear_faults(const PciAddress& at, uint32_t id) const {
    pciem_inject_clear q{};
    q.size = sizeof(q);
    q.domain = at.domain;
    q.bus = at.bus;
    q.devfn = at.devfn;
    q.id = id;
    if (::ioctl(fd_.get(), PCIEM_IOC_INJECT_CLEAR, &q) < 0) {
        const int e = errno;
        return fail(
            e, e == ENOENT   ? fmt::format("{} has no fault rule {}", format_pci_address(at), id)
               : e == ENODEV ? fmt::format("there is no PCIem function {}", format_pci_address(at))
                             : describe_errno(e, "PCIEM_IOC_INJECT_CLEAR"));
    }
    return {};
}

Result<UniqueFd> Control::record(const PciAddress& at, uint32_t buffer_kb) const {
    pciem_record_req q{};
    q.size = sizeof(q);
    q.domain = at.domain;
    q.bus = at.bus;
    q.devfn = at.devfn;
    q.buffer_kb = buffer_kb;
    const int fd = ::ioctl(fd_.get(), PCIEM_IOC_RECORD, &q);
    if (fd < 0) {
        const int e = errno;
        return fail(
            e, e == EBUSY    ? fmt::format("{} is being recorded already", format_pci_address(at))
               : e == ENODEV ? fmt::format("there is no PCIem function {}", format_pci_address(at))
               : e == EINVAL ? std::string("the buffer must be 64 KiB to 1 GiB")
                             : describe_errno(e, "PCIEM_IOC_RECORD"));
    }
    return UniqueFd{fd};
}

Result<std::vector<pciem_list_entry>> Control::list() const {
    // The set can change between calls: grow to what the kernel reported
    // and ask again until everything fit. Bounded, so a device storm
    // cannot spin us forever.
    std::vector<pciem_list_entry> entries(16);
    for (int attempt = 0; attempt < 8; ++attempt) {
        pciem_list req{};
        req.size = sizeof(req);
        req.entry_size = sizeof(pciem_list_entry);
        req.capacity = static_cast<uint32_t>(entries.size());
        req.entries_ptr = reinterpret_cast<uintptr_t>(entries.data());
        if (::ioctl(fd_.get(), PCIEM_IOC_LIST, &req) < 0) {
            const int e = errno;
            return fail(e, describe_errno(e, fmt::format("PCIEM_IOC_LIST on {}", path_)));
        }
        if (req.count <= req.capacity) {
            entries.resize(req.count);
            return entries;
        }
        entries.assign(req.count + 8, pciem_list_entry{});
    }
    return fail(EAGAIN, "PCIEM_IOC_LIST: the device list kept growing while being read; "
                        "try again (EAGAIN)");
}

} // namespace pciem
