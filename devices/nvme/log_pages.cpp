// SPDX-License-Identifier: MIT
//
// Get Log Page: Error Information (01h), SMART / Health Information
// (02h), Firmware Slot Information (03h). Any other page is an Invalid
// Log Page. Reading a page without RAE re-arms its asynchronous events.
#include <algorithm>
#include <array>
#include <chrono>

#include "controller.hpp"
#include "le_bytes.hpp"

namespace pciem::nvme {

namespace {

// SMART "data units" are thousands of 512-byte units, rounded up.
uint64_t data_units(uint64_t bytes) {
    return (bytes / 512 + 999) / 1000;
}

const auto start_time = std::chrono::steady_clock::now();

} // namespace

Completion Controller::get_log_page(SubmissionQueue& sq, const Sqe& cmd) {
    const auto lid = static_cast<uint8_t>(cmd.cdw10 & 0xff);
    const bool retain = (cmd.cdw10 & (1u << 15)) != 0;
    const uint64_t dwords = ((uint64_t{cmd.cdw11 & 0xffff} << 16) | (cmd.cdw10 >> 16)) + 1;
    const uint64_t offset = cmd.cdw12 | uint64_t{cmd.cdw13} << 32;

    alignas(8) std::array<std::byte, ErrorLog::page_size> page{};
    size_t size = 0;
    switch (lid) {
    case log_page::error_info:
        error_log_.fill(std::span(page).first<ErrorLog::page_size>());
        size = ErrorLog::page_size;
        break;
    case log_page::smart:
        // Per-namespace SMART is not supported (LPA bit 0 clear).
        if (cmd.nsid != 0 && cmd.nsid != broadcast_nsid) {
            return {status::invalid_field};
        }
        smart_log(std::span(page).first<512>());
        size = 512;
        break;
    case log_page::firmware_slot:
        put_le<uint8_t>(page, 0, 0x01); // AFI: slot 1 active
        put_ascii(page, 8, 8, "1.0");   // FRS1
        size = 512;
        break;
    default:
        return {status::invalid_log_page};
    }
    if ((offset & 3) != 0 || offset >= size) {
        return {status::invalid_field};
    }
    // Only what the page holds is transferred.
    const size_t len = static_cast<size_t>(std::min<uint64_t>(dwords * 4, size - offset));
    Completion done = copy_to_host(sq, cmd, std::span(page).subspan(offset, len));
    if (done.status.ok() && !retain) {
        log_page_read(lid);
    }
    return done;
}

void Controller::smart_log(std::span<std::byte, 512> out) const {
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
