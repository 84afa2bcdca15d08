// SPDX-License-Identifier: MIT
#include "pciem/error_text.hpp"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include <pciem_cfg.h>

namespace pciem {

namespace {

std::string bar_context(unsigned index, const DeviceSpec& spec) {
    const auto bar = spec.bar_at(index);
    if (!bar) {
        return fmt::format("BAR {}", index);
    }
    return fmt::format("BAR {} ({}{}, size {})", index, bar->is_64bit() ? "mem64" : "mem32",
                       bar->is_prefetchable() ? " prefetchable" : "", bar->size());
}

std::string cap_context(unsigned index, const DeviceSpec& spec) {
    const auto& caps = spec.capabilities();
    if (index >= caps.size()) {
        return fmt::format("capability {}", index);
    }
    const auto& cap = caps[index];
    if (cap.record.offset != 0) {
        return fmt::format("capability {} ({} at {:#x})", index, capability_name(cap.type()),
                           cap.record.offset);
    }
    return fmt::format("capability {} ({})", index, capability_name(cap.type()));
}

// What to do, for the errors where there is something specific to do.
std::string hint(uint32_t code, unsigned index) {
    switch (code) {
    case PCIEM_ERR_ABI_VERSION:
        return fmt::format("libpciem speaks ABI version {}; build pciem.ko and the tools from "
                           "the same tree",
                           PCIEM_ABI_VERSION);
    case PCIEM_ERR_DEVFN_BUSY:
        return "choose another slot/function, or leave them out to let PCIem pick";
    case PCIEM_ERR_BUS_FULL:
        return "remove a PCIem device first (pciemctl list shows them)";
    case PCIEM_ERR_BAR_TOO_BIG:
        return "pciemctl info shows the window sizes";
    case PCIEM_ERR_BAR_SLOT:
        return index + 1 < PCIEM_MAX_BARS
                   ? fmt::format("leave BAR {} empty", index + 1)
                   : std::string("BAR 5 cannot be 64-bit; use a lower index");
    case PCIEM_ERR_BAR_NO_SPACE:
        return "remove other PCIem devices or use smaller BARs";
    case PCIEM_ERR_CAP_NEEDS_PCIE:
        return "add a pcie capability";
    case PCIEM_ERR_CAP_NO_ROOM:
        return "use fewer or smaller capabilities";
    case PCIEM_ERR_VENDOR_ID:
        return "use the vendor ID of the device you model";
    default:
        return {};
    }
}

bool is_bar_error(uint32_t code) {
    return code >= PCIEM_ERR_BAR_SIZE && code <= PCIEM_ERR_BAR_NO_SPACE;
}

bool is_cap_error(uint32_t code) {
    return code >= PCIEM_ERR_CAP_TYPE && code <= PCIEM_ERR_CAP_NEEDS_PCIE;
}

} // namespace

std::string errno_name(int errnum) {
    // strerrorname_np (glibc 2.32+) knows every name the kernel can return.
    if (const char* name = ::strerrorname_np(errnum)) {
        return name;
    }
    return fmt::format("errno {}", errnum);
}

std::string describe_create_error(int errnum, const pciem_error& err, const DeviceSpec& spec) {
    if (err.code == PCIEM_ERR_NONE) {
        return describe_errno(errnum, "PCIEM_IOC_CREATE");
    }
    std::string text = pciem_err_str(err.code);
    // Reserved-field and flag errors carry a BAR index from the BAR loop
    // and a capability index from the capability checks; the code alone
    // does not say which, so only the unambiguous codes get context.
    if (is_bar_error(err.code)) {
        text = bar_context(err.index, spec) + ": " + text;
    } else if (is_cap_error(err.code)) {
        text = cap_context(err.index, spec) + ": " + text;
    }
    text += fmt::format(" ({})", errno_name(errnum));
    if (auto h = hint(err.code, err.index); !h.empty()) {
        text += "; " + h;
    }
    return text;
}

std::string describe_open_error(int errnum, std::string_view path) {
    switch (errnum) {
    case ENOENT:
        return fmt::format("{} does not exist: pciem.ko is not loaded (load it with "
                           "`modprobe pciem` or `insmod pciem.ko`) (ENOENT)",
                           path);
    case EACCES:
    case EPERM:
        return fmt::format("{}: permission denied: only root may use PCIem (run as root, "
                           "e.g. with sudo) ({})",
                           path, errno_name(errnum));
    case ENODEV:
    case ENXIO:
        return fmt::format("{}: no PCIem instance behind the node: pciem.ko failed to "
                           "initialise or is being unloaded (see dmesg) ({})",
                           path, errno_name(errnum));
    default:
        return fmt::format("cannot open {}: {} ({})", path, std::strerror(errnum),
                           errno_name(errnum));
    }
}

std::string describe_errno(int errnum, std::string_view what) {
    switch (errnum) {
    case EPROTO:
        return fmt::format("{}: ABI version mismatch between libpciem (version {}) and "
                           "pciem.ko; build both from the same tree (EPROTO)",
                           what, PCIEM_ABI_VERSION);
    case ENOTTY:
        return fmt::format("{}: the node does not understand PCIem ioctls; is it really "
                           "PCIem's control node, and is pciem.ko current? (ENOTTY)",
                           what);
    case EACCES:
    case EPERM:
        return fmt::format("{}: permission denied: run as root ({})", what, errno_name(errnum));
    default:
        return fmt::format("{}: {} ({})", what, std::strerror(errnum), errno_name(errnum));
    }
}

std::string describe_abi_mismatch(uint32_t module_version, std::string_view path) {
    return fmt::format("the pciem.ko behind {} speaks PCIem ABI version {}, but this libpciem "
                       "speaks version {}: install a pciem.ko and a libpciem of the same ABI "
                       "version (the pciem-dkms and libpciem0 packages of one release, or both "
                       "built from one tree; docs/install.md)",
                       path, module_version, PCIEM_ABI_VERSION);
}

} // namespace pciem
