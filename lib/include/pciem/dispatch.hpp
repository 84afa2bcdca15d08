// SPDX-License-Identifier: MIT
//
// The one place a request reaches a model: (bar, offset, size) to the
// BAR's register map, config offsets to the model's config handlers.
// KernelHost and SimHost both call these, so a model behaves the same on
// both, down to which accesses get an answer.
#pragma once

#include <cstdint>
#include <optional>

#include <linux/pciem.h>

#include "pciem/device_model.hpp"

namespace pciem {

// A read of 1, 2, 4 or 8 bytes. nullopt: the model gives no answer (the
// host completes the read as a timeout, all-ones).
std::optional<uint64_t> dispatch_mmio_read(DeviceModel& model, unsigned bar, uint64_t offset,
                                           unsigned size);
void dispatch_mmio_write(DeviceModel& model, unsigned bar, uint64_t offset, unsigned size,
                         uint64_t value);

// A ring slot. Returns the answer of a read; nullopt for writes and for
// reads the model does not answer. Refreshes shadows afterwards, so they
// are current before the host marks the request handled.
std::optional<uint64_t> dispatch_request(DeviceModel& model, const pciem_req& req);

} // namespace pciem
