// SPDX-License-Identifier: MIT
//
// The queue path: doorbell writes, fetching submission entries, posting
// completions with the phase tag, and interrupts.
//
// Today everything runs on the host's thread, inline in the doorbell
// write. Towards a worker per SQ (for throughput), the seams are:
//  - sq_doorbell() only stores the tail and calls process_sq(); a worker
//    would be woken here instead (eventfd or futex on the tail).
//  - process_sq() touches only its SQ, its scratch and its CQ. A CQ
//    shared by several SQs would need a lock around post_completion();
//    the Linux driver pairs queues 1:1, so that lock is uncontended.
//  - Interrupts are raised once per batch (signal_completions()); a
//    worker would raise through irq().eventfd(vector), without a call
//    into the host.
//  - Admin commands that create or delete I/O queues must stop the
//    queue's worker first; CSTS changes need shadow_update().
//  - Owner's hooks (execute(), command_failed(), doorbell_error()) would
//    be called from the worker: the controller's side must then lock.
#include "queue_engine.hpp"

#include <algorithm>
#include <cerrno>
#include <span>

namespace pciem::nvme {

namespace {

// Free CQ slots: one is always left empty so full and empty differ.
uint32_t cq_room(const CompletionQueue& cq) {
    return (cq.head + cq.size - cq.tail - 1) % cq.size;
}

} // namespace

QueueEngine::QueueEngine(const ControllerOptions& options, DeviceModel& model, Owner& owner)
    : options_(options), model_(model), owner_(owner) {
    sqs_.resize(options_.io_queues + 1);
    cqs_.resize(options_.io_queues + 1);
}

uint64_t QueueEngine::doorbell_slot(uint16_t qid, bool cq) const {
    return (2 * uint64_t{qid} + (cq ? 1 : 0)) * (uint64_t{4} << options_.doorbell_stride);
}

void QueueEngine::sq_doorbell(uint16_t qid, uint32_t tail) {
    if (!owner_.running()) {
        return; // not enabled: doorbells have no effect
    }
    SubmissionQueue* sq = sqs_[qid].get();
    if (sq == nullptr) {
        owner_.doorbell_error(aer::info_invalid_doorbell_register);
        return;
    }
    const std::optional<uint32_t> value = doorbell_value(qid, false, tail);
    if (!value) {
        return;
    }
    tail = *value;
    if (tail >= sq->size) {
        owner_.doorbell_error(aer::info_invalid_doorbell_value);
        return;
    }
    sq->tail = tail;
    if (!owner_.shut_down()) {
        process_sq(*sq);
        if (shadow_active(qid) && !polled_) {
            rearm_sq(*sq);
        }
        signal_completions();
    }
}

void QueueEngine::cq_doorbell(uint16_t qid, uint32_t head) {
    if (!owner_.running()) {
        return;
    }
    CompletionQueue* cq = cqs_[qid].get();
    if (cq == nullptr) {
        owner_.doorbell_error(aer::info_invalid_doorbell_register);
        return;
    }
    const std::optional<uint32_t> value = doorbell_value(qid, true, head);
    if (!value) {
        return;
    }
    head = *value;
    if (!cq->head_allowed(head)) {
        owner_.doorbell_error(aer::info_invalid_doorbell_value);
        return;
    }
    cq->head = head;
    update_intx();
    if (owner_.shut_down()) {
        return;
    }
    // Room in the CQ resumes SQs that stopped because it was full, and
    // events waiting for the admin CQ.
    resume_stalled(*cq);
    if (qid == 0) {
        owner_.admin_cq_released();
    }
    signal_completions();
}

void QueueEngine::resume_stalled(CompletionQueue& cq) {
    if (!cq.stalled) {
        return;
    }
    cq.stalled = false;
    for (auto& sq : sqs_) {
        if (sq && sq->cqid == cq.qid && !sq->empty()) {
            process_sq(*sq);
        }
    }
}

void QueueEngine::process_sq(SubmissionQueue& sq) {
    CompletionQueue& cq = *cqs_[sq.cqid];
    while (!sq.empty() && !owner_.failed()) {
        // Up to the tail or the end of the ring, and no more commands
        // than the CQ has room for: one dma() call for the whole run.
        const uint32_t end = sq.tail > sq.head ? sq.tail : sq.size;
        if (cq_room(cq) == 0) {
            refresh_cq_head(cq); // the host's head may be in the shadow
        }
        const uint32_t n = std::min(end - sq.head, cq_room(cq));
        if (n == 0) {
            cq.stalled = true; // the CQ head doorbell resumes us
            return;
        }
        sq.fetched.resize(n);
        if (!model_.dma().fast_read(sq.base + uint64_t{sq.head} * sizeof(Sqe),
                                    std::as_writable_bytes(std::span(sq.fetched)))) {
            owner_.fatal_error(); // the queue itself is unreachable
            return;
        }
        for (const Sqe& cmd : sq.fetched) {
            // A command may fill the CQ behind our back (an AER
            // completing); the rest is fetched again later.
            if (cq.full()) {
                cq.stalled = true;
                return;
            }
            sq.head = (sq.head + 1) % sq.size;
            // I/O commands may hold their data for the completion.
            if (sq.qid != 0) {
                holding_from_ = held_.mark();
            }
            const std::optional<Completion> done = owner_.execute(sq, cmd);
            if (!done || !done->status.ok()) {
                // No entry follows a held AER; a failed command's data
                // is not sent.
                if (holding_from_) {
                    held_.rollback(*holding_from_);
                }
                holding_from_.reset();
                if (!done) {
                    continue; // held: completes later (AER)
                }
                owner_.command_failed(sq.qid, cmd, done->status, cq.phase);
            }
            // Only an entry whose data is held waits for it; another is
            // written now (the host stops at the first entry not there
            // yet, so a later one written early is not seen early).
            const bool may_hold = holding_from_ && held_.mark() > *holding_from_;
            holding_from_.reset();
            if (!post_completion(cq, sq.qid, static_cast<uint16_t>(sq.head), cmd.cid, *done,
                                 may_hold ? &cmd : nullptr)) {
                return;
            }
            if (unsignalled_bytes_ >= eager_signal_bytes) {
                signal_completions();
            }
        }
    }
}

bool QueueEngine::hold_data(std::span<const DmaSegment> sg, std::span<const std::byte> data) {
    if (!holding_from_) {
        return false;
    }
    held_.hold_data(sg, data);
    return true;
}

bool QueueEngine::post_completion(CompletionQueue& cq, uint16_t sqid, uint16_t sqhd, uint16_t cid,
                                  const Completion& c, const Sqe* cmd) {
    if (cq.full()) {
        return false;
    }
    const Cqe entry{
        .dw0 = c.dw0,
        .dw1 = 0,
        .sqhd = sqhd,
        .sqid = sqid,
        .cid = cid,
        .status = static_cast<uint16_t>((c.status.field << 1) | (cq.phase ? 1 : 0)),
    };
    const uint64_t slot = cq.base + uint64_t{cq.tail} * sizeof(Cqe);
    if (cmd != nullptr) {
        held_.hold_entry(slot, entry, sqid, *cmd);
    } else if (!model_.dma().fast_write(slot, std::as_bytes(std::span(&entry, 1)))) {
        owner_.fatal_error();
        return false;
    }
    cq.tail = (cq.tail + 1) % cq.size;
    if (cq.tail == 0) {
        cq.phase = !cq.phase;
    }
    cq.needs_irq = true;
    return true;
}

void QueueEngine::signal_completions() {
    unsignalled_bytes_ = 0;
    // The first vector due goes with the held completions; others after.
    std::optional<uint16_t> joined;
    later_vectors_.clear();
    for (auto& cq : cqs_) {
        if (!cq || !cq->needs_irq) {
            continue;
        }
        if (coalescing(*cq)) {
            if (cq->head == cq->tail) {
                cq->needs_irq = false; // a running handler took them already
                continue;
            }
            if (cq->irq_outstanding && !in_ring_range(cq->irq_tail, cq->head, cq->tail, cq->size)) {
                continue; // the last raise's handler is not done: on_poll() comes back
            }
        }
        cq->needs_irq = false;
        if (cq->irq_enabled) {
            if (!joined && !masked(cq->vector)) {
                joined = cq->vector;
            } else {
                later_vectors_.push_back(cq->vector);
            }
            cq->irq_tail = cq->tail;
            cq->irq_outstanding = true;
        }
    }
    send(joined);
    for (uint16_t v : later_vectors_) {
        raise_vector(v);
    }
}

bool QueueEngine::masked(uint16_t vector) const {
    // INTMS masks vectors for MSI and INTx (vector 0); the host must not
    // use it with MSI-X.
    return vector < 32 && (interrupt_mask_ & (1u << vector)) != 0;
}

void QueueEngine::raise_vector(uint16_t vector) {
    if (masked(vector)) {
        masked_pending_ |= 1u << vector;
        return;
    }
    send(vector);
}

void QueueEngine::send(std::optional<uint16_t> vector) {
    std::optional<Result<void>> raised;
    if (held_.empty()) {
        if (vector) {
            raised = model_.irq().raise(*vector);
        }
    } else {
        std::optional<unsigned> v;
        if (vector) {
            v = *vector;
        }
        const bool sent = held_.flush(model_.dma(), model_.irq(), v, raised);
        // Logged once nothing is held: a log entry may signal (an AER).
        // A copy: that may flush again. Rare, so the allocation is fine.
        const std::vector<HeldCompletions::Failure> failed(held_.failures().begin(),
                                                           held_.failures().end());
        for (const HeldCompletions::Failure& f : failed) {
            owner_.command_failed(f.sqid, f.cmd, status::data_transfer_error, f.phase);
        }
        if (!sent) {
            owner_.fatal_error(); // a CQ itself is unreachable
            return;
        }
    }
    if (raised) {
        after_raise(*raised);
    }
}

void QueueEngine::after_raise(const Result<void>& raised) {
    if (raised) {
        if (pin_based_) {
            pin_based_ = false;
            (void)model_.irq().set_intx(false);
        }
        return;
    }
    if (raised.error().errnum == EAGAIN) {
        // Neither MSI nor MSI-X enabled: INTA, level-triggered.
        pin_based_ = true;
        update_intx();
    }
}

void QueueEngine::update_intx() {
    if (!pin_based_) {
        return;
    }
    // The level announces entries: the held ones go first.
    if (!held_.empty()) {
        send(std::nullopt);
    }
    // The line stays high while any interrupt-enabled CQ holds entries
    // the host has not consumed, unless INTMS masks it.
    bool level = false;
    if ((interrupt_mask_ & 1u) == 0) {
        for (const auto& cq : cqs_) {
            if (cq && cq->irq_enabled && cq->has_entries()) {
                // With shadow doorbells the head may have moved unseen.
                refresh_cq_head(*cq, /*until_empty=*/true);
                if (cq->has_entries()) {
                    level = true;
                    break;
                }
            }
        }
    }
    (void)model_.irq().set_intx(level);
}

void QueueEngine::set_interrupt_mask(uint32_t mask) {
    const uint32_t old_mask = interrupt_mask_;
    interrupt_mask_ = mask;
    const uint32_t unmasked = old_mask & ~interrupt_mask_ & masked_pending_;
    masked_pending_ &= ~unmasked;
    for (unsigned v = 0; v < 32; ++v) {
        if ((unmasked & (1u << v)) != 0) {
            raise_vector(static_cast<uint16_t>(v));
        }
    }
    update_intx();
}

bool QueueEngine::admin_cq_has_room() const {
    return cqs_[0] && sqs_[0] && !cqs_[0]->full();
}

bool QueueEngine::post_admin(uint16_t cid, const Completion& c) {
    return post_completion(*cqs_[0], 0, static_cast<uint16_t>(sqs_[0]->head), cid, c);
}

} // namespace pciem::nvme
