// SPDX-License-Identifier: MIT
//
// Completions of I/O commands held back until the interrupt that
// announces them. A read's data, its completion entry and the MSI-X
// message are three posted writes that PCIe keeps in order; sending them
// together (Dma::write_then_raise()) is one system call on the kernel
// host, where writing the data and raising were two, each costing a few
// microseconds at QD 1 under TCG (docs/bench.md).
//
// What is held must stay valid until flush(): data spans point into a
// memory namespace (never into per-queue scratch, which the next command
// reuses), segments and entries are copied here. The engine flushes
// before it returns to the host and before anything that signals (a
// raise, the INTx level), so nothing is held across host calls.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "nvme_spec.hpp"
#include "pciem/dma.hpp"
#include "pciem/interrupts.hpp"

namespace pciem::nvme {

class HeldCompletions {
public:
    // Where a command's held writes start: rollback() drops what a
    // command held if its entry is not held after all.
    [[nodiscard]] size_t mark() const { return writes_.size(); }
    void rollback(size_t mark);

    // The current command's data, along sg.
    void hold_data(std::span<const DmaSegment> sg, std::span<const std::byte> data);
    // The current command's completion entry at bus `address` (its CQ
    // slot), after its data; `cmd` and `sqid` name it if its data is
    // refused.
    void hold_entry(uint64_t address, const Cqe& entry, uint16_t sqid, const Sqe& cmd);
    [[nodiscard]] bool empty() const { return writes_.empty(); }

    // Sends everything held, in order, then raises `vector` (if given).
    // A refused data write makes its command's entry a Data Transfer
    // Error (listed in failures()) and the rest goes on; a refused entry
    // means the CQ itself is unreachable: false (the controller fails),
    // the rest and the raise are dropped. `raised` gets the raise's
    // outcome when it was tried.
    [[nodiscard]] bool flush(Dma& dma, Interrupts& irq, std::optional<unsigned> vector,
                             std::optional<Result<void>>& raised);
    void clear() { rollback(0); }

    // The held commands the last flush() sent as Data Transfer Errors,
    // for the engine to log once nothing is held (logging may signal).
    struct Failure {
        uint16_t sqid = 0;
        Sqe cmd{};
        bool phase = false;
    };
    [[nodiscard]] std::span<const Failure> failures() const { return failures_; }

private:
    struct Write {
        uint32_t first_seg = 0; // data: its segments in segs_
        uint32_t segs = 0;
        std::span<const std::byte> data;
        int32_t entry = -1; // an entry write: its index in entries_
    };
    struct Entry {
        DmaSegment slot; // its CQ slot
        Cqe cqe{};
        uint16_t sqid = 0;
        Sqe cmd{};
    };
    std::vector<DmaSegment> segs_;
    std::vector<Write> writes_;
    std::vector<Entry> entries_;
    std::vector<DmaWrite> scratch_; // one flush's list for the host
    std::vector<Failure> failures_;
};

} // namespace pciem::nvme
