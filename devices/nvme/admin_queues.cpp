// SPDX-License-Identifier: MIT
//
// The admin command dispatch, and the admin commands that manage I/O
// queues: Create/Delete I/O Completion and Submission Queue, Abort.
#include <memory>

#include "controller.hpp"
#include "data_pointer.hpp"

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

std::optional<Completion> Controller::admin_command(SubmissionQueue& sq, const Sqe& cmd) {
    // Admin commands carry PRPs only (PCIe transport).
    if (cmd.psdt() != 0) {
        return Completion{status::invalid_field};
    }
    switch (cmd.opcode) {
    case admin_op::delete_io_sq:
        return delete_io_sq(cmd);
    case admin_op::create_io_sq:
        return create_io_sq(cmd);
    case admin_op::get_log_page:
        return get_log_page(sq, cmd);
    case admin_op::delete_io_cq:
        return delete_io_cq(cmd);
    case admin_op::create_io_cq:
        return create_io_cq(cmd);
    case admin_op::identify:
        return identify(sq, cmd);
    case admin_op::abort:
        // Commands complete before their doorbell write returns, so there
        // is never one left to abort: DW0 bit 0 says "not aborted".
        return Completion{status::success, 1};
    case admin_op::set_features:
        return set_features(cmd);
    case admin_op::get_features:
        return get_features(cmd);
    case admin_op::async_event_request:
        return async_event_request(cmd);
    case admin_op::format_nvm:
        return format_nvm(cmd);
    case admin_op::doorbell_buffer_config:
        if (!options_.shadow_doorbells) {
            return Completion{status::invalid_opcode};
        }
        return doorbell_buffer_config(cmd);
    default:
        return Completion{status::invalid_opcode};
    }
}

Completion Controller::create_io_cq(const Sqe& cmd) {
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
    if ((cmd.dptr1 & (page_size_ - 1)) != 0) {
        return {status::prp_invalid_offset};
    }
    if (vector >= options_.vectors()) {
        return {status::invalid_interrupt_vector};
    }
    if (((cc_->value() >> cc::iocqes_shift) & 0xf) != cqe_size_log2) {
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

Completion Controller::create_io_sq(const Sqe& cmd) {
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
    if ((cmd.dptr1 & (page_size_ - 1)) != 0) {
        return {status::prp_invalid_offset};
    }
    if (((cc_->value() >> cc::iosqes_shift) & 0xf) != sqe_size_log2) {
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

Completion Controller::delete_io_sq(const Sqe& cmd) {
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

Completion Controller::delete_io_cq(const Sqe& cmd) {
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

Completion Controller::copy_to_host(SubmissionQueue& sq, const Sqe& cmd,
                                    std::span<const std::byte> data) {
    if (Status s = resolve_prps(dma(), cmd.dptr1, cmd.dptr2, data.size(), page_size_, sq.runs);
        !s.ok()) {
        return {s};
    }
    if (!dma().fast_write_sg(sq.runs, data)) {
        return {status::data_transfer_error};
    }
    return {};
}

} // namespace pciem::nvme
