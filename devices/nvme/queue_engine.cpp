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
#include "controller.hpp"

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

void Controller::sq_doorbell(uint16_t qid, uint32_t tail) {
    const auto status = static_cast<uint32_t>(csts_->value());
    if ((status & csts::rdy) == 0 || (status & csts::cfs) != 0) {
        return; // not enabled: doorbells have no effect
    }
    SubmissionQueue* sq = sqs_[qid].get();
    if (sq == nullptr) {
        report_event(aer::type_error, aer::info_invalid_doorbell_register, log_page::error_info);
        return;
    }
    const std::optional<uint32_t> value = doorbell_value(qid, false, tail);
    if (!value) {
        return;
    }
    tail = *value;
    if (tail >= sq->size) {
        report_event(aer::type_error, aer::info_invalid_doorbell_value, log_page::error_info);
        return;
    }
    sq->tail = tail;
    if (!shut_down_) {
        process_sq(*sq);
        if (shadow_active(qid) && !polled_) {
            rearm_sq(*sq);
        }
        signal_completions();
    }
}

void Controller::cq_doorbell(uint16_t qid, uint32_t head) {
    const auto status = static_cast<uint32_t>(csts_->value());
    if ((status & csts::rdy) == 0 || (status & csts::cfs) != 0) {
        return;
    }
    CompletionQueue* cq = cqs_[qid].get();
    if (cq == nullptr) {
        report_event(aer::type_error, aer::info_invalid_doorbell_register, log_page::error_info);
        return;
    }
    const std::optional<uint32_t> value = doorbell_value(qid, true, head);
    if (!value) {
        return;
    }
    head = *value;
    if (!cq->head_allowed(head)) {
        report_event(aer::type_error, aer::info_invalid_doorbell_value, log_page::error_info);
        return;
    }
    cq->head = head;
    update_intx();
    if (shut_down_) {
        return;
    }
    // Room in the CQ resumes SQs that stopped because it was full, and
    // events waiting for the admin CQ.
    resume_stalled(*cq);
    if (qid == 0) {
        deliver_events();
    }
    signal_completions();
}

void Controller::resume_stalled(CompletionQueue& cq) {
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

void Controller::process_sq(SubmissionQueue& sq) {
    CompletionQueue& cq = *cqs_[sq.cqid];
    while (!sq.empty() && (csts_->value() & csts::cfs) == 0) {
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
        if (!dma().fast_read(sq.base + uint64_t{sq.head} * sizeof(Sqe),
                             std::as_writable_bytes(std::span(sq.fetched)))) {
            fatal_error(); // the queue itself is unreachable
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
            const std::optional<Completion> done = execute(sq, cmd);
            if (!done) {
                continue; // held: completes later (AER)
            }
            if (!done->status.ok()) {
                const bool block = sq.qid != 0 && io_op::has_slba(cmd.opcode);
                error_log_.record({.sqid = sq.qid,
                                   .cid = cmd.cid,
                                   .status = done->status,
                                   .phase = cq.phase,
                                   .nsid = cmd.nsid,
                                   .lba = block ? (cmd.cdw10 | uint64_t{cmd.cdw11} << 32) : 0});
            }
            if (!post_completion(cq, sq.qid, static_cast<uint16_t>(sq.head), cmd.cid, *done)) {
                return;
            }
            if (unsignalled_bytes_ >= eager_signal_bytes) {
                signal_completions();
            }
        }
    }
}

std::optional<Completion> Controller::execute(SubmissionQueue& sq, const Sqe& cmd) {
    if (cmd.fuse() != 0) {
        return Completion{status::invalid_field}; // fused operations: not supported
    }
    if (sq.qid == 0) {
        return admin_command(sq, cmd);
    }
    return io_command(sq, cmd);
}

bool Controller::post_completion(CompletionQueue& cq, uint16_t sqid, uint16_t sqhd, uint16_t cid,
                                 const Completion& c) {
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
    if (!dma().fast_write(cq.base + uint64_t{cq.tail} * sizeof(Cqe),
                          std::as_bytes(std::span(&entry, 1)))) {
        fatal_error();
        return false;
    }
    cq.tail = (cq.tail + 1) % cq.size;
    if (cq.tail == 0) {
        cq.phase = !cq.phase;
    }
    cq.needs_irq = true;
    return true;
}

void Controller::signal_completions() {
    unsignalled_bytes_ = 0;
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
            raise_vector(cq->vector);
            cq->irq_tail = cq->tail;
            cq->irq_outstanding = true;
        }
    }
}

void Controller::raise_vector(uint16_t vector) {
    // INTMS masks vectors for MSI and INTx (vector 0); the host must not
    // use it with MSI-X.
    if (vector < 32 && (interrupt_mask_ & (1u << vector)) != 0) {
        masked_pending_ |= 1u << vector;
        return;
    }
    auto raised = irq().raise(vector);
    if (raised) {
        if (pin_based_) {
            pin_based_ = false;
            (void)irq().set_intx(false);
        }
        return;
    }
    if (raised.error().errnum == EAGAIN) {
        // Neither MSI nor MSI-X enabled: INTA, level-triggered.
        pin_based_ = true;
        update_intx();
    }
}

void Controller::update_intx() {
    if (!pin_based_) {
        return;
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
    (void)irq().set_intx(level);
}

void Controller::on_interrupt_mask_change(uint32_t old_mask) {
    intms_->set(interrupt_mask_);
    intmc_->set(interrupt_mask_);
    const uint32_t unmasked = old_mask & ~interrupt_mask_ & masked_pending_;
    masked_pending_ &= ~unmasked;
    for (unsigned v = 0; v < 32; ++v) {
        if ((unmasked & (1u << v)) != 0) {
            raise_vector(static_cast<uint16_t>(v));
        }
    }
    update_intx();
}

} // namespace pciem::nvme
