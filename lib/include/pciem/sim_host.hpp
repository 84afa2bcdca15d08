// SPDX-License-Identifier: MIT
//
// SimHost: an in-process host in which a unit test plays the driver.
// Config cycles run through the very config-space unit pciem.ko compiles
// (kernel/cfgspace), MMIO goes through the same dispatch as on the
// kernel (dispatch.hpp), and shadowed ranges are served from the shadow
// exactly as the kernel serves them, so a model that passes here
// behaves the same under a real driver.
//
//     MyModel model;
//     auto host = pciem::SimHost::create(model);      // realizes the model
//     ASSERT_TRUE(host) << host.error().message;
//     EXPECT_EQ((*host)->cfg_read(0x00, 4), 0x7e101b36u);
//     (*host)->write32(0, 0x08, 0xdeadbeef);
//     EXPECT_EQ((*host)->read16(0, 0x0a), 0xdeadu);
//
// Extension points for later issues: interrupts (captured raises the
// test can assert on) and host memory for DMA will be added here, next to
// the MMIO accessors, as the model API grows them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <pciem_cfg.h>

#include "pciem/config_preview.hpp"
#include "pciem/device_model.hpp"
#include "pciem/error.hpp"

namespace pciem {

// What the kernel's ring statistics would say for the same traffic.
struct SimStats {
    uint64_t reads = 0;         // reads that reached the model
    uint64_t writes = 0;        // writes that reached the model
    uint64_t shadow_reads = 0;  // reads served from a shadow
    uint64_t read_timeouts = 0; // reads the model left unanswered
    uint64_t master_aborts = 0; // accesses completed as all-ones/dropped
};

class SimHost {
public:
    // Realizes the model, builds its config space and calls on_start().
    static Result<std::unique_ptr<SimHost>> create(DeviceModel& model,
                                                   const ConfigLimits& limits = {});
    SimHost(const SimHost&) = delete;
    SimHost& operator=(const SimHost&) = delete;
    SimHost(SimHost&&) = delete;
    SimHost& operator=(SimHost&&) = delete;
    // Calls on_stop(), as removing the device does.
    ~SimHost();

    // Config cycles: size 1, 2 or 4, aligned. Ranges the model claimed
    // (PCIEM_CAP_F_MODEL) go to the model, the rest is emulated.
    uint32_t cfg_read(uint16_t offset, unsigned size);
    void cfg_write(uint16_t offset, unsigned size, uint32_t value);

    // MMIO relative to a BAR, as through the driver's ioremap() of it.
    // A read the model does not answer returns all-ones (a timeout).
    uint8_t read8(unsigned bar, uint64_t offset);
    uint16_t read16(unsigned bar, uint64_t offset);
    uint32_t read32(unsigned bar, uint64_t offset);
    uint64_t read64(unsigned bar, uint64_t offset);
    void write8(unsigned bar, uint64_t offset, uint8_t value);
    void write16(unsigned bar, uint64_t offset, uint16_t value);
    void write32(unsigned bar, uint64_t offset, uint32_t value);
    void write64(unsigned bar, uint64_t offset, uint64_t value);
    // Any size; nullopt when the model gave no answer or the access
    // falls outside the BAR (a master abort).
    std::optional<uint64_t> read(unsigned bar, uint64_t offset, unsigned size);
    void write(unsigned bar, uint64_t offset, unsigned size, uint64_t value);

    // MMIO by bus address, decoded like the kernel decodes it: from the
    // BAR registers as software programmed them, only with Memory Space
    // Enable set. Anything else is a master abort (all-ones, dropped).
    uint64_t bus_read(uint64_t address, unsigned size);
    void bus_write(uint64_t address, unsigned size, uint64_t value);
    // The address programmed in a BAR (0 when unused).
    [[nodiscard]] uint64_t bar_address(unsigned bar) const;

    [[nodiscard]] const SimStats& stats() const { return stats_; }
    [[nodiscard]] const pciem_cfg& config() const { return *cfg_; }

private:
    SimHost(DeviceModel& model, std::unique_ptr<pciem_cfg> cfg);
    [[nodiscard]] bool in_bar(unsigned bar, uint64_t offset, unsigned size) const;
    [[nodiscard]] const ShadowRange* shadow_for(unsigned bar, uint64_t offset, unsigned size) const;
    // Which BAR decodes [address, address + size), and where in it.
    [[nodiscard]] std::optional<std::pair<unsigned, uint64_t>> decode(uint64_t address,
                                                                      unsigned size) const;

    DeviceModel& model_;
    std::unique_ptr<pciem_cfg> cfg_;
    // Backing of the model's shadows: uint64_t so every word is aligned.
    std::vector<std::vector<uint64_t>> shadow_mem_;
    SimStats stats_;
};

} // namespace pciem
