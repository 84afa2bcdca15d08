// SPDX-License-Identifier: MIT
#include "pciem/address.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>

#include <fmt/format.h>

namespace pciem {

std::string format_pci_address(uint32_t domain, uint8_t bus, uint8_t devfn) {
    return fmt::format("{:04x}:{:02x}:{:02x}.{}", domain, bus, devfn_slot(devfn),
                       devfn_function(devfn));
}

std::string format_pci_address(const PciAddress& a) {
    return format_pci_address(a.domain, a.bus, a.devfn);
}

namespace {

// One hexadecimal field that must hold at most @max; consumes it.
bool hex_field(std::string_view& s, size_t digits_max, uint32_t max, uint32_t& out) {
    const char* end = s.data() + std::min(s.size(), digits_max);
    auto [p, ec] = std::from_chars(s.data(), end, out, 16);
    if (ec != std::errc{} || p == s.data() || out > max) {
        return false;
    }
    s.remove_prefix(static_cast<size_t>(p - s.data()));
    return true;
}

bool expect(std::string_view& s, char c) {
    if (s.empty() || s.front() != c) {
        return false;
    }
    s.remove_prefix(1);
    return true;
}

} // namespace

Result<PciAddress> parse_pci_address(std::string_view text) {
    std::string_view s = text;
    uint32_t domain = 0, bus = 0, slot = 0, function = 0;
    // With a domain there are three colon-separated parts before the dot.
    const bool has_domain = std::count(text.begin(), text.end(), ':') == 2;
    bool ok = (!has_domain || (hex_field(s, 8, 0xffffffff, domain) && expect(s, ':'))) &&
              hex_field(s, 2, 0xff, bus) && expect(s, ':') && hex_field(s, 2, 0x1f, slot) &&
              expect(s, '.') && hex_field(s, 1, 7, function) && s.empty();
    if (!ok) {
        return fail(EINVAL, fmt::format("'{}' is not a PCI address; write it as lspci does, "
                                        "e.g. 10000:00:03.0",
                                        text));
    }
    return PciAddress{domain, static_cast<uint8_t>(bus), make_devfn(slot, function)};
}

} // namespace pciem
