// SPDX-License-Identifier: MIT
//
// PCI addresses in the form sysfs and lspci use: DDDD:BB:DD.F. PCIem's
// domain is >= 0x10000 (so it never collides with firmware domains), which
// prints as five digits: "10000:00:03.0".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "pciem/error.hpp"

namespace pciem {

std::string format_pci_address(uint32_t domain, uint8_t bus, uint8_t devfn);

// A function's place: what `pciemctl list` and lspci print.
struct PciAddress {
    uint32_t domain = 0;
    uint8_t bus = 0;
    uint8_t devfn = 0;
};

// "DDDD:BB:DD.F" (or "BB:DD.F" in domain 0), hexadecimal as lspci prints.
Result<PciAddress> parse_pci_address(std::string_view text);
std::string format_pci_address(const PciAddress& a);

constexpr uint8_t make_devfn(unsigned slot, unsigned function) {
    return static_cast<uint8_t>(((slot & 0x1f) << 3) | (function & 0x7));
}
constexpr unsigned devfn_slot(uint8_t devfn) {
    return devfn >> 3;
}
constexpr unsigned devfn_function(uint8_t devfn) {
    return devfn & 0x7;
}

} // namespace pciem
