// SPDX-License-Identifier: MIT
//
// SimDma: the SimHost's host memory and DMA mapping table. The unit test
// plays the driver's side of the DMA API (map a buffer, allocate
// coherent memory, unmap), the model does its DMA through the Dma
// interface, and every access is checked with the rules pciem.ko applies
// (dma.hpp): direction, bounds, use after unmap, Bus Master Enable.
//
//     std::vector<std::byte> buf(4096);
//     uint64_t bus = h.dma().map(buf, pciem::DmaDirection::from_device);
//     h.write64(0, DST_ADDR, bus);          // tell the device where
//     ...                                    // the model writes into buf
//     h.dma().unmap(bus);
//     EXPECT_TRUE(h.dma().faults().empty());
//
// Bus addresses are handed out like pciem.ko hands them out: page
// granular, keeping the buffer's offset within its page, below the DMA
// mask, and never reused while the SimDma lives, so a late access to an
// unmapped buffer is always recognised as such.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <vector>

#include "pciem/dma.hpp"

namespace pciem {

// The direction a driver gives dma_map_*() (enum dma_data_direction).
enum class DmaDirection : uint8_t { bidirectional, to_device, from_device };

class SimDma final : public Dma {
public:
    SimDma();

    // ---- the driver's side -------------------------------------------
    // Maps caller-owned memory (dma_map_single). The memory must outlive
    // the mapping. Returns the bus address of memory[0].
    uint64_t map(std::span<std::byte> memory, DmaDirection dir);
    // Unmaps what map() returned (dma_unmap_single). Unknown addresses
    // are ignored and counted in bad_unmaps().
    void unmap(uint64_t address);
    // Zeroed, page-aligned memory owned by the SimDma, mapped
    // bidirectionally (dma_alloc_coherent). coherent() gives its bytes.
    uint64_t alloc_coherent(size_t size);
    [[nodiscard]] std::span<std::byte> coherent(uint64_t address);
    void free_coherent(uint64_t address);
    // Like dma_set_mask(): later mappings get addresses below 2^bits.
    void set_mask_bits(unsigned bits);
    [[nodiscard]] size_t live_mappings() const;
    [[nodiscard]] uint64_t bad_unmaps() const;

    // Accesses refused so far, in order (the kernel logs them).
    [[nodiscard]] std::vector<DmaFault> faults() const;
    std::vector<DmaFault> take_faults();

    // The SimHost mirrors Bus Master Enable here on every config write.
    void set_bus_master(bool on);

    // ---- the device's side (Dma) --------------------------------------
    DmaResult<void> read(uint64_t address, std::span<std::byte> out) override;
    DmaResult<void> write(uint64_t address, std::span<const std::byte> in) override;
    DmaResult<uint64_t> fetch_add(uint64_t address, uint64_t addend, unsigned size) override;
    DmaResult<uint64_t> swap(uint64_t address, uint64_t value, unsigned size) override;
    DmaResult<uint64_t> compare_swap(uint64_t address, uint64_t expected, uint64_t desired,
                                     unsigned size) override;

private:
    struct Mapping {
        uint64_t length = 0;
        std::byte* memory = nullptr;
        DmaDirection dir = DmaDirection::bidirectional;
        // The bus space it occupies: its pages and a guard page. A byte
        // there but outside the buffer is out of its bounds.
        uint64_t span_start = 0, span_end = 0;
    };
    enum class Access : uint8_t { read, write, atomic };
    // One contiguous piece of a checked access.
    struct Piece {
        std::byte* memory;
        size_t length;
    };

    // Checks [address, address + length) for `access`; on success fills
    // pieces with host memory to use. Caller holds lock_ (shared).
    DmaResult<void> check(uint64_t address, uint64_t length, Access access,
                          std::vector<Piece>& pieces);
    DmaResult<void> refuse(DmaFaultKind kind, uint64_t at, uint64_t address, uint64_t length,
                           Access access);
    template <class Op>
    DmaResult<uint64_t> atomic(uint64_t address, unsigned size, Op op);
    // Bus address for a buffer at page_offset; fills m's span.
    uint64_t next_address(uint64_t length, uint64_t page_offset, Mapping& m);
    // The live mapping whose span holds address, or nullptr.
    const Mapping* span_of(uint64_t address) const;

    mutable std::shared_mutex lock_;
    std::map<uint64_t, Mapping> live_;     // by bus address of first byte
    std::map<uint64_t, uint64_t> retired_; // unmapped: start -> length
    std::map<uint64_t, std::unique_ptr<std::byte[]>> coherent_;
    uint64_t next_low_ = 0x1000'0000;      // below 4 GiB, for 32-bit masks
    uint64_t next_high_ = 0x1'0000'0000;   // above
    unsigned mask_bits_ = 64;
    bool bus_master_ = false;
    uint64_t bad_unmaps_ = 0;
    mutable std::mutex faults_lock_;
    std::vector<DmaFault> faults_;
};

} // namespace pciem
