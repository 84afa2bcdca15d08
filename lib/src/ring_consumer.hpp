// SPDX-License-Identifier: MIT
//
// The model's side of the request ring (include/uapi/linux/pciem.h,
// docs/abi.md "The request ring"), with no system calls in it: the
// KernelHost points it at the mmap()ed ring, unit tests at a ring in a
// std::vector. Only this file knows the ring's memory-ordering rules.
// Private to libpciem (and its unit test): no model or tool sees the ring.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

#include <linux/pciem.h>

#include "pciem/error.hpp"

namespace pciem {

// A ring in memory: the header and its slots.
struct RingView {
    pciem_ring_header* header = nullptr;
    pciem_req* slots = nullptr;
    uint32_t entries = 0;
};

// Checks magic, version, entry size and geometry of a ring header.
[[nodiscard]] Result<void> check_ring_header(const pciem_ring_header& header);
// Bytes to map for the whole ring, from a header check_ring_header()
// accepted.
[[nodiscard]] size_t ring_map_length(const pciem_ring_header& header);
// The ring whose header is at `base`, once header and slots are known to
// fit in the `map_len` bytes mapped there.
[[nodiscard]] Result<RingView> check_ring(void* base, size_t map_len);

class RingConsumer {
public:
    // The answer for a read, nullopt for a write or a read left
    // unanswered (the kernel times it out).
    using Handler = std::function<std::optional<uint64_t>(const pciem_req&)>;
    // PCIEM_IOC_WAKE: a kernel reader went to sleep waiting.
    using Wake = std::function<void()>;

    RingConsumer(RingView ring, Handler handler, Wake wake)
        : ring_(ring), handler_(std::move(handler)), wake_(std::move(wake)) {}

    // Handles every slot published so far, in order. Returns how many.
    size_t drain();
    // Whether the kernel has published slots not handled yet.
    [[nodiscard]] bool pending() const;
    // Busy-poll mode: the kernel skips waking us (PCIEM_MODEL_F_POLLING).
    void set_polling(bool on);

private:
    void wake_if_waiting();

    RingView ring_;
    Handler handler_;
    Wake wake_;
};

} // namespace pciem
