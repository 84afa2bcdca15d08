// SPDX-License-Identifier: MIT
#include "pciem/sim_dma.hpp"

#include <atomic>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "pciem_dma_rules.h"

namespace pciem {

namespace {

constexpr uint64_t page_size = 4096;

// The shared rules take the kernel's direction values.
static_assert(static_cast<uint8_t>(DmaDirection::bidirectional) == PCIEM_DMA_RULES_BIDIRECTIONAL &&
              static_cast<uint8_t>(DmaDirection::to_device) == PCIEM_DMA_RULES_TO_DEVICE &&
              static_cast<uint8_t>(DmaDirection::from_device) == PCIEM_DMA_RULES_FROM_DEVICE);

uint64_t page_up(uint64_t v) {
    return (v + page_size - 1) & ~(page_size - 1);
}

} // namespace

SimDma::SimDma() = default;

uint64_t SimDma::next_address(uint64_t length, uint64_t page_offset, Mapping& m) {
    // Monotonic, with a guard page between mappings so that running off
    // the end of one never lands in the next.
    uint64_t& next = mask_bits_ <= 32 ? next_low_ : next_high_;
    const uint64_t address = next + page_offset;
    m.span_start = next;
    next += page_up(page_offset + length) + page_size;
    m.span_end = next;
    return address;
}

const SimDma::Mapping* SimDma::span_of(uint64_t address) const {
    for (const auto& [start, m] : live_) {
        if (address >= m.span_start && address < m.span_end) {
            return &m;
        }
    }
    return nullptr;
}

uint64_t SimDma::map(std::span<std::byte> memory, DmaDirection dir) {
    std::unique_lock guard(lock_);
    const auto offset = reinterpret_cast<uintptr_t>(memory.data()) & (page_size - 1);
    Mapping m{memory.size(), memory.data(), dir};
    const uint64_t address = next_address(memory.size(), offset, m);
    live_[address] = m;
    return address;
}

void SimDma::unmap(uint64_t address) {
    std::unique_lock guard(lock_);
    auto it = live_.find(address);
    if (it == live_.end()) {
        ++bad_unmaps_;
        return;
    }
    retired_[address] = it->second.length;
    live_.erase(it);
}

uint64_t SimDma::alloc_coherent(size_t size) {
    auto mem = std::make_unique<std::byte[]>(size); // zeroed
    std::byte* p = mem.get();
    std::unique_lock guard(lock_);
    // Coherent memory is page aligned in the kernel: offset 0.
    Mapping m{size, p, DmaDirection::bidirectional};
    const uint64_t address = next_address(size, 0, m);
    live_[address] = m;
    coherent_[address] = std::move(mem);
    return address;
}

std::span<std::byte> SimDma::coherent(uint64_t address) {
    std::shared_lock guard(lock_);
    auto it = live_.find(address);
    if (it == live_.end() || !coherent_.contains(address)) {
        return {};
    }
    return {it->second.memory, it->second.length};
}

void SimDma::free_coherent(uint64_t address) {
    std::unique_lock guard(lock_);
    auto it = coherent_.find(address);
    if (it == coherent_.end()) {
        ++bad_unmaps_;
        return;
    }
    retired_[address] = live_.at(address).length;
    live_.erase(address);
    coherent_.erase(it);
}

void SimDma::set_mask_bits(unsigned bits) {
    std::unique_lock guard(lock_);
    mask_bits_ = bits;
}

size_t SimDma::live_mappings() const {
    std::shared_lock guard(lock_);
    return live_.size();
}

uint64_t SimDma::bad_unmaps() const {
    std::shared_lock guard(lock_);
    return bad_unmaps_;
}

std::vector<DmaFault> SimDma::faults() const {
    std::lock_guard guard(faults_lock_);
    return faults_;
}

std::vector<DmaFault> SimDma::take_faults() {
    std::lock_guard guard(faults_lock_);
    return std::exchange(faults_, {});
}

void SimDma::set_bus_master(bool on) {
    std::unique_lock guard(lock_);
    bus_master_ = on;
}

DmaResult<void> SimDma::refuse(DmaFaultKind kind, uint64_t at, uint64_t address, uint64_t length,
                               Access access) {
    static constexpr const char* names[] = {"read", "write", "atomic"};
    DmaFault fault{kind, at,
                   fmt::format("DMA {} of {} bytes at {:#x}: {} at {:#x}",
                               names[static_cast<int>(access)], length, address,
                               dma_fault_name(kind), at)};
    std::lock_guard guard(faults_lock_);
    faults_.push_back(fault);
    return std::unexpected(std::move(fault));
}

DmaResult<void> SimDma::check(uint64_t address, uint64_t length, Access access,
                              std::vector<Piece>& pieces) {
    // The lookups are this table's; the verdict is the kernel's own rule
    // (kernel/rules/pciem_dma_rules.c), in the kernel's order: an access
    // that wraps around the address space first, then the rules.
    if (address + length < address) {
        return refuse(DmaFaultKind::unmapped, address, address, length, access);
    }
    pciem_dma_found found{};
    found.bus_master = bus_master_;
    const Mapping* hit = nullptr;
    uint64_t hit_start = 0;
    if (found.bus_master) {
        auto it = live_.upper_bound(address);
        if (it != live_.begin() && address < std::prev(it)->first + std::prev(it)->second.length) {
            hit_start = std::prev(it)->first;
            hit = &std::prev(it)->second;
            found.live = true;
            found.iova = hit_start;
            found.len = hit->length;
            found.dir = static_cast<uint8_t>(hit->dir);
        } else if (span_of(address) != nullptr) {
            found.in_span = true;
        } else {
            auto old = retired_.upper_bound(address);
            found.retired =
                old != retired_.begin() && address < std::prev(old)->first + std::prev(old)->second;
        }
    }
    static constexpr uint32_t ops[] = {PCIEM_DMA_READ, PCIEM_DMA_WRITE, PCIEM_DMA_FETCH_ADD};
    uint64_t at = address;
    const uint32_t fault = pciem_dma_judge(&found, ops[static_cast<int>(access)], address, length, &at);
    if (fault != PCIEM_DMA_OK) {
        return refuse(dma_fault_kind(fault), at, address, length, access);
    }
    if (length != 0) {
        pieces.push_back(Piece{hit->memory + (address - hit_start), static_cast<size_t>(length)});
    }
    return {};
}

DmaResult<void> SimDma::read(uint64_t address, std::span<std::byte> out) {
    std::vector<Piece> pieces;
    std::shared_lock guard(lock_);
    if (auto ok = check(address, out.size(), Access::read, pieces); !ok) {
        return ok;
    }
    for (const Piece& p : pieces) {
        std::memcpy(out.data(), p.memory, p.length);
        out = out.subspan(p.length);
    }
    return {};
}

DmaResult<void> SimDma::write(uint64_t address, std::span<const std::byte> in) {
    std::vector<Piece> pieces;
    std::shared_lock guard(lock_);
    if (auto ok = check(address, in.size(), Access::write, pieces); !ok) {
        return ok;
    }
    for (const Piece& p : pieces) {
        std::memcpy(p.memory, in.data(), p.length);
        in = in.subspan(p.length);
    }
    return {};
}

template <class Op>
DmaResult<uint64_t> SimDma::atomic(uint64_t address, unsigned size, Op op) {
    std::shared_lock guard(lock_);
    if (pciem_dma_atomic_shape(address, size) != PCIEM_DMA_OK) {
        return std::unexpected(
            refuse(DmaFaultKind::alignment, address, address, size, Access::atomic).error());
    }
    std::vector<Piece> pieces;
    if (auto ok = check(address, size, Access::atomic, pieces); !ok) {
        return std::unexpected(ok.error());
    }
    // Aligned and within one mapping (a mapping never ends mid-operand
    // of an aligned atomic unless the buffer itself is that short, which
    // check() refused as bounds).
    if (size == 4) {
        std::atomic_ref<uint32_t> word(*reinterpret_cast<uint32_t*>(pieces.front().memory));
        return op(word);
    }
    std::atomic_ref<uint64_t> word(*reinterpret_cast<uint64_t*>(pieces.front().memory));
    return op(word);
}

DmaResult<uint64_t> SimDma::fetch_add(uint64_t address, uint64_t addend, unsigned size) {
    return atomic(address, size, [addend](auto& w) -> uint64_t {
        using T = typename std::remove_reference_t<decltype(w)>::value_type;
        return w.fetch_add(static_cast<T>(addend));
    });
}

DmaResult<uint64_t> SimDma::swap(uint64_t address, uint64_t value, unsigned size) {
    return atomic(address, size, [value](auto& w) -> uint64_t {
        using T = typename std::remove_reference_t<decltype(w)>::value_type;
        return w.exchange(static_cast<T>(value));
    });
}

DmaResult<uint64_t> SimDma::compare_swap(uint64_t address, uint64_t expected, uint64_t desired,
                                         unsigned size) {
    return atomic(address, size, [expected, desired](auto& w) -> uint64_t {
        using T = typename std::remove_reference_t<decltype(w)>::value_type;
        T old = static_cast<T>(expected);
        w.compare_exchange_strong(old, static_cast<T>(desired));
        return old;
    });
}

} // namespace pciem
