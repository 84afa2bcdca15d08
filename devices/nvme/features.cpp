// SPDX-License-Identifier: MIT
//
// Get Features and Set Features: see features.hpp.
#include "features.hpp"

namespace pciem::nvme {

namespace {

bool supported(uint8_t fid) {
    switch (fid) {
    case feature::arbitration:
    case feature::power_management:
    case feature::temperature_threshold:
    case feature::volatile_write_cache:
    case feature::number_of_queues:
    case feature::interrupt_coalescing:
    case feature::async_event_config:
        return true;
    default:
        return false;
    }
}

// Get Features SEL (CDW10 10:8).
enum class Select : uint8_t { current = 0, default_value = 1, saved = 2, capabilities = 3 };

// Temperature Threshold CDW11: TMPSEL 19:16 (0: composite, the only
// sensor), THSEL 21:20 (0: over, 1: under).
bool valid_threshold_select(uint32_t cdw11) {
    return ((cdw11 >> 16) & 0xf) == 0 && ((cdw11 >> 20) & 0x3) <= 1;
}

bool under_threshold(uint32_t cdw11) {
    return ((cdw11 >> 20) & 0x3) == 1;
}

} // namespace

Completion Features::set(const Sqe& cmd, bool io_queues_exist, Effects& effects) {
    const auto fid = static_cast<uint8_t>(cmd.cdw10 & 0xff);
    if (!supported(fid)) {
        return {status::invalid_field};
    }
    if ((cmd.cdw10 >> 31) != 0) {
        return {status::feature_not_saveable}; // SV: no feature is saveable
    }
    const uint32_t v = cmd.cdw11;
    switch (fid) {
    case feature::arbitration:
        values_.arbitration = v;
        break;
    case feature::power_management:
        if ((v & 0x1f) != 0) {
            return {status::invalid_field}; // NPSS is 0: power state 0 only
        }
        values_.power_management = v & 0xff;
        break;
    case feature::temperature_threshold:
        if (!valid_threshold_select(v)) {
            return {status::invalid_field};
        }
        (under_threshold(v) ? values_.temperature_under : values_.temperature_over) =
            static_cast<uint16_t>(v & 0xffff);
        effects.thresholds = true;
        break;
    case feature::volatile_write_cache:
        values_.write_cache = (v & 1) != 0;
        // What the cache held must be durable now.
        effects.write_cache_off = !values_.write_cache;
        break;
    case feature::number_of_queues: {
        if ((v & 0xffff) == 0xffff || (v >> 16) == 0xffff) {
            return {status::invalid_field};
        }
        // Only before I/O queues exist (the allocation is fixed anyway).
        if (io_queues_exist) {
            return {status::command_sequence_error};
        }
        break;
    }
    case feature::interrupt_coalescing:
        // Accepted and reported back; completions are already signalled
        // once per doorbell batch.
        values_.interrupt_coalescing = v & 0xffff;
        break;
    case feature::async_event_config:
        values_.async_event_config = v & 0xff; // SMART warnings; no notices
        break;
    default:
        break;
    }
    // Set Features completes with what Get Features would now say (for
    // Number of Queues, the allocation).
    Sqe current = cmd;
    current.cdw10 = fid; // SEL 0: current
    return get(current);
}

Completion Features::get(const Sqe& cmd) const {
    const auto fid = static_cast<uint8_t>(cmd.cdw10 & 0xff);
    const auto sel = static_cast<Select>((cmd.cdw10 >> 8) & 0x7);
    if (!supported(fid) || static_cast<unsigned>(sel) > 3) {
        return {status::invalid_field};
    }
    if (sel == Select::capabilities) {
        return {status::success, 0x4}; // changeable, not saveable, not per namespace
    }
    // Nothing is saved, so "saved" reads the defaults.
    const Values defaults{};
    const Values& f = sel == Select::current ? values_ : defaults;
    switch (fid) {
    case feature::arbitration:
        return {status::success, f.arbitration};
    case feature::power_management:
        return {status::success, f.power_management};
    case feature::temperature_threshold:
        if (!valid_threshold_select(cmd.cdw11)) {
            return {status::invalid_field};
        }
        return {status::success,
                under_threshold(cmd.cdw11) ? f.temperature_under : f.temperature_over};
    case feature::volatile_write_cache:
        return {status::success, f.write_cache ? 1u : 0u};
    case feature::number_of_queues: {
        // NSQA and NCQA (0's based): what the controller grants,
        // whatever was asked.
        const uint32_t n = io_queues_ - 1;
        return {status::success, n | n << 16};
    }
    case feature::interrupt_coalescing:
        return {status::success, f.interrupt_coalescing};
    case feature::async_event_config:
        return {status::success, f.async_event_config};
    default:
        return {status::invalid_field};
    }
}

} // namespace pciem::nvme
