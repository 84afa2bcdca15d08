// SPDX-License-Identifier: MIT
#include "forwarded_device.hpp"

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
    auto data = client_.region_read(bar, offset, size);
    if (!data) {
        report_fault(data.error().message);
        return ones(size);
    }
    uint64_t v = 0;
    std::memcpy(&v, data->data(), size);
    return v;
}

void ForwardedDevice::on_mmio_write(unsigned bar, uint64_t offset, unsigned size, uint64_t value) {
    if (broken()) {
        return;
    }
    std::byte bytes[8];
    std::memcpy(bytes, &value, sizeof(bytes));
    if (auto ok = client_.region_write(bar, offset, std::span(bytes, size)); !ok) {
        report_fault(ok.error().message);
    }
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
    // Memory decoding on from the start: pciem.ko only sends BAR accesses
    // the driver's own Command register allows, and the server must
    // answer reads the kernel makes while the driver probes.
    if (auto ok = config_write(PCI_COMMAND, 2, PCI_COMMAND_MEMORY); !ok) {
        return ok;
    }
    return client_.flush();
}

void ForwardedDevice::on_command(uint16_t value) {
    if (broken()) {
        return;
    }
    // Memory Space stays on in the server (see program_server_header);
    // Bus Master and Interrupt Disable follow the driver.
    if (auto ok = config_write(PCI_COMMAND, 2, value | PCI_COMMAND_MEMORY); !ok) {
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
        ok = enable_msi(event.enabled, event.vectors);
    }
    // Masks, messages and Interrupt Disable are pciem.ko's business.
    if (!ok) {
        report_fault(fmt::format("wiring the server's interrupts: {}", ok.error().message));
    }
}

} // namespace pciem::proxy
