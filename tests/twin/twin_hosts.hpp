// SPDX-License-Identifier: MIT
//
// The two sides a twin script is played on: the test device model on the
// SimHost in this process, and the same model (pciem-testdev) behind
// pciem.ko, driven through the files a driver and its test driver give
// userspace: the function's sysfs `config` (the kernel's config
// accessors) and pciem_mmio_test's debugfs `reg` (readl/writel on its
// ioremap of BAR0) and `dmabuf` (dma_map_single of one page).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "pciem/sim_host.hpp"
#include "testdev.hpp"
#include "twin_script.hpp"

namespace pciem::twin {

class SimDriver final : public Driver {
public:
    static Result<std::unique_ptr<SimDriver>> create();
    Result<uint32_t> cfg_read(uint32_t offset, unsigned size) override;
    Result<void> cfg_write(uint32_t offset, unsigned size, uint32_t value) override;
    Result<uint32_t> read(uint32_t offset) override;
    Result<void> write(uint32_t offset, uint32_t value) override;
    Result<uint64_t> dma_map(const std::string& dir) override;
    Result<void> dma_unmap() override;
    Result<uint32_t> dma_word() override;

private:
    SimDriver() = default;
    devices::TestDev model_;
    std::unique_ptr<SimHost> host_;
    // One page, page aligned like the kernel's kmalloc(PAGE_SIZE); kept
    // after an unmap as the test driver keeps its page.
    struct Free {
        void operator()(std::byte* p) const { std::free(p); }
    };
    std::unique_ptr<std::byte, Free> page_;
    uint64_t bus_ = 0;
};

class KernelDriver final : public Driver {
public:
    // addr: the function as sysfs names it ("10000:00:00.0").
    static Result<std::unique_ptr<KernelDriver>> open(const std::string& addr);
    Result<uint32_t> cfg_read(uint32_t offset, unsigned size) override;
    Result<void> cfg_write(uint32_t offset, unsigned size, uint32_t value) override;
    Result<uint32_t> read(uint32_t offset) override;
    Result<void> write(uint32_t offset, uint32_t value) override;
    Result<uint64_t> dma_map(const std::string& dir) override;
    Result<void> dma_unmap() override;
    Result<uint32_t> dma_word() override;

private:
    KernelDriver() = default;
    std::string config_, reg_, dmabuf_;
};

} // namespace pciem::twin
