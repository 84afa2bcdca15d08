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
// RAM BARs are host memory the model sees through ram(bar); MMIO of them
// reads and writes those bytes directly, as the driver's accesses do on
// the kernel (no request, no counters).
//
// Interrupts: the SimHost delivers them as pciem.ko does and records each
// delivery, in order. The test programs the MSI-X table and PBA through
// MMIO of the BAR the capability names (served here, never by the model),
// and MSI/MSI-X enable, the MSI mask bits and Interrupt Disable through
// cfg_write(), as a driver would:
//
//     h.cfg_write(msix + 2, 2, 0x8000);               // MSI-X Enable
//     h.write32(4, 16 * 3 + 12, 0);                   // unmask entry 3
//     h.write32(0, RAISE, 3);                         // the model raises 3
//     EXPECT_EQ(h.take_interrupts(), (std::vector{SimInterrupt::msix(3)}));
//
// Raises through the model's eventfds are picked up at the next access
// (every accessor first drains them) or by poll_interrupts().
//
// DMA: dma() is the host memory and mapping table (sim_dma.hpp). The test
// maps buffers as the driver would and sets Bus Master Enable through
// cfg_write(); the model's dma() accesses are checked against them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include <pciem_cfg.h>

#include "pciem/config_preview.hpp"
#include "pciem/device_model.hpp"
#include "pciem/error.hpp"
#include "pciem/interrupts.hpp"
#include "pciem/sim_dma.hpp"
#include "pciem/unique_fd.hpp"

// kernel/rules/pciem_irq_rules.h, private to libpciem.
struct pciem_irq_rules;
struct pciem_irq_rules_events;

namespace pciem {

// One interrupt the SimHost delivered to the "driver".
struct SimInterrupt {
    enum class Kind : uint8_t { msi, msix, intx };
    Kind kind = Kind::msix;
    unsigned vector = 0; // 0 for INTx

    static SimInterrupt msi(unsigned v) { return {Kind::msi, v}; }
    static SimInterrupt msix(unsigned v) { return {Kind::msix, v}; }
    static SimInterrupt intx() { return {Kind::intx, 0}; }
    friend bool operator==(const SimInterrupt&, const SimInterrupt&) = default;
};

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
    // falls outside the BAR (a master abort). BAR PCIEM_ROM_BAR is the
    // expansion ROM, whose writes are dropped as pciem.ko drops them.
    std::optional<uint64_t> read(unsigned bar, uint64_t offset, unsigned size);
    void write(unsigned bar, uint64_t offset, unsigned size, uint64_t value);

    // MMIO by bus address, decoded like the kernel decodes it: from the
    // BAR registers as software programmed them, only with Memory Space
    // Enable set. Anything else is a master abort (all-ones, dropped).
    uint64_t bus_read(uint64_t address, unsigned size);
    void bus_write(uint64_t address, unsigned size, uint64_t value);
    // The address programmed in a BAR (0 when unused).
    [[nodiscard]] uint64_t bar_address(unsigned bar) const;

    // One turn of a busy-polling host's loop: the model's on_poll().
    // Returns what it returned (whether it found work).
    bool poll();
    // The end of a polling spell, before the host sleeps: the model's
    // on_idle(). Returns what it returned (whether work turned up).
    bool idle();

    // ---- interrupts ----------------------------------------------------
    // Deliveries so far, in order (MSI/MSI-X: one per delivered vector;
    // INTx: one each time the line becomes asserted, i.e. high with
    // Interrupt Disable clear). take_interrupts() also forgets them.
    [[nodiscard]] std::vector<SimInterrupt> interrupts();
    std::vector<SimInterrupt> take_interrupts();
    // Deliveries of one MSI-X / MSI vector so far.
    [[nodiscard]] uint64_t interrupt_count(SimInterrupt::Kind kind, unsigned vector);
    // The PBA bit of an MSI-X vector / the Pending bit of an MSI vector.
    [[nodiscard]] bool msix_pending(unsigned vector);
    [[nodiscard]] bool msi_pending(unsigned vector);
    // The level the model drives, and whether the line is asserted
    // towards the interrupt controller (high and not disabled).
    [[nodiscard]] bool intx_level();
    [[nodiscard]] bool intx_asserted();
    // Raises that failed (no MSI/MSI-X enabled, no such vector), like
    // the kernel's dropped counter; through eventfds included.
    [[nodiscard]] uint64_t dropped_interrupts();
    // Raises what the model wrote to its eventfds since the last access.
    void poll_interrupts();

    // ---- DMA -------------------------------------------------------------
    [[nodiscard]] SimDma& dma() { return dma_; }

    [[nodiscard]] const SimStats& stats() const { return stats_; }
    [[nodiscard]] const pciem_cfg& config() const { return *cfg_; }

private:
    // The model's irq(): forwards to the host's interrupt state.
    class SimInterrupts final : public Interrupts {
    public:
        explicit SimInterrupts(SimHost& host) : host_(host) {}
        Result<void> raise(unsigned vector) override;
        Result<void> set_intx(bool level) override;
        Result<int> eventfd(unsigned vector) override;

    private:
        SimHost& host_;
    };

    // The interrupt rules pciem.ko runs (kernel/rules/pciem_irq_rules.h),
    // with this host's storage and recording around them.
    struct IrqState {
        std::unique_ptr<pciem_irq_rules> rules;
        std::vector<uint8_t> msix_table; // the rules' MSI-X table
        std::vector<uint64_t> msix_pba;  // and pending bits
        bool intx_asserted = false;
        uint64_t dropped = 0;
        std::vector<SimInterrupt> log;
        std::map<std::pair<int, unsigned>, uint64_t> counts;
    };

    SimHost(DeviceModel& model, std::unique_ptr<pciem_cfg> cfg);
    void irq_init();
    // Callers hold irq_mutex_.
    Result<void> irq_raise_locked(unsigned vector);
    void irq_deliver_locked(SimInterrupt::Kind kind, unsigned vector);
    void intx_update_locked();
    // Interrupt configuration events (PCIEM_REQ_IRQ_CONFIG), queued under
    // irq_mutex_ and handed to the model after it, as the kernel does.
    void irq_events_locked(const pciem_irq_rules_events& ev);
    void irq_post_events();
    void irq_cfg_read(uint16_t offset, unsigned size, uint32_t& value);
    void irq_cfg_written(uint16_t offset, unsigned size);
    // Serves an access to the MSI-X table or PBA; false if it is not one.
    bool msix_access(unsigned bar, uint64_t offset, unsigned size, bool write, uint64_t& value);
    [[nodiscard]] bool in_bar(unsigned bar, uint64_t offset, unsigned size) const;
    [[nodiscard]] bool is_ram(unsigned bar) const;
    [[nodiscard]] const ShadowRange* shadow_for(unsigned bar, uint64_t offset, unsigned size) const;
    // Which BAR decodes [address, address + size), and where in it.
    [[nodiscard]] std::optional<std::pair<unsigned, uint64_t>> decode(uint64_t address,
                                                                      unsigned size) const;

    DeviceModel& model_;
    std::unique_ptr<pciem_cfg> cfg_;
    // Backing of the model's shadows: uint64_t so every word is aligned.
    std::vector<std::vector<uint64_t>> shadow_mem_;
    // Backing of RAM BARs (index = BAR), uint64_t-aligned.
    std::array<std::vector<uint64_t>, PCIEM_MAX_BARS> ram_mem_;
    SimStats stats_;
    // Interrupt state: model threads raise concurrently with the test.
    std::mutex irq_mutex_;
    IrqState irq_;
    std::vector<pciem_req> irq_events_;
    std::mutex eventfd_mutex_;
    std::map<unsigned, UniqueFd> eventfds_;
    std::unique_ptr<SimInterrupts> irq_sink_;
    SimDma dma_;
    // Last: destroyed first, it unbinds the model from all of the above.
    ModelBinding binding_;
};

} // namespace pciem
