// SPDX-License-Identifier: MIT
//
// Asynchronous events: see async_events.hpp.
#include "async_events.hpp"

#include <algorithm>

namespace pciem::nvme {

namespace {

uint32_t event_dw0(uint8_t type, uint8_t info, uint8_t log_page) {
    return uint32_t{type} | uint32_t{info} << 8 | uint32_t{log_page} << 16;
}

uint8_t event_log_page(uint32_t dw0) {
    return static_cast<uint8_t>(dw0 >> 16);
}

} // namespace

std::optional<Completion> AsyncEvents::request(uint16_t cid) {
    if (cids_.size() >= limit) {
        return Completion{status::aer_limit_exceeded};
    }
    cids_.push_back(cid);
    deliver();
    return std::nullopt;
}

void AsyncEvents::report(uint8_t type, uint8_t info, uint8_t log_page) {
    if (page_masked(log_page)) {
        return; // the host has not read the page of the last one yet
    }
    const uint32_t dw0 = event_dw0(type, info, log_page);
    if (std::find(pending_.begin(), pending_.end(), dw0) == pending_.end()) {
        pending_.push_back(dw0);
    }
    deliver();
    queues_.signal_completions();
}

void AsyncEvents::deliver() {
    // An event stays pending while the CQ is full: it is not dropped
    // for a page masked now, which a page read may unmask first.
    while (!pending_.empty() && !cids_.empty() && queues_.admin_cq_has_room()) {
        const uint32_t dw0 = pending_.front();
        const uint8_t page = event_log_page(dw0);
        if (page_masked(page)) {
            pending_.pop_front();
            continue;
        }
        if (!queues_.post_admin(cids_.front(), {status::success, dw0})) {
            return;
        }
        cids_.erase(cids_.begin());
        pending_.pop_front();
        if (page < 32) {
            masked_log_pages_ |= 1u << page;
        }
    }
}

void AsyncEvents::page_read(uint8_t log_page) {
    if (log_page < 32) {
        masked_log_pages_ &= ~(1u << log_page);
    }
    deliver();
}

void AsyncEvents::reset() {
    cids_.clear();
    pending_.clear();
    masked_log_pages_ = 0;
}

} // namespace pciem::nvme
