// SPDX-License-Identifier: MIT
//
// Device: one PCIem function, held alive by its device fd.
//
// The function exists on the PCIem bus exactly as long as this object
// (or the fd, if released) lives. Destroying it closes the fd, which the
// kernel treats as a surprise removal: the bound driver's remove() runs
// and outstanding reads complete with all-ones.
#pragma once

#include <cstdint>
#include <string>

#include <linux/pciem.h>

#include "pciem/error.hpp"
#include "pciem/unique_fd.hpp"

namespace pciem {

class Device {
public:
    // Takes ownership of a device fd and the info the kernel reported for
    // it at creation (Control::create() does this).
    Device(UniqueFd fd, const pciem_dev_info& info) : fd_(std::move(fd)), info_(info) {}

    // Asks the kernel again (PCIEM_IOC_DEV_INFO).
    [[nodiscard]] Result<pciem_dev_info> info() const;
    // The info fetched at creation (and again at start()): address and
    // BARs never change once the function is on the bus.
    [[nodiscard]] const pciem_dev_info& cached_info() const { return info_; }
    // PCIEM_IOC_START: puts a function created with
    // PCIEM_CREATE_F_DEFER_ADD on the bus. Drivers probe inside this call,
    // so its model must already be serving the ring from another thread.
    // Refreshes the BAR addresses of cached_info() (0 until then).
    [[nodiscard]] Result<void> start();
    // "10000:00:03.0"
    [[nodiscard]] std::string address() const;
    [[nodiscard]] int fd() const { return fd_.get(); }

private:
    UniqueFd fd_;
    pciem_dev_info info_{};
};

// PCIEM_IOC_DEV_INFO on any device fd.
Result<pciem_dev_info> query_dev_info(int device_fd);

// PCIEM_IOC_BAR_BACKING on a device fd, between creation (with
// PCIEM_CREATE_F_DEFER_ADD) and start: `len` bytes at `offset` of trapped
// BAR `bar` become the memory at `addr` (page aligned, a writable shared
// mapping, e.g. of a device server's region fd). The kernel pins those
// pages until the function goes, so the mapping may be dropped after the
// call; the driver's accesses to them are no longer trapped.
Result<void> back_bar(int device_fd, unsigned bar, uint64_t offset, void* addr, uint64_t len);

// PCIEM_IOC_DMA_WINDOW_FD: the function's DMA window as a file of its own
// (mmap()able, MAP_SHARED, nothing else), for an external device server.
// Confined (the default), the file reaches only the driver's live mappings,
// in their direction; any other access is a DMA fault that the kernel logs
// and answers with SIGBUS (docs/abi.md).
struct DmaWindowFile {
    UniqueFd fd;
    uint64_t size = 0;
    uint64_t bus_base = 0;
};
[[nodiscard]] Result<DmaWindowFile> dma_window_file(int device_fd, bool confined = true);

// A PCIEM_STATE_* in a word: "present", "detached", "not-started",
// "removing", "pulled" ("state-N" for one this build does not know).
std::string state_name(uint32_t state);

} // namespace pciem
