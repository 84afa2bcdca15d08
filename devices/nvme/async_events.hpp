// SPDX-License-Identifier: MIT
//
// Asynchronous Event Requests: the host leaves up to AERL + 1 of them
// outstanding; the controller completes one when something happens (an
// invalid doorbell write, a temperature threshold crossed). Once an
// event is reported, further events of its log page wait until the host
// reads that page (without Retain Asynchronous Event).
//
// The requests are held commands of the admin queue: this part owns
// which are outstanding and which events wait for one, and completes
// them through the queue engine's admin CQ.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "queue_engine.hpp"

namespace pciem::nvme {

class AsyncEvents {
public:
    // Identify Controller AERL + 1.
    static constexpr unsigned limit = 4;

    explicit AsyncEvents(QueueEngine& queues) : queues_(queues) {}

    // An Asynchronous Event Request with command id cid: held (nullopt)
    // until an event completes it, or AER Limit Exceeded.
    [[nodiscard]] std::optional<Completion> request(uint16_t cid);
    // An event of the given type (aer::type_*), information and log page;
    // dropped while an earlier event of that page is unread.
    void report(uint8_t type, uint8_t info, uint8_t log_page);
    // Completes held requests with waiting events while the admin CQ has
    // room (also when the host frees some).
    void deliver();
    // The host read a log page without RAE: its events are re-armed.
    void page_read(uint8_t log_page);
    // Controller reset: requests are dropped without completion.
    void reset();

private:
    [[nodiscard]] bool page_masked(uint8_t log_page) const {
        return log_page < 32 && (masked_log_pages_ & (1u << log_page)) != 0;
    }

    QueueEngine& queues_;
    std::vector<uint16_t> cids_;    // outstanding requests, oldest first
    std::deque<uint32_t> pending_;  // events (their CQE DW0) waiting for one
    uint32_t masked_log_pages_ = 0; // bit per log page id < 32: reported, not read
};

} // namespace pciem::nvme
