// SPDX-License-Identifier: MIT
//
// Doorbell Buffer Config (NVMe 1.3, OACS bit 8): the host keeps each I/O
// queue's SQ tail and CQ head in a Shadow Doorbell buffer in its memory
// and writes the doorbell register only when the value passes the
// EventIdx the controller left in a second buffer (the Linux driver's
// nvme_dbbuf_update_and_check_event(); the scheme is virtio's event
// index). Emulated controllers offer it because a doorbell write is
// their most expensive event; for PCIem it is a trapped MMIO write.
//
// Two ways to run:
//  - Event mode (the host sleeps until a request arrives): after each SQ
//    doorbell the controller sets that SQ's EventIdx to the tail it has
//    seen, so the next submission rings again. CQ head doorbells are
//    not asked for: the controller reads the shadow head when it needs
//    it (a CQ that looks full, INTx's level) and asks only then.
//  - Polled (a polling host calls on_poll(): busy or on a timer): the controller reads
//    every shadow itself and never asks for a doorbell, so an I/O costs
//    the driver no trap at all. EventIdx stays where the host's buffer
//    has it (zeroed), so a doorbell still arrives when a value wraps
//    past it, which is handled like any other.
//    Completions are coalesced: a CQ's vector is raised again only once
//    the host's head shows the handler of the previous raise has run.
//  - Both, in turn (a host that polls until idle, then sleeps): polled
//    from on_poll() on; on_idle() goes back to event mode before the
//    host sleeps (every SQ's EventIdx re-armed, held-back interrupts
//    raised), and the next on_poll() leaves it again.
//
// The admin queue always uses its doorbell registers.
#include <atomic>

#include "queue_engine.hpp"

namespace pciem::nvme {

Completion QueueEngine::doorbell_buffer_config(const Sqe& cmd, uint64_t page_size) {
    // Both buffers are memory-page aligned (and so are not PRP lists).
    const uint64_t mask = page_size - 1;
    if (cmd.dptr1 == 0 || cmd.dptr2 == 0 || (cmd.dptr1 & mask) != 0 || (cmd.dptr2 & mask) != 0) {
        return {status::invalid_field};
    }
    shadow_.doorbells = cmd.dptr1;
    shadow_.event_indexes = cmd.dptr2;
    // Queues that exist already start from the values the controller has.
    for (const auto& sq : sqs_) {
        if (sq && sq->qid != 0 && !polled_) {
            write_event_index(sq->qid, false, sq->tail);
        }
    }
    return {};
}

std::optional<uint32_t> QueueEngine::read_shadow(uint16_t qid, bool cq) {
    uint32_t v = 0;
    if (!model_.dma().fast_read(shadow_.doorbells + doorbell_slot(qid, cq),
                                std::as_writable_bytes(std::span(&v, 1)))) {
        owner_.fatal_error(); // the host's own buffer is unreachable
        return std::nullopt;
    }
    return v;
}

std::optional<uint32_t> QueueEngine::doorbell_value(uint16_t qid, bool cq, uint32_t written) {
    if (!shadow_active(qid)) {
        return written;
    }
    // The write only says "look": its value may be older than the shadow,
    // which the host updates first (and may have updated again since).
    return read_shadow(qid, cq);
}

void QueueEngine::write_event_index(uint16_t qid, bool cq, uint32_t value) {
    if (!model_.dma().fast_write(shadow_.event_indexes + doorbell_slot(qid, cq),
                                 std::as_bytes(std::span(&value, 1)))) {
        owner_.fatal_error();
    }
    // The EventIdx store before the shadow load that follows it: the
    // host orders its shadow store before its EventIdx load the same way.
    std::atomic_thread_fence(std::memory_order_seq_cst);
}

void QueueEngine::rearm_sq(SubmissionQueue& sq) {
    // Not bounded: leaving with entries announced after the EventIdx was
    // written would strand them (the host rings again only when its tail
    // passes the EventIdx, a lap later). A host keeping the queue busy
    // keeps the controller on it, completions flowing as they come.
    while (!owner_.failed()) {
        write_event_index(sq.qid, false, sq.tail);
        const std::optional<uint32_t> tail = read_shadow(sq.qid, false);
        if (!tail || *tail == sq.tail || *tail >= sq.size) {
            return;
        }
        sq.tail = *tail;
        signal_completions();
        process_sq(sq);
    }
}

void QueueEngine::refresh_cq_head(CompletionQueue& cq, bool until_empty) {
    if (!shadow_active(cq.qid) || polled_) {
        return; // the doorbell register (or on_poll()) keeps cq.head current
    }
    for (bool asked = false;; asked = true) {
        const std::optional<uint32_t> head = read_shadow(cq.qid, true);
        if (head && cq.head_allowed(*head)) {
            cq.head = *head;
        }
        if (asked || !(until_empty ? cq.has_entries() : cq.full())) {
            return;
        }
        // Still waiting for the host: ask for its next CQ head doorbell,
        // then look again in case it moved the head before it saw the
        // request.
        write_event_index(cq.qid, true, cq.head);
    }
}

bool QueueEngine::coalescing(const CompletionQueue& cq) const {
    return polled_ && shadow_active(cq.qid) && !pin_based_ && cq.irq_enabled;
}

bool QueueEngine::idle() {
    if (!polled_) {
        return false;
    }
    // A last look while still polled, so what it finds is coalesced as
    // before; then event mode, where nothing is held back.
    bool work = poll();
    polled_ = false;
    signal_completions();
    // A full CQ asks for its next head doorbell (polled, on_poll() was
    // to notice the head move).
    for (auto& cq : cqs_) {
        if (cq && cq->stalled && shadow_active(cq->qid)) {
            refresh_cq_head(*cq);
            if (!cq->full()) {
                resume_stalled(*cq);
                work = true;
            }
        }
    }
    for (auto& sq : sqs_) {
        if (sq && shadow_active(sq->qid)) {
            const uint32_t seen = sq->tail;
            rearm_sq(*sq); // processes what arrived since, until quiet
            work = work || sq->tail != seen;
        }
    }
    return work;
}

bool QueueEngine::poll() {
    polled_ = true;
    if (shadow_.doorbells == 0 || owner_.shut_down() || !owner_.running()) {
        return false;
    }
    uint16_t last = 0;
    for (size_t q = 1; q < sqs_.size(); ++q) {
        if (sqs_[q] || cqs_[q]) {
            last = static_cast<uint16_t>(q);
        }
    }
    if (last == 0) {
        return false;
    }
    // Every I/O queue's slots in one read.
    const uint64_t first = doorbell_slot(1, false);
    shadow_.values.resize((doorbell_slot(last, true) + 4 - first) / 4);
    if (!model_.dma().fast_read(shadow_.doorbells + first,
                                std::as_writable_bytes(std::span(shadow_.values)))) {
        owner_.fatal_error();
        return false;
    }
    // The shadow values before the queue entries they announce.
    std::atomic_thread_fence(std::memory_order_acquire);
    const auto slot = [&](uint16_t qid, bool cq) {
        return shadow_.values[(doorbell_slot(qid, cq) - first) / 4];
    };
    bool work = false;
    for (uint16_t q = 1; q <= last; ++q) {
        if (CompletionQueue* cq = cqs_[q].get()) {
            const uint32_t head = slot(q, true);
            if (head != cq->head && cq->head_allowed(head)) {
                cq->head = head;
                work = true;
                resume_stalled(*cq);
                update_intx();
            }
        }
    }
    for (uint16_t q = 1; q <= last; ++q) {
        if (SubmissionQueue* sq = sqs_[q].get()) {
            const uint32_t tail = slot(q, false);
            if (tail != sq->tail && tail < sq->size) {
                sq->tail = tail;
                work = true;
            }
            if (!sq->empty() && !cqs_[sq->cqid]->stalled) {
                process_sq(*sq);
            }
        }
    }
    signal_completions();
    return work;
}

} // namespace pciem::nvme
