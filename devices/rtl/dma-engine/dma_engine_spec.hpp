// SPDX-License-Identifier: MIT
//
// The example DMA engine's config space, shared by the RTL device and its
// C++ reference model so the same driver binds to either.
#pragma once

#include "pciem/device_spec.hpp"

namespace pciem::devices {

// `device_id` lets a test tell the two apart in lspci; both drivers match.
DeviceSpec dma_engine_spec(uint16_t device_id);

} // namespace pciem::devices
