// SPDX-License-Identifier: MIT
//
// The controller's features (Get Features / Set Features): their current
// values and the commands that read and change them. Supported:
// Arbitration, Power Management, Temperature Threshold, Volatile Write
// Cache, Number of Queues, Interrupt Coalescing, Asynchronous Event
// Configuration; any other identifier is an Invalid Field. Nothing is
// saveable.
//
// A feature whose change must act elsewhere (a threshold to re-check
// against the temperature, a write cache to flush) is reported back in
// Effects, for the controller to act on: this part owns values only.
#pragma once

#include <cstdint>

#include "nvme_spec.hpp"
#include "queues.hpp"

namespace pciem::nvme {

class Features {
public:
    // Kelvin: the composite temperature at power-on, and the thresholds
    // Identify reports (WCTEMP, the default over-threshold; CCTEMP).
    static constexpr uint16_t default_temperature = 311;
    static constexpr uint16_t warning_temperature = 343;
    static constexpr uint16_t critical_temperature = 353;

    struct Values {
        uint32_t arbitration = 0;
        uint32_t power_management = 0;
        uint16_t temperature_over = warning_temperature;
        uint16_t temperature_under = 0;
        bool write_cache = true;
        uint32_t interrupt_coalescing = 0;
        uint32_t async_event_config = 0;
    };

    // What a Set Features changed that the controller must act on.
    struct Effects {
        bool thresholds = false;      // check the temperature again
        bool write_cache_off = false; // flush every namespace
    };

    // io_queues: the I/O queue pairs the controller grants.
    explicit Features(unsigned io_queues) : io_queues_(io_queues) {}

    // io_queues_exist: Number of Queues is refused once they do.
    [[nodiscard]] Completion set(const Sqe& cmd, bool io_queues_exist, Effects& effects);
    [[nodiscard]] Completion get(const Sqe& cmd) const;
    [[nodiscard]] const Values& current() const { return values_; }
    // Controller reset: every feature to its default.
    void reset() { values_ = Values{}; }

private:
    unsigned io_queues_;
    Values values_;
};

} // namespace pciem::nvme
