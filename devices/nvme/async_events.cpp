// SPDX-License-Identifier: MIT
//
// Asynchronous Event Requests: the host leaves up to AERL + 1 of them
// outstanding; the controller completes one when something happens (an
// invalid doorbell write, a temperature threshold crossed). Once an
// event is reported, further events of its log page wait until the host
// reads that page (without Retain Asynchronous Event).
#include <algorithm>

#include "controller.hpp"

namespace pciem::nvme {

namespace {

uint32_t event_dw0(uint8_t type, uint8_t info, uint8_t log_page) {
    return uint32_t{type} | uint32_t{info} << 8 | uint32_t{log_page} << 16;
}

uint8_t event_log_page(uint32_t dw0) {
    return static_cast<uint8_t>(dw0 >> 16);
}

} // namespace

std::optional<Completion> Controller::async_event_request(const Sqe& cmd) {
    if (aer_cids_.size() >= max_async_events) {
        return Completion{status::aer_limit_exceeded};
    }
    aer_cids_.push_back(cmd.cid);
    deliver_events();
    return std::nullopt;
}

void Controller::report_event(uint8_t type, uint8_t info, uint8_t log_page) {
    if (log_page < 32 && (masked_log_pages_ & (1u << log_page)) != 0) {
        return; // the host has not read the page of the last one yet
    }
    const uint32_t dw0 = event_dw0(type, info, log_page);
    if (std::find(pending_events_.begin(), pending_events_.end(), dw0) == pending_events_.end()) {
        pending_events_.push_back(dw0);
    }
    deliver_events();
    signal_completions();
}

void Controller::deliver_events() {
    if (!cqs_[0] || !sqs_[0]) {
        return;
    }
    CompletionQueue& cq = *cqs_[0];
    while (!pending_events_.empty() && !aer_cids_.empty() && !cq.full()) {
        const uint32_t dw0 = pending_events_.front();
        const uint8_t page = event_log_page(dw0);
        if (page < 32 && (masked_log_pages_ & (1u << page)) != 0) {
            pending_events_.pop_front();
            continue;
        }
        if (!post_completion(cq, 0, static_cast<uint16_t>(sqs_[0]->head), aer_cids_.front(),
                             {status::success, dw0})) {
            return;
        }
        aer_cids_.erase(aer_cids_.begin());
        pending_events_.pop_front();
        if (page < 32) {
            masked_log_pages_ |= 1u << page;
        }
    }
}

void Controller::log_page_read(uint8_t log_page) {
    if (log_page < 32) {
        masked_log_pages_ &= ~(1u << log_page);
    }
    deliver_events();
}

void Controller::set_temperature(uint16_t kelvin) {
    temperature_ = kelvin;
    check_temperature();
}

void Controller::check_temperature() {
    constexpr uint8_t temperature_warning = 1u << 1; // SMART Critical Warning bit 1
    const uint8_t before = critical_warning_;
    const bool outside =
        temperature_ > features_.temperature_over || temperature_ < features_.temperature_under;
    critical_warning_ = outside ? (before | temperature_warning) : (before & ~temperature_warning);
    // Async Event Configuration bits 7:0 enable events per warning bit.
    if ((critical_warning_ & ~before & features_.async_event_config & 0xff) != 0) {
        report_event(aer::type_smart, aer::info_temperature_threshold, log_page::smart);
    }
}

} // namespace pciem::nvme
