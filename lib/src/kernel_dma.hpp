// SPDX-License-Identifier: MIT
//
// KernelDma: the Dma a KernelHost binds to its model. Every call is one
// PCIEM_IOC_DMA on the device fd: pciem.ko checks the access against the
// driver's live mappings and moves the bytes (docs/dma.md). Private to
// libpciem: models reach it as DeviceModel::dma().
#pragma once

#include <span>

#include "pciem/dma.hpp"
#include "pciem/error.hpp"

namespace pciem {

class KernelDma final : public Dma {
public:
    explicit KernelDma(int device_fd) : fd_(device_fd) {}

    DmaResult<void> read(uint64_t address, std::span<std::byte> out) override;
    DmaResult<void> write(uint64_t address, std::span<const std::byte> in) override;
    DmaResult<uint64_t> fetch_add(uint64_t address, uint64_t addend, unsigned size) override;
    DmaResult<uint64_t> swap(uint64_t address, uint64_t value, unsigned size) override;
    DmaResult<uint64_t> compare_swap(uint64_t address, uint64_t expected, uint64_t desired,
                                     unsigned size) override;
    // One PCIEM_IOC_DMA per 256 segments.
    DmaResult<void> read_sg(std::span<const DmaSegment> sg, std::span<std::byte> out) override;
    DmaResult<void> write_sg(std::span<const DmaSegment> sg,
                             std::span<const std::byte> in) override;
    std::span<std::byte> window() override { return window_; }
    [[nodiscard]] uint64_t window_base() const override { return window_base_; }
    // From the kernel's per-page permissions of the window (Bus Master
    // Enable, the live mappings' directions), read without a system call.
    [[nodiscard]] bool window_allows(uint64_t address, size_t len,
                                     DmaAccess access) const override;

    // Data, entries and the interrupt in one PCIEM_IOC_DMA (per 256
    // transfers) when irq is the one bind_raise() named; else Dma's.
    WriteThenRaise write_then_raise(std::span<const DmaWrite> writes,
                                    std::optional<unsigned> vector, Interrupts& irq) override;
    // The host's own interrupts, when pciem.ko takes PCIEM_DMA_RAISE
    // (PCIEM_INFO_F_DMA_RAISE): raises through them may join a batch.
    void bind_raise(const Interrupts* own) { raise_irq_ = own; }

    // The KernelHost maps the zero-copy window and its permissions and
    // hands them over here.
    void bind_window(std::span<std::byte> bytes, uint64_t bus_base, const pciem_dma_perm* perm) {
        window_ = bytes;
        window_base_ = bus_base;
        perm_ = perm;
    }

private:
    // Runs one transfer; the kernel fills result/fault.
    DmaResult<uint64_t> run(pciem_dma_xfer& x);
    // Runs a batch; the first refused transfer ends it with its fault,
    // and its index in *refused (0 when the call itself failed).
    DmaResult<uint64_t> run_batch(std::span<pciem_dma_xfer> xs, size_t* refused = nullptr);
    // READ/WRITE of len bytes, in transfers the kernel accepts.
    DmaResult<void> moved(uint32_t op, uint64_t address, std::byte* buf, size_t len);
    // READ/WRITE of a scatter-gather list, batched.
    DmaResult<void> moved_sg(uint32_t op, std::span<const DmaSegment> sg, std::byte* buf,
                             size_t len);

    int fd_;
    const Interrupts* raise_irq_ = nullptr;
    std::span<std::byte> window_;
    uint64_t window_base_ = 0;
    const pciem_dma_perm* perm_ = nullptr;
};

} // namespace pciem
