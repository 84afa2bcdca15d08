// SPDX-License-Identifier: MIT
//
// Submission and completion queues as the controller sees them: where
// they live in host memory and the ring pointers. Host memory is only
// ever touched through dma(); these are bookkeeping.
//
// Each SQ owns the scratch its commands need (fetched entries, data
// runs, bounce buffer), so a command allocates nothing once the queue has
// warmed up, and so a per-queue worker thread later needs no shared
// scratch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "nvme_spec.hpp"
#include "pciem/dma.hpp"

namespace pciem::nvme {

// Whether `to` lies in the circular range [from, limit] of a ring of
// `size` entries.
inline bool in_ring_range(uint32_t from, uint32_t to, uint32_t limit, uint32_t size) {
    return (to + size - from) % size <= (limit + size - from) % size;
}

struct CompletionQueue {
    uint16_t qid = 0;
    uint64_t base = 0; // bus address of entry 0 (physically contiguous)
    uint32_t size = 0; // entries
    uint32_t head = 0; // the host's, from the CQ head doorbell
    uint32_t tail = 0; // the controller's next slot
    bool phase = true; // Phase Tag of the current pass; flips on wrap
    bool irq_enabled = true;
    uint16_t vector = 0;
    unsigned sq_count = 0;  // SQs that complete here (Delete CQ refuses while > 0)
    bool needs_irq = false; // entries posted since the last interrupt
    // Coalescing (polled shadow doorbells only): the tail when the vector
    // was last raised; another raise waits until the host's head has
    // reached it, i.e. until the handler that raise started has run.
    uint32_t irq_tail = 0;
    bool irq_outstanding = false;
    bool stalled = false; // an SQ stopped fetching because this CQ was full

    [[nodiscard]] bool full() const { return (tail + 1) % size == head; }
    // A head the host may publish (doorbell or shadow): it releases only
    // entries the controller has posted.
    [[nodiscard]] bool head_allowed(uint32_t h) const {
        return h < size && in_ring_range(head, h, tail, size);
    }
    [[nodiscard]] bool has_entries() const { return head != tail; }
};

struct SubmissionQueue {
    uint16_t qid = 0;
    uint64_t base = 0;
    uint32_t size = 0;
    uint32_t head = 0; // the controller's next entry to fetch
    uint32_t tail = 0; // the host's, from the SQ tail doorbell
    uint16_t cqid = 0;

    // Scratch for this queue's commands.
    std::vector<Sqe> fetched;      // entries read in one dma() call
    std::vector<DmaSegment> runs;  // resolved data pointer
    std::vector<std::byte> bounce; // data between host memory and backing

    [[nodiscard]] bool empty() const { return head == tail; }
};

// What a command handler returns: the status and Dword 0 of its
// completion.
struct Completion {
    Status status = status::success;
    uint32_t dw0 = 0;
};

} // namespace pciem::nvme
