// SPDX-License-Identifier: MIT
//
// The log pages (Get Log Page) and the state only they report: the
// Error Information log (01h), SMART / Health Information (02h: the
// temperature and its critical warning, data and command counters,
// power cycles, media errors) and Firmware Slot Information (03h).
//
// The controller decodes the command, moves the bytes and re-arms the
// page's asynchronous events; this part fills pages and keeps counts.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

#include "error_log.hpp"
#include "features.hpp"
#include "nvme_spec.hpp"

namespace pciem::nvme {

class LogPages {
public:
    // The largest page (the Error Information log).
    static constexpr size_t max_page = ErrorLog::page_size;

    // A page filled: its size in bytes, or why it cannot be.
    struct Page {
        Status status = status::success;
        size_t size = 0;
    };
    // Fills page lid for namespace nsid into out.
    [[nodiscard]] Page fill(uint8_t lid, uint32_t nsid, std::span<std::byte, max_page> out) const;

    void record_failure(const ErrorLog::Failure& f) { error_log_.record(f); }
    // SMART counters; atomics so queue threads can count later.
    void count_read(uint64_t bytes) {
        host_reads_.fetch_add(1, std::memory_order_relaxed);
        data_units_read_.fetch_add(bytes, std::memory_order_relaxed);
    }
    void count_write(uint64_t bytes) {
        host_writes_.fetch_add(1, std::memory_order_relaxed);
        data_units_written_.fetch_add(bytes, std::memory_order_relaxed);
    }
    void count_media_error() { media_errors_.fetch_add(1, std::memory_order_relaxed); }
    void count_power_cycle() { ++power_cycles_; }

    void set_temperature(uint16_t kelvin) { temperature_ = kelvin; }
    // Sets or clears the temperature warning against the thresholds of
    // f; true when that newly raised a warning Asynchronous Event
    // Configuration enables (the controller then reports a SMART event).
    [[nodiscard]] bool update_warnings(const Features::Values& f);
    // Controller reset: the critical warnings clear.
    void clear_warnings() { critical_warning_ = 0; }

private:
    void smart_log(std::span<std::byte, 512> out) const;

    ErrorLog error_log_;
    uint16_t temperature_ = Features::default_temperature;
    uint8_t critical_warning_ = 0;
    uint64_t power_cycles_ = 0;
    std::atomic<uint64_t> data_units_read_{0}; // bytes, converted when reported
    std::atomic<uint64_t> data_units_written_{0};
    std::atomic<uint64_t> host_reads_{0};
    std::atomic<uint64_t> host_writes_{0};
    std::atomic<uint64_t> media_errors_{0};
};

} // namespace pciem::nvme
