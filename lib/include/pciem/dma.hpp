// SPDX-License-Identifier: MIT
//
// Dma: how a device model reads and writes host memory, the way a
// bus-mastering device does, at the bus addresses its driver handed it
// (descriptor rings, PRP lists, data buffers):
//
//     std::array<std::byte, 64> cmd;
//     if (auto ok = dma().read(sq_addr + 64 * head, cmd); !ok) {
//         set_status(FATAL);                   // ok.error().kind says why
//     }
//     (void)dma().write(cq_addr + 16 * tail, as_bytes(completion));
//     auto old = dma().fetch_add(counter_addr, 1, 8);
//
// The host checks every access against the mappings the driver made
// (DMA sanitizer, on by default; the same rules on every host):
//  - Bus Master Enable clear in the Command register: refused
//    (DmaFaultKind::bus_master_off), nothing is accessed.
//  - Every byte must lie in the live mapping the access starts in
//    (mappings never touch: a guard page follows each in bus address
//    space). A byte in no mapping is `unmapped`, or `stale` when a
//    mapping that covered it was unmapped; an access that runs past the
//    end of its mapping, or touches the bytes of a mapping's pages around
//    the buffer, is `bounds`.
//  - Direction as the driver declared it: a device reads only TO_DEVICE
//    and BIDIRECTIONAL mappings and writes only FROM_DEVICE and
//    BIDIRECTIONAL ones (as an IOMMU enforces). Otherwise `direction`.
//  - Atomics (PCIe FetchAdd, Swap, CompareAndSwap; 4 or 8 bytes) need a
//    naturally aligned operand (`alignment`) in a BIDIRECTIONAL mapping,
//    and are done as real atomic instructions on host memory, so they
//    are atomic against the CPUs.
// A refused access reads or writes nothing at all (not even the bytes
// before the faulting one), and the host logs it. The model turns the
// fault into its device's own error status.
//
// All calls are thread-safe: queue threads of a model may DMA at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>

#include <linux/pciem.h>

#include "pciem/error.hpp"

namespace pciem {

class Interrupts;

enum class DmaFaultKind : uint8_t {
    bus_master_off, // Bus Master Enable is clear
    unmapped,       // a byte no mapping covers (and none covered lately)
    stale,          // a byte whose mapping the driver has unmapped
    bounds,         // runs past the end of the mapping it starts in
    direction,      // read of a FROM_DEVICE / write of a TO_DEVICE mapping
    alignment,      // atomic operand not naturally aligned, or size not 4/8
    no_host,        // the model runs on no host, or the device is gone
    injected,       // refused by an injected fault (PCIEM_FAULT_DMA_REFUSE)
};

struct DmaFault {
    DmaFaultKind kind = DmaFaultKind::unmapped;
    uint64_t address = 0; // the first byte refused
    // A sentence for logs: "DMA write of 512 bytes at 0x1000: ..."
    std::string message;
};

template <class T>
using DmaResult = std::expected<T, DmaFault>;

// What a direct access to the window does.
enum class DmaAccess : uint8_t { read = 1, write = 2, read_write = 3 };

// One piece of a scatter-gather list, in bus addresses.
struct DmaSegment {
    uint64_t address = 0;
    uint64_t length = 0;
};

// One write of Dma::write_then_raise(): `data` along the scatter-gather
// list `sg` (which may be longer than needed).
struct DmaWrite {
    std::span<const DmaSegment> sg;
    std::span<const std::byte> data;
};

// What Dma::write_then_raise() did.
struct WriteThenRaise {
    size_t written = 0;            // writes done, in order
    std::optional<DmaFault> fault; // why writes[written] was refused
    // The raise's outcome when it was tried (every write done and a
    // vector given), as Interrupts::raise() reports it.
    std::optional<Result<void>> raised;
};

class Dma {
public:
    Dma() = default;
    Dma(const Dma&) = delete;
    Dma& operator=(const Dma&) = delete;
    Dma(Dma&&) = delete;
    Dma& operator=(Dma&&) = delete;
    virtual ~Dma() = default;

    // Host memory at [address, address + out.size()) into out.
    [[nodiscard]] virtual DmaResult<void> read(uint64_t address, std::span<std::byte> out) = 0;
    // in into host memory at [address, address + in.size()).
    [[nodiscard]] virtual DmaResult<void> write(uint64_t address,
                                                std::span<const std::byte> in) = 0;

    // PCIe AtomicOps. size is 4 or 8; each returns the old value.
    [[nodiscard]] virtual DmaResult<uint64_t> fetch_add(uint64_t address, uint64_t addend,
                                                        unsigned size) = 0;
    [[nodiscard]] virtual DmaResult<uint64_t> swap(uint64_t address, uint64_t value,
                                                   unsigned size) = 0;
    // Stores desired only if the old value equals expected.
    [[nodiscard]] virtual DmaResult<uint64_t> compare_swap(uint64_t address, uint64_t expected,
                                                           uint64_t desired, unsigned size) = 0;

    // Zero-copy window (opt-in per device, see docs/dma.md): when the
    // host gives the device one, all its DMA lands in these bytes at bus
    // address window_base() + offset, and the model may touch them
    // directly, with no call per access. Empty otherwise.
    [[nodiscard]] virtual std::span<std::byte> window() { return {}; }
    [[nodiscard]] virtual uint64_t window_base() const { return 0; }
    // Whether the device may do `access` to [address, address + len) of
    // the window now, as the sanitizer would rule (bus mastering on, the
    // pages mapped in that direction). Hosts that know say; the default
    // allows.
    [[nodiscard]] virtual bool window_allows(uint64_t /*address*/, size_t /*len*/,
                                             DmaAccess /*access*/) const {
        return true;
    }
    // The window's bytes for [address, address + len), or an empty span
    // when they are not all in the window or the access is not allowed
    // (then use read()/write(), which refuse it with the reason).
    [[nodiscard]] std::span<std::byte> direct(uint64_t address, size_t len,
                                              DmaAccess access = DmaAccess::read_write);

    // The fast path for models that opted into a window: straight from or
    // into the window when every byte lies in it (no check, no system
    // call), else read()/write() (checked); the _sg forms go direct when
    // every segment lies in the window, else take read_sg()/write_sg().
    // Without a window these are read()/write()/read_sg()/write_sg().
    [[nodiscard]] DmaResult<void> fast_read(uint64_t address, std::span<std::byte> out);
    [[nodiscard]] DmaResult<void> fast_write(uint64_t address, std::span<const std::byte> in);
    [[nodiscard]] DmaResult<void> fast_read_sg(std::span<const DmaSegment> sg,
                                               std::span<std::byte> out);
    [[nodiscard]] DmaResult<void> fast_write_sg(std::span<const DmaSegment> sg,
                                                std::span<const std::byte> in);

    // Scatter-gather helpers: the segments in order, as one transfer of
    // out.size() / in.size() bytes (the list may be longer than needed).
    // A fault in any segment stops there; earlier segments are done.
    // Hosts may do the whole list in one go (the kernel host: one ioctl
    // for up to 256 segments).
    [[nodiscard]] virtual DmaResult<void> read_sg(std::span<const DmaSegment> sg,
                                                  std::span<std::byte> out);
    [[nodiscard]] virtual DmaResult<void> write_sg(std::span<const DmaSegment> sg,
                                                   std::span<const std::byte> in);

    // A device finishing work: its writes in order (the data, then the
    // entry that says the data is there), then MSI/MSI-X `vector`, which
    // PCIe keeps behind them (none: no raise). A refused write stops the
    // list there: the writes after it and the raise do not happen, and
    // the model decides what to report instead. Each write goes as
    // fast_write_sg() would (straight into the window where it can).
    // The kernel host does it all in one system call when irq is its own
    // and pciem.ko knows how (PCIEM_DMA_RAISE); the default writes each
    // with fast_write_sg() and then calls irq.raise(vector).
    [[nodiscard]] virtual WriteThenRaise write_then_raise(std::span<const DmaWrite> writes,
                                                          std::optional<unsigned> vector,
                                                          Interrupts& irq);

protected:
    // Whether the first `bytes` bytes of the list all lie in the window
    // and may be accessed directly.
    bool all_direct(std::span<const DmaSegment> sg, size_t bytes, DmaAccess access);
};

// "unmapped", "bus master off", ...: for messages and status logs.
const char* dma_fault_name(DmaFaultKind kind);

// The kind of an ABI enum pciem_dma_fault (PCIEM_DMA_F_*): what the kernel
// reported for a transfer, or a recording kept. Values this build does not
// know are `unmapped`.
DmaFaultKind dma_fault_kind(uint32_t abi_fault);

} // namespace pciem
