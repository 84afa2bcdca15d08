// SPDX-License-Identifier: MIT
//
// Mirror: what the server's device looks like, turned into the PCIem
// function that stands for it. Pure (no I/O), so the unit tests feed it
// config spaces byte by byte.
//
// The PCIem function copies identity, BARs (sizes from the server's
// region info, type and prefetchability from its BAR registers) and the
// capability chain at the server's own offsets, so `lspci -vvv` reads as
// it does for the same model on QEMU's bus. pciem.ko then emulates the
// header and the capabilities (masking, MSI-X table, PBA); BAR accesses
// are forwarded.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pciem/device_spec.hpp"
#include "pciem/error.hpp"
#include "pciem/unique_fd.hpp"
#include "pciem/vfio_user/wire.hpp"

namespace pciem::proxy {

// Everything the proxy learns from the server before creating the
// function.
struct ServerDevice {
    vfio_user::DeviceInfo info{};
    // BAR0..5, ROM, CONFIG; size 0 where the server has no such region.
    std::array<vfio_user::RegionInfo, VFIO_PCI_NUM_REGIONS> regions{};
    // The fd of each region the server offers as mmap()able (else -1).
    std::array<UniqueFd, VFIO_PCI_NUM_REGIONS> region_fds{};
    // INTx, MSI, MSI-X: vector counts (0 where absent).
    std::array<uint32_t, 3> irq_counts{};
    // The server's config space (256 or 4096 bytes).
    std::vector<uint8_t> config;
};

struct MsixLayout {
    uint16_t cap_offset = 0;
    uint32_t vectors = 0;
    unsigned table_bar = 0;
    uint32_t table_offset = 0;
};

struct MsiLayout {
    uint16_t cap_offset = 0;
    uint32_t vectors = 0;
};

// What the proxy needs to drive the server later, found while mirroring.
struct Mirror {
    DeviceSpec spec;
    std::optional<MsixLayout> msix;
    std::optional<MsiLayout> msi;
    // Addresses the proxy programs into the server's BAR registers (the
    // server wants them set before BAR accesses; any non-overlapping
    // values do, its DMA space is separate).
    std::array<uint64_t, 6> server_bar_address{};
    std::array<bool, 6> bar_present{};
    // Where the server's expansion ROM is enabled; 0 when the function has
    // no ROM.
    uint64_t server_rom_address = 0;
    // The server has an INTx and the function shows its pin.
    bool intx = false;
    // The function has a (version 2) PCIe capability.
    bool pcie = false;
    // Things the PCIem function cannot show (I/O BARs, a ROM it cannot
    // place), one sentence each, for the proxy to print.
    std::vector<std::string> notes;
};

// have_window32: PCIem took a window below 4 GiB (pciem_info); without
// one, 32-bit BARs become 64-bit ones (drivers of such devices take
// either; a note says so).
Result<Mirror> mirror_device(const ServerDevice& dev, bool have_window32 = true);

} // namespace pciem::proxy
