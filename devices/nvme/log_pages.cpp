// SPDX-License-Identifier: MIT
//
// The log pages' contents: see log_pages.hpp. Any page but 01h, 02h and
// 03h is an Invalid Log Page.
#include "log_pages.hpp"

#include <chrono>

#include "le_bytes.hpp"

namespace pciem::nvme {

namespace {

// SMART "data units" are thousands of 512-byte units, rounded up.
uint64_t data_units(uint64_t bytes) {
    return (bytes / 512 + 999) / 1000;
}

const auto start_time = std::chrono::steady_clock::now();

} // namespace

LogPages::Page LogPages::fill(uint8_t lid, uint32_t nsid,
                              std::span<std::byte, max_page> out) const {
    switch (lid) {
    case log_page::error_info:
        error_log_.fill(out.first<ErrorLog::page_size>());
        return {status::success, ErrorLog::page_size};
    case log_page::smart:
        // Per-namespace SMART is not supported (LPA bit 0 clear).
        if (nsid != 0 && nsid != broadcast_nsid) {
            return {status::invalid_field};
        }
        smart_log(out.first<512>());
        return {status::success, 512};
    case log_page::firmware_slot:
        put_le<uint8_t>(out, 0, 0x01); // AFI: slot 1 active
        put_ascii(out, 8, 8, "1.0");   // FRS1
        return {status::success, 512};
    default:
        return {status::invalid_log_page};
    }
}

bool LogPages::update_warnings(const Features::Values& f) {
    constexpr uint8_t temperature_warning = 1u << 1; // SMART Critical Warning bit 1
    const uint8_t before = critical_warning_;
    const bool outside = temperature_ > f.temperature_over || temperature_ < f.temperature_under;
    critical_warning_ = outside ? (before | temperature_warning) : (before & ~temperature_warning);
    // Async Event Configuration bits 7:0 enable events per warning bit.
    return (critical_warning_ & ~before & f.async_event_config & 0xff) != 0;
}

void LogPages::smart_log(std::span<std::byte, 512> out) const {
    const auto hours = std::chrono::duration_cast<std::chrono::hours>(
                           std::chrono::steady_clock::now() - start_time)
                           .count();
    put_le<uint8_t>(out, 0, critical_warning_);
    put_le<uint16_t>(out, 1, temperature_); // Composite Temperature, Kelvin
    put_le<uint8_t>(out, 3, 100);           // Available Spare, %
    put_le<uint8_t>(out, 4, 10);            // Available Spare Threshold
    put_le<uint8_t>(out, 5, 0);             // Percentage Used
    put_le128(out, 32, data_units(data_units_read_.load(std::memory_order_relaxed)));
    put_le128(out, 48, data_units(data_units_written_.load(std::memory_order_relaxed)));
    put_le128(out, 64, host_reads_.load(std::memory_order_relaxed));
    put_le128(out, 80, host_writes_.load(std::memory_order_relaxed));
    put_le128(out, 112, power_cycles_);
    put_le128(out, 128, static_cast<uint64_t>(hours));
    put_le128(out, 160, media_errors_.load(std::memory_order_relaxed));
    put_le128(out, 176, error_log_.count()); // Number of Error Information Log Entries
}

} // namespace pciem::nvme
