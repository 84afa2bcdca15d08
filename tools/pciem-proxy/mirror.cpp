// SPDX-License-Identifier: MIT
#include "mirror.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <set>

#include <fmt/format.h>
#include <linux/pci_regs.h>

namespace pciem::proxy {

namespace {

// Where the proxy places the server's BARs in the server's own address
// space: below 4 GiB for 32-bit BARs, high above RAM for 64-bit ones.
constexpr uint64_t server_bar32_base = 0xc000'0000;
constexpr uint64_t server_bar64_base = 0x80'0000'0000;

class ConfigView {
public:
    explicit ConfigView(const std::vector<uint8_t>& c) : c_(c) {}
    [[nodiscard]] uint8_t u8(size_t at) const { return at < c_.size() ? c_[at] : 0; }
    [[nodiscard]] uint16_t u16(size_t at) const { return u8(at) | (u8(at + 1) << 8); }
    [[nodiscard]] uint32_t u32(size_t at) const {
        return u16(at) | (static_cast<uint32_t>(u16(at + 2)) << 16);
    }
    [[nodiscard]] std::vector<uint8_t> bytes(size_t at, size_t len) const {
        std::vector<uint8_t> out;
        for (size_t i = 0; i < len; ++i) {
            out.push_back(u8(at + i));
        }
        return out;
    }
    [[nodiscard]] size_t size() const { return c_.size(); }

private:
    const std::vector<uint8_t>& c_;
};

// The expansion ROM: the function gets one of the same size, whose reads
// the proxy forwards as reads of the server's ROM region. The server gets
// an address for it below 4 GiB from `next32` (QEMU answers reads of a
// ROM only while it is mapped: enabled at an address).
void mirror_rom(const vfio_user::RegionInfo& rom, bool have_window32, uint64_t& next32,
                Mirror& m) {
    const uint64_t size = rom.size;
    if (size == 0) {
        return;
    }
    if ((rom.flags & VFIO_REGION_INFO_FLAG_READ) == 0) {
        m.notes.push_back(fmt::format("the expansion ROM ({} bytes) cannot be read from the "
                                      "server: it is left out",
                                      size));
    } else if (!std::has_single_bit(size) || size < 2048 || size > PCIEM_MAX_ROM) {
        m.notes.push_back(fmt::format("the expansion ROM has {} bytes, not a power of two from "
                                      "2 KiB to 16 MiB: it is left out",
                                      size));
    } else if (!have_window32) {
        m.notes.push_back(fmt::format("the expansion ROM ({} bytes) needs an address below "
                                      "4 GiB, and PCIem has no window there: it is left out",
                                      size));
    } else {
        m.spec.rom(size);
        next32 = (next32 + size - 1) & ~(size - 1);
        m.server_rom_address = next32;
        next32 += size;
    }
}

void mirror_bars(const ServerDevice& dev, const ConfigView& cfg, bool have_window32, Mirror& m) {
    uint64_t next32 = server_bar32_base;
    uint64_t next64 = server_bar64_base;
    for (unsigned i = 0; i < 6; ++i) {
        const uint64_t size = dev.regions[i].size;
        if (size == 0) {
            continue;
        }
        const uint32_t reg = cfg.u32(PCI_BASE_ADDRESS_0 + 4 * i);
        if ((reg & PCI_BASE_ADDRESS_SPACE_IO) != 0) {
            m.notes.push_back(fmt::format("BAR {} is an I/O BAR of {} bytes, which PCIem cannot "
                                          "trap: it is left out",
                                          i, size));
            continue;
        }
        if (!std::has_single_bit(size) || size < 16) {
            m.notes.push_back(fmt::format("BAR {} has {} bytes, not a power of two of at least "
                                          "16: it is left out",
                                          i, size));
            continue;
        }
        const bool is64 = (reg & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64;
        if (is64 && i == 5) {
            m.notes.push_back("BAR 5 claims to be 64-bit, which needs a sixth slot: left out");
            continue;
        }
        const bool prefetch = (reg & PCI_BASE_ADDRESS_MEM_PREFETCH) != 0;
        Bar bar = is64 ? Bar::mem64(size) : Bar::mem32(size);
        if (!is64 && !have_window32) {
            bar = Bar::mem64(size);
            m.notes.push_back(fmt::format("BAR {} is 32-bit, but PCIem has no window below 4 GiB: "
                                          "it is shown as 64-bit",
                                          i));
        }
        m.spec.bar(i, bar.prefetchable(prefetch));
        uint64_t& next = is64 ? next64 : next32;
        next = (next + size - 1) & ~(size - 1);
        m.server_bar_address[i] = next;
        m.bar_present[i] = true;
        next += size;
        if (is64) {
            ++i; // the upper half
        }
    }
    mirror_rom(dev.regions[VFIO_PCI_ROM_REGION_INDEX], have_window32, next32, m);
}

unsigned link_width(unsigned w) {
    return w == 1 || w == 2 || w == 4 || w == 8 || w == 16 || w == 32 ? w : 1;
}

// One standard capability at `at` with ID `id`; `room` bytes until the
// next capability (or the end of the standard space).
void mirror_cap(const ConfigView& cfg, uint8_t id, uint16_t at, size_t room, Mirror& m) {
    switch (id) {
    case PCI_CAP_ID_PM: {
        const uint16_t pmc = cfg.u16(at + PCI_PM_PMC);
        uint32_t flags = 0;
        flags |= (pmc & PCI_PM_CAP_D1) != 0 ? PCIEM_PM_D1 : 0;
        flags |= (pmc & PCI_PM_CAP_D2) != 0 ? PCIEM_PM_D2 : 0;
        flags |= (pmc & PCI_PM_CAP_PME_MASK) != 0 ? PCIEM_PM_PME : 0;
        flags |= (cfg.u16(at + PCI_PM_CTRL) & PCI_PM_CTRL_NO_SOFT_RESET) != 0
                     ? PCIEM_PM_NO_SOFT_RESET
                     : 0;
        m.spec.pm(flags, at);
        return;
    }
    case PCI_CAP_ID_MSI: {
        const uint16_t ctrl = cfg.u16(at + PCI_MSI_FLAGS);
        const uint32_t vectors = 1u << ((ctrl & PCI_MSI_FLAGS_QMASK) >> 1);
        m.spec.msi(vectors, (ctrl & PCI_MSI_FLAGS_64BIT) != 0, (ctrl & PCI_MSI_FLAGS_MASKBIT) != 0,
                   at);
        m.msi = MsiLayout{at, vectors};
        return;
    }
    case PCI_CAP_ID_MSIX: {
        const uint16_t ctrl = cfg.u16(at + PCI_MSIX_FLAGS);
        const uint32_t table = cfg.u32(at + PCI_MSIX_TABLE);
        const uint32_t pba = cfg.u32(at + PCI_MSIX_PBA);
        const uint32_t vectors = (ctrl & PCI_MSIX_FLAGS_QSIZE) + 1;
        m.spec.msix(vectors, table & PCI_MSIX_TABLE_BIR, table & PCI_MSIX_TABLE_OFFSET,
                    pba & PCI_MSIX_PBA_BIR, pba & PCI_MSIX_PBA_OFFSET, at);
        m.msix = MsixLayout{at, vectors, table & PCI_MSIX_TABLE_BIR, table & PCI_MSIX_TABLE_OFFSET};
        return;
    }
    case PCI_CAP_ID_EXP: {
        const uint16_t flags = cfg.u16(at + PCI_EXP_FLAGS);
        if ((flags & PCI_EXP_FLAGS_VERS) < 2 || room < PCI_CAP_EXP_ENDPOINT_SIZEOF_V2) {
            // A version 1 capability (QEMU's e1000e: 20 bytes at E0h)
            // has no room for the version 2 layout pciem.ko emulates,
            // which alone may carry the PCIe ID: the function is shown
            // as conventional PCI.
            m.notes.push_back(fmt::format("the PCIe capability at {:#x} is version {}, too "
                                          "short for PCIem's: left out (no FLR)",
                                          at, flags & PCI_EXP_FLAGS_VERS));
            return;
        }
        const uint32_t devcap = cfg.u32(at + PCI_EXP_DEVCAP);
        const uint32_t lnkcap = cfg.u32(at + PCI_EXP_LNKCAP);
        uint8_t type = (flags & PCI_EXP_FLAGS_TYPE) >> 4;
        if (type != PCIEM_PCIE_ENDPOINT && type != PCIEM_PCIE_LEGACY_ENDPOINT &&
            type != PCIEM_PCIE_RC_ENDPOINT && type != PCIEM_PCIE_RC_EC) {
            m.notes.push_back(fmt::format("the PCIe capability's port type {:#x} is shown as an "
                                          "endpoint",
                                          type));
            type = PCIEM_PCIE_ENDPOINT;
        }
        m.pcie = true;
        uint32_t pflags = 0;
        pflags |= (devcap & PCI_EXP_DEVCAP_FLR) != 0 ? PCIEM_PCIE_FLR : 0;
        pflags |= (devcap & PCI_EXP_DEVCAP_EXT_TAG) != 0 ? PCIEM_PCIE_EXT_TAG : 0;
        const unsigned speed = lnkcap & PCI_EXP_LNKCAP_SLS;
        m.spec.pcie(type, std::min<unsigned>(devcap & PCI_EXP_DEVCAP_PAYLOAD, 5),
                    speed >= 1 && speed <= 5 ? speed : 1,
                    link_width((lnkcap & PCI_EXP_LNKCAP_MLW) >> 4), pflags, at);
        return;
    }
    case PCI_CAP_ID_VNDR: {
        const uint8_t len = cfg.u8(at + 2);
        const size_t body = len > 3 ? std::min<size_t>(len - 3, room > 3 ? room - 3 : 0) : 0;
        m.spec.vendor(cfg.bytes(at + 3, body), at);
        return;
    }
    default:
        // Anything else as the server shows it, read-only, up to the next
        // capability.
        m.spec.raw(id, cfg.bytes(at + 2, std::min<size_t>(room > 2 ? room - 2 : 0, 64)), at);
        m.notes.push_back(fmt::format("capability {:#04x} at {:#x} is shown read-only", id, at));
        return;
    }
}

Result<void> mirror_caps(const ConfigView& cfg, Mirror& m) {
    if ((cfg.u16(PCI_STATUS) & PCI_STATUS_CAP_LIST) == 0) {
        return {};
    }
    // The chain's offsets first, to know how far each capability may
    // reach, and to refuse loops.
    std::vector<uint16_t> chain;
    std::set<uint16_t> seen;
    for (uint16_t at = cfg.u8(PCI_CAPABILITY_LIST) & ~3u; at != 0;
         at = cfg.u8(at + PCI_CAP_LIST_NEXT) & ~3u) {
        if (at < 0x40 || at > 0xfc) {
            return fail(EPROTO, fmt::format("the server's capability list points to {:#x}, "
                                            "outside 40h..FFh",
                                            at));
        }
        if (!seen.insert(at).second) {
            return fail(EPROTO, fmt::format("the server's capability list loops at {:#x}", at));
        }
        chain.push_back(at);
    }
    std::vector<uint16_t> sorted = chain;
    std::sort(sorted.begin(), sorted.end());
    for (uint16_t at : chain) {
        const auto next = std::upper_bound(sorted.begin(), sorted.end(), at);
        const size_t room = (next == sorted.end() ? 0x100 : *next) - at;
        mirror_cap(cfg, cfg.u8(at + PCI_CAP_LIST_ID), at, room, m);
    }
    return {};
}

Result<void> mirror_ext_caps(const ConfigView& cfg, Mirror& m) {
    if (cfg.size() <= 0x100 || cfg.u32(0x100) == 0 || cfg.u32(0x100) == 0xffffffff) {
        return {};
    }
    if (!m.pcie) {
        // pciem.ko offers extended config space only beside the PCIe
        // capability it emulates.
        m.notes.push_back("the extended capabilities are left out: they need a version 2 PCIe "
                          "capability");
        return {};
    }
    std::vector<std::pair<uint16_t, uint32_t>> chain;
    std::set<uint16_t> seen;
    for (uint16_t at = 0x100; at != 0;) {
        const uint32_t h = cfg.u32(at);
        if (h == 0 || h == 0xffffffff) {
            break;
        }
        if (at < 0x100 || at > 0xffc || !seen.insert(at).second) {
            return fail(EPROTO, fmt::format("the server's extended capability list is broken at "
                                            "{:#x}",
                                            at));
        }
        chain.emplace_back(at, h);
        at = PCI_EXT_CAP_NEXT(h);
    }
    std::vector<uint16_t> sorted;
    for (const auto& [at, h] : chain) {
        sorted.push_back(at);
    }
    std::sort(sorted.begin(), sorted.end());
    for (const auto& [at, h] : chain) {
        const auto next = std::upper_bound(sorted.begin(), sorted.end(), at);
        const size_t room = (next == sorted.end() ? 0x1000 : *next) - at;
        switch (PCI_EXT_CAP_ID(h)) {
        case PCI_EXT_CAP_ID_ERR:
            m.spec.aer(at);
            break;
        case PCI_EXT_CAP_ID_DSN:
            m.spec.dsn(cfg.u32(at + 4) | (static_cast<uint64_t>(cfg.u32(at + 8)) << 32), at);
            break;
        default:
            m.spec.ext_raw(PCI_EXT_CAP_ID(h), PCI_EXT_CAP_VER(h),
                           cfg.bytes(at + 4, std::min<size_t>(room - 4, 64)), at);
            m.notes.push_back(fmt::format("extended capability {:#06x} at {:#x} is shown "
                                          "read-only",
                                          PCI_EXT_CAP_ID(h), at));
            break;
        }
    }
    return {};
}

} // namespace

Result<Mirror> mirror_device(const ServerDevice& dev, bool have_window32) {
    if (dev.config.size() < 0x40) {
        return fail(EPROTO, fmt::format("the server's config space has {} bytes, less than the "
                                        "64 of a header",
                                        dev.config.size()));
    }
    const ConfigView cfg(dev.config);
    if ((cfg.u8(PCI_HEADER_TYPE) & 0x7f) != PCI_HEADER_TYPE_NORMAL) {
        return fail(EPROTO, fmt::format("the server's device has header type {:#x}: only "
                                        "endpoints (type 0) can be forwarded",
                                        cfg.u8(PCI_HEADER_TYPE) & 0x7f));
    }
    Mirror m;
    m.spec.ids(cfg.u16(PCI_VENDOR_ID), cfg.u16(PCI_DEVICE_ID))
        .subsystem(cfg.u16(PCI_SUBSYSTEM_VENDOR_ID), cfg.u16(PCI_SUBSYSTEM_ID))
        .class_code(cfg.u32(PCI_CLASS_REVISION) >> 8)
        .revision(cfg.u8(PCI_REVISION_ID));
    const uint8_t pin = cfg.u8(PCI_INTERRUPT_PIN);
    if (pin >= 1 && pin <= 4 && dev.irq_counts[VFIO_PCI_INTX_IRQ_INDEX] != 0) {
        m.spec.interrupt_pin(static_cast<InterruptPin>(pin));
        m.intx = true;
    }
    mirror_bars(dev, cfg, have_window32, m);
    if (auto ok = mirror_caps(cfg, m); !ok) {
        return std::unexpected(ok.error());
    }
    if (auto ok = mirror_ext_caps(cfg, m); !ok) {
        return std::unexpected(ok.error());
    }
    return m;
}

} // namespace pciem::proxy
