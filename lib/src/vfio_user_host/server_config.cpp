// SPDX-License-Identifier: MIT
//
// The CONFIG region: kernel/cfgspace's emulation, the ranges the model
// claimed (PCIEM_CAP_F_MODEL) sent to it, Interrupt Status from the INTx
// level. A client may read or write any span: it is cut into the
// naturally aligned 1/2/4-byte cycles a CPU would issue.
#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <linux/pci_regs.h>

#include "server.hpp"

namespace pciem {

Result<void> VfioUserHost::Impl::config_read(uint64_t offset, std::span<std::byte> out) {
    if (offset > cfg->size || out.size() > cfg->size - offset) {
        return fail(EINVAL, fmt::format("config space read of {} bytes at {:#x}: the region has "
                                        "{} bytes",
                                        out.size(), offset, cfg->size));
    }
    for (size_t done = 0; done < out.size();) {
        const auto at = static_cast<uint16_t>(offset + done);
        const unsigned size = vfu::cycle(at, out.size() - done, 4);
        uint32_t v = pciem_cfg_claimed(cfg.get(), at, size) ? model.on_config_read(at, size)
                                                             : pciem_cfg_read(cfg.get(), at, size);
        // Interrupt Status follows the line the model drives.
        if (at <= PCI_STATUS && at + size > PCI_STATUS && irqs.intx_level()) {
            v |= PCI_STATUS_INTERRUPT << (8 * (PCI_STATUS - at));
        }
        std::memcpy(out.data() + done, &v, size);
        done += size;
    }
    return {};
}

Result<void> VfioUserHost::Impl::config_write(uint64_t offset, std::span<const std::byte> in) {
    if (offset > cfg->size || in.size() > cfg->size - offset) {
        return fail(EINVAL, fmt::format("config space write of {} bytes at {:#x}: the region has "
                                        "{} bytes",
                                        in.size(), offset, cfg->size));
    }
    for (size_t done = 0; done < in.size();) {
        const auto at = static_cast<uint16_t>(offset + done);
        const unsigned size = vfu::cycle(at, in.size() - done, 4);
        uint32_t v = 0;
        std::memcpy(&v, in.data() + done, size);
        if (pciem_cfg_claimed(cfg.get(), at, size)) {
            model.on_config_write(at, size, v);
        } else {
            pciem_cfg_write(cfg.get(), at, size, v);
        }
        done += size;
    }
    config_changed();
    return {};
}

void VfioUserHost::Impl::config_changed() {
    const auto cmd = static_cast<uint16_t>(pciem_cfg_read(cfg.get(), PCI_COMMAND, 2));
    dma.set_bus_master((cmd & PCI_COMMAND_MASTER) != 0);
    irqs.set_intx_disabled((cmd & PCI_COMMAND_INTX_DISABLE) != 0);
    if (cmd != command) {
        const bool intx_changed = ((cmd ^ command) & PCI_COMMAND_INTX_DISABLE) != 0;
        command = cmd;
        model.on_command(cmd);
        if (intx_changed) {
            IrqConfigEvent e;
            e.kind = IrqConfigEvent::Kind::intx_disable;
            e.masked = (cmd & PCI_COMMAND_INTX_DISABLE) != 0;
            model.on_irq_config(e);
        }
    }
    // MSI-X / MSI count as enabled when the client enabled them in config
    // space (pciem-proxy does) or wired their triggers (QEMU's client
    // emulates the capabilities itself and only sends SET_IRQS).
    const pciem_cfg_layout& l = cfg->layout;
    const bool cfg_msix =
        l.msix != 0 && (pciem_cfg_read(cfg.get(), l.msix + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_ENABLE) != 0;
    bool cfg_msi = false;
    unsigned vectors = irqs.count(VFIO_PCI_MSI_IRQ_INDEX);
    if (l.msi != 0) {
        const uint32_t ctl = pciem_cfg_read(cfg.get(), l.msi + PCI_MSI_FLAGS, 2);
        cfg_msi = (ctl & PCI_MSI_FLAGS_ENABLE) != 0;
        if (cfg_msi) {
            vectors = 1u << ((ctl & PCI_MSI_FLAGS_QSIZE) >> 4);
        }
    }
    const bool new_msix = cfg_msix || irqs.wired(VFIO_PCI_MSIX_IRQ_INDEX);
    const bool new_msi = !new_msix && (cfg_msi || irqs.wired(VFIO_PCI_MSI_IRQ_INDEX));
    irqs.set_modes(new_msix, new_msi);
    if (new_msix != msix_on) {
        msix_on = new_msix;
        IrqConfigEvent e;
        e.kind = IrqConfigEvent::Kind::msix;
        e.enabled = new_msix;
        model.on_irq_config(e);
    }
    if (new_msi != msi_on || (new_msi && vectors != msi_vectors)) {
        msi_on = new_msi;
        msi_vectors = vectors;
        IrqConfigEvent e;
        e.kind = IrqConfigEvent::Kind::msi;
        e.enabled = new_msi;
        e.vectors = new_msi ? vectors : 0;
        model.on_irq_config(e);
    }
}

void VfioUserHost::Impl::reset_function(bool client_left) {
    if (auto fresh = preview_config(model.spec(), options.limits)) {
        *cfg = **fresh;
    }
    irqs.reset(client_left);
    pciem_irq_rules_reset(&rules); // every entry masked, as out of reset
    if (client_left) {
        dma.unmap_all();
    }
    config_changed();
}

} // namespace pciem
