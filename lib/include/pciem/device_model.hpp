// SPDX-License-Identifier: MIT
//
// DeviceModel: the behaviour of one PCI function, independent of where it
// runs. A model is a short class: its DeviceSpec, a RegisterMap per BAR
// declared in the constructor, and a few optional virtuals. The same
// class runs on the kernel (KernelHost, via /dev/pciem) and in-process
// for unit tests (SimHost); it never knows which.
//
//     class Counter : public pciem::DeviceModel {
//     public:
//         Counter() {
//             auto& regs = declare_bar(0, "BAR0", 4096);
//             regs.reg32(0x0, "ID").ro(0x12345678);
//             regs.reg32(0x4, "COUNT").ro().on_read([this](uint64_t) { return n_++; });
//         }
//         pciem::DeviceSpec spec() const override {
//             return pciem::DeviceSpec{}.ids(0x1b36, 0x7e11).bar(0, pciem::Bar::mem32(4096));
//         }
//     private:
//         uint32_t n_ = 0;
//     };
//
// Threading: a host calls the model from one thread at a time (its event
// loop). Anything the model does from threads of its own is its business,
// including calling shadow_update() after changing shadowed registers.
// irq() may be used from any thread; ram() spans are shared with the
// driver, which accesses them concurrently.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pciem/device_spec.hpp"
#include "pciem/dma.hpp"
#include "pciem/error.hpp"
#include "pciem/interrupts.hpp"
#include "pciem/regmap.hpp"

namespace pciem {

// A BAR range whose reads a host may serve without asking the model (the
// kernel from a page it shares with the model). Only registers with no
// read side effects may lie in it.
struct ShadowRange {
    unsigned bar = 0;
    uint64_t offset = 0; // 8-byte aligned
    uint32_t len = 0;    // multiple of 8
    // Host memory mirroring bar[offset, offset + len): bound by the host,
    // 8-byte aligned. Empty until then.
    std::span<uint8_t> backing;
};

class DeviceModel {
public:
    DeviceModel() = default;
    // Register hooks capture `this`: a model stays where it was built.
    DeviceModel(const DeviceModel&) = delete;
    DeviceModel& operator=(const DeviceModel&) = delete;
    DeviceModel(DeviceModel&&) = delete;
    DeviceModel& operator=(DeviceModel&&) = delete;
    virtual ~DeviceModel() = default;

    // What the function looks like in config space.
    [[nodiscard]] virtual DeviceSpec spec() const = 0;

    // The host is about to deliver requests / has delivered the last one.
    virtual void on_start() {}
    virtual void on_stop() {}

    // Fallbacks for BAR bytes no declared register or range covers, and
    // for BARs with no map at all. Return nullopt from the read to let
    // the map's UnmappedPolicy answer.
    virtual std::optional<uint64_t> on_mmio_read(unsigned bar, uint64_t offset, unsigned size);
    virtual void on_mmio_write(unsigned bar, uint64_t offset, unsigned size, uint64_t value);

    // Config registers of capabilities the spec hands to the model
    // (PCIEM_CAP_F_MODEL). Only such ranges ever arrive here.
    virtual uint32_t on_config_read(uint16_t offset, unsigned size);
    virtual void on_config_write(uint16_t offset, unsigned size, uint32_t value);

    // The driver enabled, masked or reprogrammed interrupts (MSI/MSI-X
    // control, MSI mask bits, an MSI-X table entry, Interrupt Disable).
    // The host already applies masking and pending bits itself; models
    // that care (coalescing, per-vector state) follow along here.
    virtual void on_irq_config(const IrqConfigEvent& event);

    // The driver changed the Command register (Memory Space, Bus Master,
    // Interrupt Disable, ...), which the host emulates; posted in order
    // with the driver's other accesses. A model that mirrors the header
    // elsewhere (a forwarding proxy, into its device server) follows here.
    virtual void on_command(uint16_t /*value*/) {}

    // The driver reset the function (a Function Level Reset through the
    // PCIe capability's Device Control; the PCI core's reset paths,
    // sysfs `reset` among them, use it when the function advertises FLR).
    // The header, interrupts included, stays the host's; the model puts
    // its own device state back to power-on. Posted in order with the
    // driver's accesses.
    virtual void on_reset() {}

    // A polling host calls this on the thread that delivers everything
    // else, so a model can poll what lives in host memory (shadow
    // doorbells, descriptor rings) instead of waiting for the driver's
    // trapped MMIO: a busy-polling host (KernelHostOptions::busy_poll)
    // between drains of its ring, a sleeping one with poll_interval_us
    // after every wake. Return true when it found work: the busy loop only
    // pauses (cpu_relax) when neither the ring nor the model had any.
    // Sleeping hosts without an interval never call it.
    virtual bool on_poll() { return false; }

    // A host that polls for a while after work before it sleeps
    // (KernelHostOptions::idle_poll_us) calls this when it found nothing
    // for that long, just before it sleeps: from here until the next
    // on_poll() nothing polls, so a model makes the driver notify it
    // again (the NVMe model re-arms its EventIdx) and delivers what it
    // held back for a later poll (coalesced interrupts). Return true
    // when that turned up work: the host polls on instead of sleeping.
    virtual bool on_idle() { return false; }

    // Interrupts (interrupts.hpp): raise(vector), set_intx(level),
    // eventfd(vector). Delivery belongs to the host the model runs on;
    // before a host binds (or after it is gone) every call fails with
    // ENODEV. Thread-safe.
    [[nodiscard]] Interrupts& irq();

    // The bytes of RAM BAR `bar` (Bar::ram()), shared with the driver:
    // the KernelHost maps them from the device fd, the SimHost backs them
    // with host memory. Empty for other BARs and before a host bound
    // them. Driver accesses are not trapped: the model sees no requests
    // for them, only the bytes.
    [[nodiscard]] std::span<std::byte> ram(unsigned bar) const;

    // Host memory at the bus addresses the driver handed out (dma.hpp),
    // every access checked against the driver's mappings. Before a host
    // binds, every call fails with DmaFaultKind::no_host. Thread-safe.
    [[nodiscard]] Dma& dma();

    // ---- for hosts -----------------------------------------------------

    // Seals every map and checks maps and shadows against spec(). Hosts
    // call it once before the first request.
    [[nodiscard]] Result<void> realize();
    // The map of a BAR, nullptr when the model declared none.
    [[nodiscard]] RegisterMap* bar_map(unsigned bar);
    // A read of the expansion ROM answered from declare_rom()'s image
    // (zeros past its end); nullopt when the model declared none, so the
    // read goes to on_mmio_read(PCIEM_ROM_BAR, ...).
    [[nodiscard]] std::optional<uint64_t> rom_read(uint64_t offset, unsigned size) const;
    [[nodiscard]] std::vector<ShadowRange>& shadows() { return shadows_; }
    // Copies the current register values into every bound shadow. Hosts
    // call it after each request (so a shadow is current before the
    // request is marked handled); a model calls it after changing
    // shadowed values on its own.
    void shadow_update();
    // Whether hosts refresh shadows after every request. Models with
    // large shadows turn it off and call shadow_update() themselves.
    [[nodiscard]] bool auto_shadow_update() const { return auto_shadow_update_; }
    // Hosts bind interrupt delivery, DMA, RAM BARs and shadows through a
    // ModelBinding (below), the only way in.

protected:
    // Declares the register map of a BAR; size must match spec().
    RegisterMap& declare_bar(unsigned bar, std::string name, uint64_t size);
    // The bytes of the expansion ROM (DeviceSpec::rom()), at most its
    // size; what follows them reads as zero. Hosts answer ROM reads from
    // it without calling the model.
    void declare_rom(std::vector<uint8_t> image) { rom_ = std::move(image); }
    // Declares bar[offset, offset + len) as shadowed (see ShadowRange).
    void declare_shadow(unsigned bar, uint64_t offset, uint32_t len);
    void set_auto_shadow_update(bool on) { auto_shadow_update_ = on; }

private:
    friend class ModelBinding;
    // nullptr / an empty span unbinds.
    void bind_interrupts(Interrupts* sink) { irq_sink_ = sink; }
    void bind_dma(Dma* dma) { dma_ = dma; }
    void bind_ram(unsigned bar, std::span<std::byte> bytes);
    [[nodiscard]] Result<void> check_shadow(const ShadowRange& s) const;

    std::array<std::unique_ptr<RegisterMap>, PCIEM_MAX_BARS> maps_;
    std::vector<ShadowRange> shadows_;
    std::vector<uint8_t> rom_;
    bool auto_shadow_update_ = true;
    std::array<std::span<std::byte>, PCIEM_MAX_BARS> ram_{};
    Interrupts* irq_sink_ = nullptr;
    Dma* dma_ = nullptr;
};

// A host's hold on a model, and the only way to bind one: everything it
// bound (interrupt delivery, DMA, the backing of RAM BARs and shadows) is
// unbound when the binding goes, so no host can forget a step and leave
// the model pointing into freed memory. A host (or a model that hosts
// another, as the chaos layer does) declares it after the members those
// pointers lead into, so that it is destroyed, and unbinds, first.
//
//     class MyHost {
//         ...
//         MyInterrupts irq_;
//         MyDma dma_;
//         pciem::ModelBinding binding_;   // last
//     };
//     MyHost::MyHost(DeviceModel& m) : binding_(m) {
//         binding_.interrupts(&irq_);
//         binding_.dma(&dma_);
//     }
class ModelBinding {
public:
    explicit ModelBinding(DeviceModel& model) : model_(model) {}
    ModelBinding(const ModelBinding&) = delete;
    ModelBinding& operator=(const ModelBinding&) = delete;
    ModelBinding(ModelBinding&&) = delete;
    ModelBinding& operator=(ModelBinding&&) = delete;
    ~ModelBinding() { release(); }

    void interrupts(Interrupts* sink) { model_.bind_interrupts(sink); }
    void dma(Dma* dma) { model_.bind_dma(dma); }
    void ram(unsigned bar, std::span<std::byte> bytes) { model_.bind_ram(bar, bytes); }
    static void shadow(ShadowRange& range, std::span<uint8_t> backing) { range.backing = backing; }
    // Unbinds everything now (and again, harmlessly, at destruction).
    void release();

private:
    DeviceModel& model_;
};

} // namespace pciem
