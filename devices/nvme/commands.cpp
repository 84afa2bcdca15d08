// SPDX-License-Identifier: MIT
//
// Command dispatch: every fetched command comes here from the queue
// engine. The admin commands that belong to a part (queue management,
// features, log pages, asynchronous events, shadow doorbells) are
// decoded there or here and served by it; what a part's answer means
// for the rest of the controller (a threshold crossed, a cache to flush,
// a page read re-arming its events) is wired here.
#include <algorithm>
#include <array>

#include "controller.hpp"
#include "data_pointer.hpp"

namespace pciem::nvme {

std::optional<Completion> Controller::execute(SubmissionQueue& sq, const Sqe& cmd) {
    if (cmd.fuse() != 0) {
        return Completion{status::invalid_field}; // fused operations: not supported
    }
    if (sq.qid == 0) {
        return admin_command(sq, cmd);
    }
    return io_command(sq, cmd);
}

std::optional<Completion> Controller::admin_command(SubmissionQueue& sq, const Sqe& cmd) {
    // Admin commands carry PRPs only (PCIe transport).
    if (cmd.psdt() != 0) {
        return Completion{status::invalid_field};
    }
    const auto cc = static_cast<uint32_t>(cc_->value());
    switch (cmd.opcode) {
    case admin_op::delete_io_sq:
        return queues_.delete_io_sq(cmd);
    case admin_op::create_io_sq:
        return queues_.create_io_sq(cmd, cc, page_size_);
    case admin_op::get_log_page:
        return get_log_page(sq, cmd);
    case admin_op::delete_io_cq:
        return queues_.delete_io_cq(cmd);
    case admin_op::create_io_cq:
        return queues_.create_io_cq(cmd, cc, page_size_);
    case admin_op::identify:
        return identify(sq, cmd);
    case admin_op::abort:
        // Commands complete before their doorbell write returns, so there
        // is never one left to abort: DW0 bit 0 says "not aborted".
        return Completion{status::success, 1};
    case admin_op::set_features:
        return set_features(cmd);
    case admin_op::get_features:
        return features_.get(cmd);
    case admin_op::async_event_request:
        return events_.request(cmd.cid);
    case admin_op::format_nvm:
        return format_nvm(cmd);
    case admin_op::doorbell_buffer_config:
        if (!options_.shadow_doorbells) {
            return Completion{status::invalid_opcode};
        }
        return queues_.doorbell_buffer_config(cmd, page_size_);
    default:
        return Completion{status::invalid_opcode};
    }
}

Completion Controller::set_features(const Sqe& cmd) {
    Features::Effects effects;
    const Completion done = features_.set(cmd, queues_.has_io_queues(), effects);
    if (effects.thresholds) {
        check_temperature();
    }
    if (effects.write_cache_off) {
        for (Namespace& ns : namespaces_) {
            (void)ns.backing->flush(); // what the cache held is durable now
        }
    }
    return done;
}

Completion Controller::get_log_page(SubmissionQueue& sq, const Sqe& cmd) {
    const auto lid = static_cast<uint8_t>(cmd.cdw10 & 0xff);
    const bool retain = (cmd.cdw10 & (1u << 15)) != 0;
    const uint64_t dwords = ((uint64_t{cmd.cdw11 & 0xffff} << 16) | (cmd.cdw10 >> 16)) + 1;
    const uint64_t offset = cmd.cdw12 | uint64_t{cmd.cdw13} << 32;

    alignas(8) std::array<std::byte, LogPages::max_page> page{};
    const LogPages::Page filled = logs_.fill(lid, cmd.nsid, page);
    if (!filled.status.ok()) {
        return {filled.status};
    }
    if ((offset & 3) != 0 || offset >= filled.size) {
        return {status::invalid_field};
    }
    // Only what the page holds is transferred.
    const size_t len = static_cast<size_t>(std::min<uint64_t>(dwords * 4, filled.size - offset));
    Completion done = copy_to_host(sq, cmd, std::span(page).subspan(offset, len));
    if (done.status.ok() && !retain) {
        events_.page_read(lid); // Reading a page without RAE re-arms its events.
    }
    return done;
}

void Controller::set_temperature(uint16_t kelvin) {
    logs_.set_temperature(kelvin);
    check_temperature();
}

void Controller::check_temperature() {
    if (logs_.update_warnings(features_.current())) {
        events_.report(aer::type_smart, aer::info_temperature_threshold, log_page::smart);
    }
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
