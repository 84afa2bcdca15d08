// SPDX-License-Identifier: MIT
#include "dma_engine_spec.hpp"

#include <rtl_dma_regs.h>

namespace pciem::devices {

DeviceSpec dma_engine_spec(uint16_t device_id) {
    // BAR0: the registers; BAR2: the MSI-X table and PBA, served by the host.
    return DeviceSpec{}
        .ids(RTL_DMA_VENDOR_ID, device_id)
        .class_code(RTL_DMA_CLASS)
        .bar(0, Bar::mem64(RTL_DMA_BAR0_SIZE))
        .bar(2, Bar::mem64(RTL_DMA_BAR2_SIZE))
        .pm()
        .msix(RTL_DMA_MSIX_VECTORS, 2, 0, 2, RTL_DMA_MSIX_PBA)
        .pcie(PCIEM_PCIE_ENDPOINT);
}

} // namespace pciem::devices
