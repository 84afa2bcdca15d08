// SPDX-License-Identifier: MIT
//
// Interrupts: how a device model signals its driver. The host owns
// delivery (MSI/MSI-X tables, masking, pending bits, Interrupt Disable);
// the model only says "vector n" or "INTx high/low":
//
//     if (auto ok = irq().raise(3); !ok) { ... ok.error().code == EAGAIN ... }
//     (void)irq().set_intx(true);
//     auto fd = irq().eventfd(0);        // from a model thread: write(*fd, &one, 8)
//
// Every call is thread-safe: a model may raise from threads of its own.
// Semantics (the same on every host, see docs/device-model.md):
//  - raise(v) signals MSI-X table entry v when MSI-X is enabled (EINVAL
//    past the table), else MSI vector v when MSI is enabled (EINVAL at or
//    past 2^Multiple Message Enable), else fails with EAGAIN: a function
//    with neither enabled cannot signal. A masked vector (MSI-X entry
//    mask, Function Mask, MSI per-vector mask) becomes pending and fires
//    once when unmasked. Enabling MSI or MSI-X clears pending state.
//  - set_intx(level) drives the level-triggered INTx line; Interrupt
//    Disable gates it, Interrupt Status reflects it. EINVAL without an
//    interrupt pin in the spec.
//  - eventfd(v) is an eventfd bound to vector v (created on first use,
//    owned by the host, valid while the host lives): every count written
//    to it raises v once, with no PCIem call (irqfd). Failures of such
//    raises are not reported (the kernel counts them as dropped).
//
// The driver's side of the configuration (MSI/MSI-X enable, masks,
// messages, Interrupt Disable) is served by the host, so masking never
// waits for the model; the model hears of each change, in order with
// the driver's register accesses, through DeviceModel::on_irq_config().
#pragma once

#include <cstdint>

#include <linux/pciem.h>

#include "pciem/error.hpp"

namespace pciem {

// One change the driver made to how the function may interrupt
// (PCIEM_REQ_IRQ_CONFIG). Fields a kind does not use are zero.
struct IrqConfigEvent {
    enum class Kind : uint8_t {
        msi = PCIEM_IRQ_EV_MSI,             // enabled, vectors, message_data
        msi_mask = PCIEM_IRQ_EV_MSI_MASK,   // mask_bits
        msix = PCIEM_IRQ_EV_MSIX,           // enabled, masked (Function Mask)
        msix_entry = PCIEM_IRQ_EV_MSIX_ENTRY, // vector, masked, message_data
        intx_disable = PCIEM_IRQ_EV_INTX_DISABLE, // masked (Interrupt Disable)
        unknown = 0xff,                     // from a newer kernel
    };
    Kind kind = Kind::unknown;
    unsigned vector = 0;
    bool enabled = false;
    bool masked = false;
    unsigned vectors = 0;
    uint32_t mask_bits = 0;
    uint32_t message_data = 0;

    // Decodes the request's flags/offset/data.
    static IrqConfigEvent from_request(uint32_t event, uint64_t index, uint64_t data);
    friend bool operator==(const IrqConfigEvent&, const IrqConfigEvent&) = default;
};

class Interrupts {
public:
    Interrupts() = default;
    Interrupts(const Interrupts&) = delete;
    Interrupts& operator=(const Interrupts&) = delete;
    Interrupts(Interrupts&&) = delete;
    Interrupts& operator=(Interrupts&&) = delete;
    virtual ~Interrupts() = default;

    [[nodiscard]] virtual Result<void> raise(unsigned vector) = 0;
    [[nodiscard]] virtual Result<void> set_intx(bool level) = 0;
    [[nodiscard]] virtual Result<int> eventfd(unsigned vector) = 0;
};

} // namespace pciem
