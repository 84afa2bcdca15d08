// SPDX-License-Identifier: MIT
#include "pciem/dispatch.hpp"

namespace pciem {

namespace {

bool valid_size(unsigned size) {
    return size == 1 || size == 2 || size == 4 || size == 8;
}

// The kernel only sends accesses inside a BAR; a host-side bug (or a
// test) must not turn into an out-of-range map access.
RegisterMap* map_for(DeviceModel& model, unsigned bar, uint64_t offset, unsigned size) {
    RegisterMap* map = model.bar_map(bar);
    if (map == nullptr || !valid_size(size) || offset > map->size() ||
        map->size() - offset < size) {
        return nullptr;
    }
    return map;
}

} // namespace

std::optional<uint64_t> dispatch_mmio_read(DeviceModel& model, unsigned bar, uint64_t offset,
                                           unsigned size) {
    if (RegisterMap* map = map_for(model, bar, offset, size)) {
        return map->read(offset, size);
    }
    if (bar == PCIEM_ROM_BAR && valid_size(size)) {
        if (auto v = model.rom_read(offset, size)) {
            return *v;
        }
    }
    // No map for the BAR: the model decodes it itself, or the bus reads
    // as nothing there.
    const uint64_t ones = size >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * size)) - 1;
    return model.on_mmio_read(bar, offset, size).value_or(ones);
}

void dispatch_mmio_write(DeviceModel& model, unsigned bar, uint64_t offset, unsigned size,
                         uint64_t value) {
    if (RegisterMap* map = map_for(model, bar, offset, size)) {
        map->write(offset, size, value);
        return;
    }
    model.on_mmio_write(bar, offset, size, value);
}

std::optional<uint64_t> dispatch_request(DeviceModel& model, const pciem_req& req) {
    std::optional<uint64_t> answer;
    switch (req.type) {
    case PCIEM_REQ_MMIO_READ:
        answer = dispatch_mmio_read(model, req.bar, req.offset, req.size);
        break;
    case PCIEM_REQ_MMIO_WRITE:
        dispatch_mmio_write(model, req.bar, req.offset, req.size, req.data);
        break;
    case PCIEM_REQ_CFG_READ:
        answer = model.on_config_read(static_cast<uint16_t>(req.offset), req.size);
        break;
    case PCIEM_REQ_CFG_WRITE:
        model.on_config_write(static_cast<uint16_t>(req.offset), req.size,
                              static_cast<uint32_t>(req.data));
        break;
    case PCIEM_REQ_IRQ_CONFIG:
        model.on_irq_config(IrqConfigEvent::from_request(req.flags, req.offset, req.data));
        break;
    case PCIEM_REQ_COMMAND:
        model.on_command(static_cast<uint16_t>(req.data));
        break;
    case PCIEM_REQ_RESET:
        model.on_reset();
        break;
    default:
        // A type from a newer kernel: answer nothing rather than guess;
        // a read times out visibly in the kernel log.
        break;
    }
    if (model.auto_shadow_update()) {
        model.shadow_update();
    }
    return answer;
}

} // namespace pciem
