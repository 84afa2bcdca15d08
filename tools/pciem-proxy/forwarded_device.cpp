// SPDX-License-Identifier: MIT
#include "forwarded_device.hpp"

#include <cstdio>
#include <cstring>
#include <vector>

#include <fmt/format.h>
#include <linux/pci_regs.h>

namespace pciem::proxy {

namespace {

uint64_t ones(unsigned size) {
    return size >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * size)) - 1;
}

} // namespace

bool ForwardedDevice::broken() const {
    std::lock_guard lock(fault_mutex_);
    return fault_.has_value();
}

std::optional<std::string> ForwardedDevice::fault() const {
    std::lock_guard lock(fault_mutex_);
    return fault_;
}

void ForwardedDevice::report_fault(const std::string& what) {
    std::function<void()> notify;
    {
        std::lock_guard lock(fault_mutex_);
        if (fault_) {
            return;
        }
        fault_ = what;
        notify = on_fault_;
    }
    if (notify) {
        notify();
    }
}

std::optional<uint64_t> ForwardedDevice::on_mmio_read(unsigned bar, uint64_t offset,
                                                      unsigned size) {
    if (broken()) {
        return ones(size);
    }
    if (bar < forwarded_reads_.size()) {
        forwarded_reads_[bar].fetch_add(1, std::memory_order_relaxed);
    }
    auto data = client_.region_read(bar, offset, size);
    if (!data && Client::refused(data.error())) {
        // The device refused this access (QEMU's edu: a 1-byte read of a
        // 4-byte register): all-ones, as a refused read on hardware.
        fmt::print(stderr, "pciem-proxy: {} ({} bytes at BAR {} offset {:#x}): read as all-ones\n",
                   data.error().message, size, bar, offset);
        return ones(size);
    }
    if (!data) {
        report_fault(data.error().message);
        return ones(size);
    }
    uint64_t v = 0;
    std::memcpy(&v, data->data(), size);
    settle_intx();
    return v;
}

void ForwardedDevice::on_mmio_write(unsigned bar, uint64_t offset, unsigned size, uint64_t value) {
    if (broken()) {
        return;
    }
    std::byte bytes[8];
    std::memcpy(bytes, &value, sizeof(bytes));
    if (bar < forwarded_writes_.size()) {
        forwarded_writes_[bar].fetch_add(1, std::memory_order_relaxed);
    }
    if (auto ok = client_.region_write(bar, offset, std::span(bytes, size)); !ok) {
        report_fault(ok.error().message);
        return;
    }
    settle_intx();
}

void ForwardedDevice::settle_intx() {
    if (!intx_ || !intx_->high()) {
        return;
    }
    auto ok = intx_->settle([this]() -> Result<bool> {
        auto status = client_.region_read(VFIO_PCI_CONFIG_REGION_INDEX, PCI_STATUS, 2);
        if (!status) {
            return std::unexpected(status.error());
        }
        return (std::to_integer<unsigned>((*status)[0]) & PCI_STATUS_INTERRUPT) != 0;
    });
    if (!ok) {
        report_fault(fmt::format("following the server's INTx: {}", ok.error().message));
    }
}

Result<void> ForwardedDevice::wire_intx_eventfd() {
    const int fds[] = {intx_->eventfd()};
    return client_.set_irq_eventfds(VFIO_PCI_INTX_IRQ_INDEX, 0, fds);
}

Result<void> ForwardedDevice::wire_intx() {
    if (!mirror_.intx) {
        return {};
    }
    auto line = IntxLine::create(irq());
    if (!line) {
        return std::unexpected(line.error());
    }
    const int fds[] = {(*line)->eventfd()};
    if (auto ok = client_.set_irq_eventfds(VFIO_PCI_INTX_IRQ_INDEX, 0, fds); !ok) {
        return ok;
    }
    intx_ = std::move(*line);
    return {};
}

Result<void> ForwardedDevice::config_write(uint16_t offset, unsigned size, uint32_t value) {
    std::byte bytes[4];
    std::memcpy(bytes, &value, sizeof(bytes));
    return client_.region_write(VFIO_PCI_CONFIG_REGION_INDEX, offset, std::span(bytes, size));
}

Result<void> ForwardedDevice::program_server_header() {
    for (unsigned i = 0; i < 6; ++i) {
        if (!mirror_.bar_present[i]) {
            continue;
        }
        const uint64_t a = mirror_.server_bar_address[i];
        if (auto ok = config_write(PCI_BASE_ADDRESS_0 + 4 * i, 4, static_cast<uint32_t>(a)); !ok) {
            return ok;
        }
        if ((mirror_.spec.bar_at(i)->is_64bit())) {
            if (auto ok = config_write(PCI_BASE_ADDRESS_0 + 4 * (i + 1), 4,
                                       static_cast<uint32_t>(a >> 32));
                !ok) {
                return ok;
            }
        }
    }
    // The ROM stays enabled in the server: pciem.ko only sends its reads
    // while the driver has it enabled.
    if (mirror_.server_rom_address != 0) {
        if (auto ok = config_write(PCI_ROM_ADDRESS, 4,
                                   static_cast<uint32_t>(mirror_.server_rom_address) |
                                       PCI_ROM_ADDRESS_ENABLE);
            !ok) {
            return ok;
        }
    }
    // Memory decoding on from the start: pciem.ko only sends BAR accesses
    // the driver's own Command register allows, and the server must
    // answer reads the kernel makes while the driver probes.
    if (auto ok = config_write(PCI_COMMAND, 2, command_ | PCI_COMMAND_MEMORY); !ok) {
        return ok;
    }
    return client_.flush();
}

void ForwardedDevice::on_command(uint16_t value) {
    if (broken()) {
        return;
    }
    // Memory Space stays on in the server (see program_server_header);
    // Bus Master follows the driver. Interrupt Disable is pciem.ko's: a
    // server that obeyed it would not signal an assertion at all, and
    // Interrupt Status must still follow the line (PCI 3.0, 6.2.2).
    command_ = value & ~PCI_COMMAND_INTX_DISABLE;
    if (auto ok = config_write(PCI_COMMAND, 2, command_ | PCI_COMMAND_MEMORY); !ok) {
        report_fault(ok.error().message);
    }
}

Result<std::vector<int>> ForwardedDevice::vector_eventfds(unsigned n) {
    std::vector<int> fds;
    for (unsigned v = 0; v < n; ++v) {
        auto fd = irq().eventfd(v);
        if (!fd) {
            return std::unexpected(fd.error());
        }
        fds.push_back(*fd);
    }
    return fds;
}

// pciem.ko owns masking and pending bits, so the server's MSI-X is simply
// on, every entry unmasked, each vector signalling its PCIem irqfd; a
// vector the driver masked turns pending in pciem.ko, not in the server.
Result<void> ForwardedDevice::enable_msix(bool on) {
    const MsixLayout& x = *mirror_.msix;
    if (!on) {
        if (auto ok = client_.disable_irqs(VFIO_PCI_MSIX_IRQ_INDEX); !ok) {
            return ok;
        }
        return config_write(x.cap_offset + PCI_MSIX_FLAGS, 2, 0);
    }
    if (auto ok = config_write(x.cap_offset + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE); !ok) {
        return ok;
    }
    for (unsigned v = 0; v < x.vectors; ++v) {
        if (auto ok = client_.region_write(
                x.table_bar, x.table_offset + v * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL,
                std::as_bytes(std::span<const uint32_t>{{0u}}));
            !ok) {
            return ok;
        }
    }
    auto fds = vector_eventfds(x.vectors);
    if (!fds) {
        return std::unexpected(fds.error());
    }
    return client_.set_irq_eventfds(VFIO_PCI_MSIX_IRQ_INDEX, 0, *fds);
}

Result<void> ForwardedDevice::enable_msi(bool on, unsigned vectors) {
    const MsiLayout& m = *mirror_.msi;
    if (!on) {
        if (auto ok = client_.disable_irqs(VFIO_PCI_MSI_IRQ_INDEX); !ok) {
            return ok;
        }
        return config_write(m.cap_offset + PCI_MSI_FLAGS, 2, 0);
    }
    const unsigned n = std::max(1u, std::min(vectors, m.vectors));
    const uint16_t qsize = static_cast<uint16_t>(std::countr_zero(n) << 4);
    if (auto ok = config_write(m.cap_offset + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | qsize);
        !ok) {
        return ok;
    }
    auto fds = vector_eventfds(n);
    if (!fds) {
        return std::unexpected(fds.error());
    }
    return client_.set_irq_eventfds(VFIO_PCI_MSI_IRQ_INDEX, 0, *fds);
}

void ForwardedDevice::on_irq_config(const IrqConfigEvent& event) {
    if (broken()) {
        return;
    }
    Result<void> ok;
    if (event.kind == IrqConfigEvent::Kind::msix && mirror_.msix && event.enabled != msix_on_) {
        msix_on_ = event.enabled;
        ok = enable_msix(event.enabled);
    } else if (event.kind == IrqConfigEvent::Kind::msi && mirror_.msi &&
               (event.enabled != msi_on_ || event.enabled)) {
        msi_on_ = event.enabled;
        msi_vectors_ = event.vectors;
        ok = enable_msi(event.enabled, event.vectors);
    }
    // The server keeps one set of eventfds for whichever index is on
    // (libvfio-user): MSI or MSI-X off, INTx needs its own again, as a
    // VFIO client re-enables INTx after MSI.
    if (ok && intx_ && !event.enabled &&
        (event.kind == IrqConfigEvent::Kind::msix || event.kind == IrqConfigEvent::Kind::msi)) {
        ok = wire_intx_eventfd();
    }
    // Masks, messages and Interrupt Disable are pciem.ko's business.
    if (!ok) {
        report_fault(fmt::format("wiring the server's interrupts: {}", ok.error().message));
    }
}

// The PCI core brackets an FLR with a save and a restore of the header,
// which pciem.ko keeps emulating throughout, so the writes of the restore
// may change nothing pciem.ko reports: the server is brought back to
// where the driver left it here, before the restore's own events arrive.
void ForwardedDevice::on_reset() {
    if (broken()) {
        return;
    }
    Result<void> ok = client_.device_reset();
    if (ok) {
        ok = program_server_header();
    }
    if (ok && msix_on_) {
        ok = enable_msix(true);
    }
    if (ok && msi_on_) {
        ok = enable_msi(true, msi_vectors_);
    }
    if (ok && intx_ && !msix_on_ && !msi_on_) {
        ok = wire_intx_eventfd();
    }
    if (ok) {
        fmt::print("pciem-proxy: the driver reset the function: the server's device was reset\n");
        std::fflush(stdout);
    }
    if (!ok) {
        report_fault(fmt::format("resetting the server's device: {}", ok.error().message));
    }
}

} // namespace pciem::proxy
