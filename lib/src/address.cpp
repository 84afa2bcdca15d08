// SPDX-License-Identifier: MIT
#include "pciem/address.hpp"

#include <fmt/format.h>

namespace pciem {

std::string format_pci_address(uint32_t domain, uint8_t bus, uint8_t devfn) {
    return fmt::format("{:04x}:{:02x}:{:02x}.{}", domain, bus, devfn_slot(devfn),
                       devfn_function(devfn));
}

} // namespace pciem
