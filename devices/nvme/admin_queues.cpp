// SPDX-License-Identifier: MIT
//
// The queues' lifecycle: the admin pair at enable, every queue gone at a
// reset, and the admin commands that manage I/O queues: Create/Delete
// I/O Completion and Submission Queue.
#include <memory>

#include "queue_engine.hpp"

namespace pciem::nvme {

namespace {

struct QueueParams {
    uint16_t qid;
    uint32_t entries;
    bool contiguous;
};

// CDW10 and CDW11 bit 0 are laid out alike for both create commands.
QueueParams queue_params(const Sqe& cmd) {
    return {static_cast<uint16_t>(cmd.cdw10 & 0xffff), (cmd.cdw10 >> 16) + 1, (cmd.cdw11 & 1) != 0};
}

} // namespace

void QueueEngine::start(uint64_t asq, uint32_t asq_entries, uint64_t acq, uint32_t acq_entries) {
    auto cq = std::make_unique<CompletionQueue>();
    cq->qid = 0;
    cq->base = acq;
    cq->size = acq_entries;
    cq->vector = 0;
    cq->sq_count = 1;
    auto sq = std::make_unique<SubmissionQueue>();
    sq->qid = 0;
    sq->base = asq;
    sq->size = asq_entries;
    sq->cqid = 0;
    cqs_[0] = std::move(cq);
    sqs_[0] = std::move(sq);
}

void QueueEngine::reset() {
    // Commands held, such as AERs, are dropped without completion; the
    // function stays pin-based until a raise finds MSI or MSI-X on.
    for (auto& sq : sqs_) {
        sq.reset();
    }
    for (auto& cq : cqs_) {
        cq.reset();
    }
    shadow_.doorbells = shadow_.event_indexes = 0;
    held_.clear(); // never anything between host calls; nothing to send
    holding_from_.reset();
    interrupt_mask_ = 0;
    masked_pending_ = 0;
    if (pin_based_) {
        (void)model_.irq().set_intx(false);
    }
}

bool QueueEngine::has_io_queues() const {
    for (size_t q = 1; q < sqs_.size(); ++q) {
        if (sqs_[q] || cqs_[q]) {
            return true;
        }
    }
    return false;
}

Completion QueueEngine::create_io_cq(const Sqe& cmd, uint32_t cc, uint64_t page_size) {
    const QueueParams q = queue_params(cmd);
    const bool irq_enabled = (cmd.cdw11 & 2) != 0;
    const auto vector = static_cast<uint16_t>(cmd.cdw11 >> 16);
    if (q.qid == 0 || q.qid > options_.io_queues || cqs_[q.qid]) {
        return {status::invalid_queue_id};
    }
    if (q.entries < 2 || q.entries > options_.max_queue_entries) {
        return {status::invalid_queue_size};
    }
    if (!q.contiguous) {
        return {status::invalid_field}; // CAP.CQR
    }
    if (cmd.dptr1 == 0) {
        return {status::invalid_field};
    }
    if ((cmd.dptr1 & (page_size - 1)) != 0) {
        return {status::prp_invalid_offset};
    }
    if (vector >= options_.vectors()) {
        return {status::invalid_interrupt_vector};
    }
    if (((cc >> cc::iocqes_shift) & 0xf) != cqe_size_log2) {
        return {status::invalid_field}; // CC.IOCQES is not the entry size we write
    }
    auto cq = std::make_unique<CompletionQueue>();
    cq->qid = q.qid;
    cq->base = cmd.dptr1;
    cq->size = q.entries;
    cq->irq_enabled = irq_enabled;
    cq->vector = vector;
    cqs_[q.qid] = std::move(cq);
    return {};
}

Completion QueueEngine::create_io_sq(const Sqe& cmd, uint32_t cc, uint64_t page_size) {
    const QueueParams q = queue_params(cmd);
    const auto cqid = static_cast<uint16_t>(cmd.cdw11 >> 16);
    if (q.qid == 0 || q.qid > options_.io_queues || sqs_[q.qid]) {
        return {status::invalid_queue_id};
    }
    if (cqid == 0 || cqid > options_.io_queues || !cqs_[cqid]) {
        return {status::cq_invalid};
    }
    if (q.entries < 2 || q.entries > options_.max_queue_entries) {
        return {status::invalid_queue_size};
    }
    if (!q.contiguous || cmd.dptr1 == 0) {
        return {status::invalid_field};
    }
    if ((cmd.dptr1 & (page_size - 1)) != 0) {
        return {status::prp_invalid_offset};
    }
    if (((cc >> cc::iosqes_shift) & 0xf) != sqe_size_log2) {
        return {status::invalid_field};
    }
    auto sq = std::make_unique<SubmissionQueue>();
    sq->qid = q.qid;
    sq->base = cmd.dptr1;
    sq->size = q.entries;
    sq->cqid = cqid;
    sq->fetched.reserve(q.entries);
    ++cqs_[cqid]->sq_count;
    sqs_[q.qid] = std::move(sq);
    return {};
}

Completion QueueEngine::delete_io_sq(const Sqe& cmd) {
    const auto qid = static_cast<uint16_t>(cmd.cdw10 & 0xffff);
    if (qid == 0 || qid > options_.io_queues || !sqs_[qid]) {
        return {status::invalid_queue_id};
    }
    // Nothing is in flight (commands complete inline), so no command
    // needs "Aborted due to SQ Deletion".
    --cqs_[sqs_[qid]->cqid]->sq_count;
    sqs_[qid].reset();
    return {};
}

Completion QueueEngine::delete_io_cq(const Sqe& cmd) {
    const auto qid = static_cast<uint16_t>(cmd.cdw10 & 0xffff);
    if (qid == 0 || qid > options_.io_queues || !cqs_[qid]) {
        return {status::invalid_queue_id};
    }
    if (cqs_[qid]->sq_count != 0) {
        return {status::invalid_queue_deletion}; // SQs still complete here
    }
    cqs_[qid].reset();
    update_intx();
    return {};
}

} // namespace pciem::nvme
