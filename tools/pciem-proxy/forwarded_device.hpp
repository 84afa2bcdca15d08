// SPDX-License-Identifier: MIT
//
// ForwardedDevice: the DeviceModel that stands for the server's device.
// It declares no registers: every BAR access pciem.ko traps arrives at
// on_mmio_read/on_mmio_write and becomes a REGION_READ (synchronous: the
// driver's read waits for the server's answer) or a posted REGION_WRITE.
// The header and the interrupt capabilities are emulated by pciem.ko;
// what of them the server must know (Command, MSI/MSI-X enable) follows
// the driver through on_command/on_irq_config, and an FLR becomes a
// DEVICE_RESET (on_reset). Interrupts never pass
// through here: the server holds the PCIem irqfds of every vector.
//
// The first fault on the connection (the server gone, an answer that
// breaks the protocol, or none in time) is kept, reads answer all-ones
// from then on, and on_fault runs once so the proxy removes the function.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "client.hpp"
#include "intx_line.hpp"
#include "mirror.hpp"
#include "pciem/device_model.hpp"

#include <linux/pciem.h>

namespace pciem::proxy {

class ForwardedDevice final : public DeviceModel {
public:
    ForwardedDevice(Client& client, Mirror mirror) : client_(client), mirror_(std::move(mirror)) {}

    [[nodiscard]] DeviceSpec spec() const override { return mirror_.spec; }

    std::optional<uint64_t> on_mmio_read(unsigned bar, uint64_t offset, unsigned size) override;
    void on_mmio_write(unsigned bar, uint64_t offset, unsigned size, uint64_t value) override;
    void on_command(uint16_t value) override;
    void on_irq_config(const IrqConfigEvent& event) override;
    // An FLR: DEVICE_RESET, then the server's header and interrupts as
    // the driver last left them (the server forgets both in a reset,
    // pciem.ko's emulated header does not).
    void on_reset() override;

    // Programs the server's BAR registers and Command (before any BAR
    // access, as the server requires).
    Result<void> program_server_header();
    // Once the host is bound: the server's INTx, if it has one, drives
    // PCIem's (intx_line.hpp). unwire_intx() before the host goes.
    Result<void> wire_intx();
    void unwire_intx() { intx_.reset(); }

    // Called once, from the thread that met the fault.
    void set_on_fault(std::function<void()> f) { on_fault_ = std::move(f); }
    // The first fault, if any (thread-safe).
    [[nodiscard]] std::optional<std::string> fault() const;
    // Records a fault met outside the model (the socket watcher).
    void report_fault(const std::string& what);

    // Trapped accesses forwarded per BAR so far (REGION_READ/REGION_WRITE
    // sent): what the driver did to BAR memory shared with the server
    // (bar_backing.hpp) never counts here.
    struct Forwarded {
        uint64_t reads = 0;
        uint64_t writes = 0;
    };
    [[nodiscard]] Forwarded forwarded(unsigned bar) const {
        return {forwarded_reads_[bar].load(std::memory_order_relaxed),
                forwarded_writes_[bar].load(std::memory_order_relaxed)};
    }

private:
    // Writes `size` bytes of the server's config space.
    Result<void> config_write(uint16_t offset, unsigned size, uint32_t value);
    Result<void> enable_msix(bool on);
    Result<void> enable_msi(bool on, unsigned vectors);
    // Eventfds of vectors 0..n-1, as pciem.ko's irqfds.
    Result<std::vector<int>> vector_eventfds(unsigned n);
    // After a driver access while INTx is high: lower it if the server's
    // device no longer asserts it.
    void settle_intx();
    // SET_IRQS of the INTx eventfd (intx_ is set).
    Result<void> wire_intx_eventfd();
    [[nodiscard]] bool broken() const;

    Client& client_;
    Mirror mirror_;
    bool msix_on_ = false;
    bool msi_on_ = false;
    unsigned msi_vectors_ = 0;
    uint16_t command_ = 0; // the driver's Command register, as last seen
    std::unique_ptr<IntxLine> intx_;
    mutable std::mutex fault_mutex_;
    std::optional<std::string> fault_;
    std::function<void()> on_fault_;
    // Indexed by BAR; the model's callbacks may run on several threads.
    // BAR0..5 and the ROM (PCIEM_ROM_BAR).
    std::array<std::atomic<uint64_t>, PCIEM_ROM_BAR + 1> forwarded_reads_{};
    std::array<std::atomic<uint64_t>, PCIEM_ROM_BAR + 1> forwarded_writes_{};
};

} // namespace pciem::proxy
