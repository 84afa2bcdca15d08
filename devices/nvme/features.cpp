// SPDX-License-Identifier: MIT
//
// Get Features and Set Features. Supported: Arbitration, Power
// Management, Temperature Threshold, Volatile Write Cache, Number of
// Queues, Interrupt Coalescing, Asynchronous Event Configuration; any
// other identifier is an Invalid Field. Nothing is saveable.
#include "controller.hpp"

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

Completion Controller::set_features(const Sqe& cmd) {
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
        features_.arbitration = v;
        break;
    case feature::power_management:
        if ((v & 0x1f) != 0) {
            return {status::invalid_field}; // NPSS is 0: power state 0 only
        }
        features_.power_management = v & 0xff;
        break;
    case feature::temperature_threshold:
        if (!valid_threshold_select(v)) {
            return {status::invalid_field};
        }
        (under_threshold(v) ? features_.temperature_under : features_.temperature_over) =
            static_cast<uint16_t>(v & 0xffff);
        check_temperature();
        break;
    case feature::volatile_write_cache:
        features_.write_cache = (v & 1) != 0;
        if (!features_.write_cache) {
            for (Namespace& ns : namespaces_) {
                (void)ns.backing->flush(); // what the cache held is durable now
            }
        }
        break;
    case feature::number_of_queues: {
        if ((v & 0xffff) == 0xffff || (v >> 16) == 0xffff) {
            return {status::invalid_field};
        }
        // Only before I/O queues exist (the allocation is fixed anyway).
        for (size_t q = 1; q < sqs_.size(); ++q) {
            if (sqs_[q] || cqs_[q]) {
                return {status::command_sequence_error};
            }
        }
        break;
    }
    case feature::interrupt_coalescing:
        // Accepted and reported back; completions are already signalled
        // once per doorbell batch.
        features_.interrupt_coalescing = v & 0xffff;
        break;
    case feature::async_event_config:
        features_.async_event_config = v & 0xff; // SMART warnings; no notices
        break;
    default:
        break;
    }
    // Set Features completes with what Get Features would now say (for
    // Number of Queues, the allocation).
    Sqe current = cmd;
    current.cdw10 = fid; // SEL 0: current
    return get_features(current);
}

Completion Controller::get_features(const Sqe& cmd) {
    const auto fid = static_cast<uint8_t>(cmd.cdw10 & 0xff);
    const auto sel = static_cast<Select>((cmd.cdw10 >> 8) & 0x7);
    if (!supported(fid) || static_cast<unsigned>(sel) > 3) {
        return {status::invalid_field};
    }
    if (sel == Select::capabilities) {
        return {status::success, 0x4}; // changeable, not saveable, not per namespace
    }
    // Nothing is saved, so "saved" reads the defaults.
    const Features defaults{};
    const Features& f = sel == Select::current ? features_ : defaults;
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
        const uint32_t n = options_.io_queues - 1;
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
