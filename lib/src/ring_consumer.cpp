// SPDX-License-Identifier: MIT
#include "ring_consumer.hpp"

#include <atomic>
#include <cerrno>

#include <fmt/format.h>

namespace pciem {

namespace {

// Fields shared with the kernel are plain __u32 in the ABI; atomic_ref
// gives them the C11 semantics the protocol is written in.
template <class T>
std::atomic_ref<T> shared(T& field) {
    return std::atomic_ref<T>(field);
}

} // namespace

size_t ring_map_length(const pciem_ring_header& header) {
    return static_cast<size_t>(header.slots_offset) +
           static_cast<size_t>(header.entries) * header.entry_size;
}

Result<void> check_ring_header(const pciem_ring_header& header) {
    const pciem_ring_header* h = &header;
    if (h->magic != PCIEM_RING_MAGIC) {
        return fail(EPROTO, fmt::format("the ring has magic {:#x}, not {:#x}: this pciem.ko "
                                        "does not speak this libpciem's protocol",
                                        h->magic, PCIEM_RING_MAGIC));
    }
    if (h->version != PCIEM_RING_VERSION || h->entry_size != sizeof(pciem_req)) {
        return fail(EPROTO,
                    fmt::format("ring version {} with {}-byte slots; this libpciem "
                                "knows version {} with {}-byte slots: rebuild one "
                                "to match the other",
                                h->version, h->entry_size, PCIEM_RING_VERSION, sizeof(pciem_req)));
    }
    // entries must be a power of two: slot = sequence % entries relies
    // on the free-running 32-bit indices wrapping cleanly.
    if (h->entries == 0 || (h->entries & (h->entries - 1)) != 0 ||
        h->slots_offset < sizeof(pciem_ring_header) || h->slots_offset % alignof(pciem_req)) {
        return fail(EPROTO, fmt::format("ring header is malformed (entries {}, slots at {:#x})",
                                        h->entries, h->slots_offset));
    }
    return {};
}

Result<RingView> check_ring(void* base, size_t map_len) {
    if (map_len < sizeof(pciem_ring_header)) {
        return fail(EINVAL, "the ring mapping is smaller than its header");
    }
    auto* h = static_cast<pciem_ring_header*>(base);
    if (auto ok = check_ring_header(*h); !ok) {
        return std::unexpected(ok.error());
    }
    if (ring_map_length(*h) > map_len) {
        return fail(EINVAL, fmt::format("the ring needs {} bytes, {} are mapped",
                                        ring_map_length(*h), map_len));
    }
    auto* slots = reinterpret_cast<pciem_req*>(static_cast<uint8_t*>(base) + h->slots_offset);
    return RingView{h, slots, h->entries};
}

bool RingConsumer::pending() const {
    return shared(ring_.header->prod).load(std::memory_order_acquire) !=
           shared(ring_.header->cons).load(std::memory_order_relaxed);
}

void RingConsumer::set_polling(bool on) {
    auto flags = shared(ring_.header->model_flags);
    if (on) {
        flags.fetch_or(PCIEM_MODEL_F_POLLING, std::memory_order_release);
    } else {
        flags.fetch_and(~uint32_t{PCIEM_MODEL_F_POLLING}, std::memory_order_release);
        // The caller drains next: the kernel must see the flag clear
        // before we read its producer index (it orders the other way
        // round), or a request posted in between gets no wake-up.
        std::atomic_thread_fence(std::memory_order_seq_cst);
    }
}

void RingConsumer::wake_if_waiting() {
    // Full fence between publishing done and reading kernel_waiting;
    // the kernel has the matching one between raising kernel_waiting
    // and re-checking done, so one side always sees the other.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (shared(ring_.header->kernel_waiting).load(std::memory_order_relaxed) != 0 && wake_) {
        wake_();
    }
}

size_t RingConsumer::drain() {
    // cons is ours alone: a relaxed load sees our last store.
    uint32_t cons = shared(ring_.header->cons).load(std::memory_order_relaxed);
    // Acquire pairs with the kernel's release of prod: every slot before
    // prod is fully written once we see prod.
    const uint32_t prod = shared(ring_.header->prod).load(std::memory_order_acquire);
    size_t handled = 0;
    for (; cons != prod; ++cons, ++handled) {
        pciem_req& slot = ring_.slots[cons & (ring_.entries - 1)];
        const auto answer = handler_(slot);
        const bool is_read = slot.type == PCIEM_REQ_MMIO_READ || slot.type == PCIEM_REQ_CFG_READ;
        if (is_read && answer) {
            slot.data = *answer;
            // Release: the kernel, spinning on done, sees data with it.
            shared(slot.done).store(slot.seq, std::memory_order_release);
            // Wake now rather than after the batch: the next slot may be
            // a slow read, and this reader must not wait for it.
            wake_if_waiting();
        }
        // Per slot, not per batch: a producer waiting for room (and a
        // shadow read waiting for the ring to drain) proceeds at once.
        shared(ring_.header->cons).store(cons + 1, std::memory_order_release);
    }
    return handled;
}

} // namespace pciem
