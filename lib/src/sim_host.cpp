// SPDX-License-Identifier: MIT
#include "pciem/sim_host.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <linux/pci_regs.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <fmt/format.h>

#include "pciem/dispatch.hpp"
#include "pciem/error_text.hpp"
#include "pciem_cfg_decode.h"

namespace pciem {

namespace {

uint64_t all_ones(unsigned size) {
    return size >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * size)) - 1;
}

// Register names: <linux/pci_regs.h>, as pciem.ko and kernel/cfgspace use them.
constexpr unsigned msix_entry_size = PCI_MSIX_ENTRY_SIZE;

} // namespace

Result<std::unique_ptr<SimHost>> SimHost::create(DeviceModel& model, const ConfigLimits& limits) {
    if (auto ok = model.realize(); !ok) {
        return std::unexpected(ok.error());
    }
    auto cfg = preview_config(model.spec(), limits);
    if (!cfg) {
        return std::unexpected(cfg.error());
    }
    std::unique_ptr<SimHost> host(new SimHost(model, std::move(*cfg)));
    model.on_start();
    return host;
}

SimHost::SimHost(DeviceModel& model, std::unique_ptr<pciem_cfg> cfg)
    : model_(model), cfg_(std::move(cfg)) {
    // Like the kernel host: one backing per shadow, filled before the
    // first access can be served from it.
    for (auto& s : model_.shadows()) {
        auto& mem = shadow_mem_.emplace_back(s.len / 8);
        s.backing = std::span<uint8_t>(reinterpret_cast<uint8_t*>(mem.data()), s.len);
    }
    model_.shadow_update();
    // RAM BARs: zeroed memory, as the kernel's fresh pages are.
    for (unsigned bar = 0; bar < PCIEM_MAX_BARS; ++bar) {
        if ((cfg_->bar_flags[bar] & PCIEM_BAR_RAM) != 0 && cfg_->bar_size[bar] != 0) {
            auto& mem = ram_mem_.at(bar);
            mem.assign(cfg_->bar_size[bar] / 8, 0);
            model_.bind_ram(bar, std::span<std::byte>(reinterpret_cast<std::byte*>(mem.data()),
                                                      cfg_->bar_size[bar]));
        }
    }
    irq_init();
    irq_sink_ = std::make_unique<SimInterrupts>(*this);
    model_.bind_interrupts(irq_sink_.get());
    model_.bind_dma(&dma_);
}

SimHost::~SimHost() {
    model_.on_stop();
    // The backing dies with us; the model must not write to it after.
    for (auto& s : model_.shadows()) {
        s.backing = {};
    }
    for (unsigned bar = 0; bar < PCIEM_MAX_BARS; ++bar) {
        model_.bind_ram(bar, {});
    }
    model_.bind_interrupts(nullptr);
    model_.bind_dma(nullptr);
}

uint32_t SimHost::cfg_read(uint16_t offset, unsigned size) {
    poll_interrupts();
    if (pciem_cfg_claimed(cfg_.get(), offset, size)) {
        return model_.on_config_read(offset, size);
    }
    uint32_t v = pciem_cfg_read(cfg_.get(), offset, size);
    irq_cfg_read(offset, size, v);
    return v;
}

void SimHost::cfg_write(uint16_t offset, unsigned size, uint32_t value) {
    poll_interrupts();
    if (pciem_cfg_claimed(cfg_.get(), offset, size)) {
        model_.on_config_write(offset, size, value);
        return;
    }
    pciem_cfg_write(cfg_.get(), offset, size, value);
    irq_cfg_written(offset, size);
    irq_post_events();
    dma_.set_bus_master((pciem_cfg_read(cfg_.get(), PCI_COMMAND, 2) & PCI_COMMAND_MASTER) != 0);
}

// ---- interrupts: kernel/pciem_irq.c, rule for rule ---------------------------

void SimHost::irq_init() {
    const pciem_cfg_layout& l = cfg_->layout;
    if (l.msix != 0) {
        irq_.msix_n = (pciem_cfg_read(cfg_.get(), l.msix + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_QSIZE) + 1;
        uint32_t v = pciem_cfg_read(cfg_.get(), l.msix + PCI_MSIX_TABLE, 4);
        irq_.table_bar = v & PCI_MSIX_TABLE_BIR;
        irq_.table_off = v & ~PCI_MSIX_TABLE_BIR;
        v = pciem_cfg_read(cfg_.get(), l.msix + PCI_MSIX_PBA, 4);
        irq_.pba_bar = v & PCI_MSIX_TABLE_BIR;
        irq_.pba_off = v & ~PCI_MSIX_TABLE_BIR;
        irq_.msix_table.assign(size_t{irq_.msix_n} * msix_entry_size, 0);
        irq_.msix_pba.assign((irq_.msix_n + 63) / 64, 0);
        // Every entry comes out of reset masked.
        for (unsigned i = 0; i < irq_.msix_n; ++i) {
            irq_.msix_table[size_t{i} * msix_entry_size + 12] = PCI_MSIX_ENTRY_CTRL_MASKBIT;
        }
    }
    if (l.msi != 0) {
        irq_.msi_maskable =
            (pciem_cfg_read(cfg_.get(), l.msi + PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_MASKBIT) != 0;
    }
    irq_.intx_pin = pciem_cfg_read(cfg_.get(), PCI_INTERRUPT_PIN, 1) != 0;
}

bool SimHost::msix_masked_locked(unsigned vector) const {
    return irq_.msix_fmask ||
           (irq_.msix_table[size_t{vector} * msix_entry_size + 12] & PCI_MSIX_ENTRY_CTRL_MASKBIT) != 0;
}

void SimHost::irq_deliver_locked(SimInterrupt::Kind kind, unsigned vector) {
    irq_.log.push_back(SimInterrupt{kind, vector});
    ++irq_.counts[{static_cast<int>(kind), vector}];
}

void SimHost::msix_flush_locked() {
    if (!irq_.msix_enabled || irq_.msix_fmask) {
        return;
    }
    for (unsigned i = 0; i < irq_.msix_n; ++i) {
        uint64_t& word = irq_.msix_pba[i / 64];
        const uint64_t bit = uint64_t{1} << (i % 64);
        if ((word & bit) == 0 || msix_masked_locked(i)) {
            continue;
        }
        word &= ~bit;
        irq_deliver_locked(SimInterrupt::Kind::msix, i);
    }
}

void SimHost::msi_flush_locked() {
    if (!irq_.msi_enabled) {
        return;
    }
    for (unsigned v = 0; v < irq_.msi_nvec; ++v) {
        const uint32_t bit = 1u << v;
        if ((irq_.msi_pending & bit) != 0 && !(irq_.msi_maskable && (irq_.msi_mask & bit) != 0)) {
            irq_.msi_pending &= ~bit;
            irq_deliver_locked(SimInterrupt::Kind::msi, v);
        }
    }
}

void SimHost::intx_update_locked() {
    const bool asserted = irq_.intx_level && !irq_.intx_disabled;
    if (asserted && !irq_.intx_asserted) {
        irq_deliver_locked(SimInterrupt::Kind::intx, 0);
    }
    irq_.intx_asserted = asserted;
}

Result<void> SimHost::irq_raise_locked(unsigned vector) {
    if (irq_.msix_enabled) {
        if (vector >= irq_.msix_n) {
            ++irq_.dropped;
            return fail(EINVAL, fmt::format("cannot raise vector {}: the MSI-X table has {} "
                                            "entries (EINVAL)",
                                            vector, irq_.msix_n));
        }
        if (msix_masked_locked(vector)) {
            irq_.msix_pba[vector / 64] |= uint64_t{1} << (vector % 64);
        } else {
            irq_deliver_locked(SimInterrupt::Kind::msix, vector);
        }
        return {};
    }
    if (irq_.msi_enabled) {
        if (vector >= irq_.msi_nvec) {
            ++irq_.dropped;
            return fail(EINVAL, fmt::format("cannot raise vector {}: MSI has {} vector(s) "
                                            "enabled (EINVAL)",
                                            vector, irq_.msi_nvec));
        }
        if (irq_.msi_maskable && (irq_.msi_mask & (1u << vector)) != 0) {
            irq_.msi_pending |= 1u << vector;
        } else {
            irq_deliver_locked(SimInterrupt::Kind::msi, vector);
        }
        return {};
    }
    ++irq_.dropped;
    return fail(EAGAIN, fmt::format("cannot raise vector {}: neither MSI nor MSI-X is enabled, "
                                    "so the function cannot signal (EAGAIN)",
                                    vector));
}

void SimHost::irq_cfg_read(uint16_t offset, unsigned size, uint32_t& value) {
    const std::lock_guard lock(irq_mutex_);
    const uint32_t mask = size == 4 ? ~0u : (1u << (8 * size)) - 1;
    if (cfg_->layout.msi != 0 && irq_.msi_maskable) {
        const unsigned reg = cfg_->layout.msi_data + 8u; // Pending Bits
        if (offset >= reg && offset < reg + 4) {
            value = (irq_.msi_pending >> (8 * (offset - reg))) & mask;
        }
    }
    if (offset <= PCI_STATUS && offset + size > PCI_STATUS && irq_.intx_level) {
        value |= PCI_STATUS_INTERRUPT << (8 * (PCI_STATUS - offset));
    }
}

void SimHost::irq_event_locked(uint32_t event, uint32_t index, uint64_t data) {
    pciem_req req{};
    req.type = PCIEM_REQ_IRQ_CONFIG;
    req.flags = event;
    req.offset = index;
    req.data = data;
    irq_events_.push_back(req);
}

void SimHost::irq_post_events() {
    std::vector<pciem_req> events;
    {
        const std::lock_guard lock(irq_mutex_);
        events.swap(irq_events_);
    }
    // Through the same dispatch as the kernel's ring requests.
    for (const pciem_req& req : events) {
        (void)dispatch_request(model_, req);
    }
}

void SimHost::irq_cfg_written(uint16_t offset, unsigned size) {
    const std::lock_guard lock(irq_mutex_);
    const pciem_cfg_layout& l = cfg_->layout;
    const unsigned where = offset;
    if (l.msix != 0 && where < l.msix + 4u && where + size > l.msix + 2u) {
        const uint32_t ctl = pciem_cfg_read(cfg_.get(), l.msix + PCI_MSIX_FLAGS, 2);
        const bool was = irq_.msix_enabled;
        const bool fmask = irq_.msix_fmask;
        irq_.msix_enabled = (ctl & PCI_MSIX_FLAGS_ENABLE) != 0;
        irq_.msix_fmask = (ctl & PCI_MSIX_FLAGS_MASKALL) != 0;
        if (irq_.msix_enabled && !was) {
            std::fill(irq_.msix_pba.begin(), irq_.msix_pba.end(), 0);
        }
        msix_flush_locked();
        if (irq_.msix_enabled != was || irq_.msix_fmask != fmask) {
            irq_event_locked(PCIEM_IRQ_EV_MSIX, 0,
                             uint64_t{irq_.msix_enabled} | uint64_t{irq_.msix_fmask} << 1);
        }
    }
    if (l.msi != 0 && where < l.msi + 0x18u && where + size > l.msi + 2u) {
        const uint32_t ctl = pciem_cfg_read(cfg_.get(), l.msi + PCI_MSI_FLAGS, 2);
        const bool was = irq_.msi_enabled;
        const unsigned nvec = irq_.msi_nvec;
        const uint32_t data = irq_.msi_data;
        const uint32_t mask = irq_.msi_mask;
        irq_.msi_enabled = (ctl & PCI_MSI_FLAGS_ENABLE) != 0;
        irq_.msi_nvec = 1u << ((ctl & PCI_MSI_FLAGS_QSIZE) >> 4);
        irq_.msi_data = pciem_cfg_read(cfg_.get(), cfg_->layout.msi_data, 2);
        if (irq_.msi_maskable) {
            irq_.msi_mask = pciem_cfg_read(cfg_.get(), cfg_->layout.msi_data + 4u, 4);
        }
        if (irq_.msi_enabled && !was) {
            irq_.msi_pending = 0;
        }
        msi_flush_locked();
        if (irq_.msi_enabled != was || irq_.msi_nvec != nvec || irq_.msi_data != data) {
            irq_event_locked(PCIEM_IRQ_EV_MSI, 0,
                             uint64_t{irq_.msi_data} << 32 | uint64_t{irq_.msi_nvec} << 8 |
                                 uint64_t{irq_.msi_enabled});
        }
        if (irq_.msi_mask != mask) {
            irq_event_locked(PCIEM_IRQ_EV_MSI_MASK, 0, irq_.msi_mask);
        }
    }
    if (where < PCI_COMMAND + 2u && where + size > PCI_COMMAND) {
        const bool was = irq_.intx_disabled;
        irq_.intx_disabled =
            (pciem_cfg_read(cfg_.get(), PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE) != 0;
        if (irq_.intx_disabled != was) {
            irq_event_locked(PCIEM_IRQ_EV_INTX_DISABLE, 0, uint64_t{irq_.intx_disabled});
        }
        intx_update_locked();
    }
}

bool SimHost::msix_access(unsigned bar, uint64_t offset, unsigned size, bool write,
                          uint64_t& value) {
    if (irq_.msix_n == 0) {
        return false;
    }
    const std::lock_guard lock(irq_mutex_);
    const uint64_t tsize = uint64_t{irq_.msix_n} * msix_entry_size;
    // The kernel's PBA is a bitmap of longs: whole 8-byte words.
    const uint64_t psize = irq_.msix_pba.size() * 8;
    if (bar == irq_.table_bar && offset >= irq_.table_off &&
        offset + size <= irq_.table_off + tsize) {
        const uint64_t off = offset - irq_.table_off;
        uint8_t* bytes = irq_.msix_table.data();
        const auto i = static_cast<unsigned>(off / msix_entry_size);
        uint8_t* entry = bytes + size_t{i} * msix_entry_size;
        if (!write) {
            value = 0;
            for (unsigned b = 0; b < size; ++b) {
                value |= uint64_t{bytes[off + b]} << (8 * b);
            }
            return true;
        }
        std::array<uint8_t, msix_entry_size> before{};
        std::memcpy(before.data(), entry, msix_entry_size);
        for (unsigned b = 0; b < size; ++b) {
            const uint64_t o = off + b;
            const uint8_t byte = static_cast<uint8_t>(value >> (8 * b));
            // Only the Mask bit of Vector Control is RW.
            if ((o & 15) == 12) {
                bytes[o] = static_cast<uint8_t>((bytes[o] & ~PCI_MSIX_ENTRY_CTRL_MASKBIT) |
                                                (byte & PCI_MSIX_ENTRY_CTRL_MASKBIT));
            } else if ((o & 15) < 12) {
                bytes[o] = byte;
            }
        }
        if ((irq_.msix_pba[i / 64] & (uint64_t{1} << (i % 64))) != 0 && !msix_masked_locked(i)) {
            msix_flush_locked();
        }
        if (std::memcmp(before.data(), entry, msix_entry_size) != 0) {
            uint32_t data = 0;
            std::memcpy(&data, entry + 8, 4);
            irq_event_locked(PCIEM_IRQ_EV_MSIX_ENTRY, i,
                             uint64_t{data} << 32 | (entry[12] & PCI_MSIX_ENTRY_CTRL_MASKBIT));
        }
        return true;
    }
    if (bar == irq_.pba_bar && offset >= irq_.pba_off && offset + size <= irq_.pba_off + psize) {
        // Pending bits are the device's: writes are ignored.
        if (!write) {
            const auto* bytes = reinterpret_cast<const uint8_t*>(irq_.msix_pba.data());
            value = 0;
            for (unsigned b = 0; b < size; ++b) {
                value |= uint64_t{bytes[offset - irq_.pba_off + b]} << (8 * b);
            }
        }
        return true;
    }
    return false;
}

void SimHost::poll_interrupts() {
    // Counts first, raises after: the eventfd lock is never held with the
    // interrupt lock (the model may create eventfds while raising).
    std::vector<std::pair<unsigned, uint64_t>> fired;
    {
        const std::lock_guard lock(eventfd_mutex_);
        for (const auto& [vector, fd] : eventfds_) {
            uint64_t n = 0;
            if (::read(fd.get(), &n, sizeof(n)) == static_cast<ssize_t>(sizeof(n)) && n != 0) {
                fired.emplace_back(vector, n);
            }
        }
    }
    if (fired.empty()) {
        return;
    }
    const std::lock_guard lock(irq_mutex_);
    for (const auto& [vector, n] : fired) {
        for (uint64_t i = 0; i < n; ++i) {
            (void)irq_raise_locked(vector);
        }
    }
}

std::vector<SimInterrupt> SimHost::interrupts() {
    poll_interrupts();
    const std::lock_guard lock(irq_mutex_);
    return irq_.log;
}

std::vector<SimInterrupt> SimHost::take_interrupts() {
    poll_interrupts();
    const std::lock_guard lock(irq_mutex_);
    std::vector<SimInterrupt> out;
    out.swap(irq_.log);
    return out;
}

uint64_t SimHost::interrupt_count(SimInterrupt::Kind kind, unsigned vector) {
    poll_interrupts();
    const std::lock_guard lock(irq_mutex_);
    const auto it = irq_.counts.find({static_cast<int>(kind), vector});
    return it == irq_.counts.end() ? 0 : it->second;
}

bool SimHost::msix_pending(unsigned vector) {
    poll_interrupts();
    const std::lock_guard lock(irq_mutex_);
    return vector < irq_.msix_n &&
           (irq_.msix_pba[vector / 64] & (uint64_t{1} << (vector % 64))) != 0;
}

bool SimHost::msi_pending(unsigned vector) {
    poll_interrupts();
    const std::lock_guard lock(irq_mutex_);
    return vector < 32 && (irq_.msi_pending & (1u << vector)) != 0;
}

bool SimHost::intx_level() {
    const std::lock_guard lock(irq_mutex_);
    return irq_.intx_level;
}

bool SimHost::intx_asserted() {
    const std::lock_guard lock(irq_mutex_);
    return irq_.intx_asserted;
}

uint64_t SimHost::dropped_interrupts() {
    poll_interrupts();
    const std::lock_guard lock(irq_mutex_);
    return irq_.dropped;
}

Result<void> SimHost::SimInterrupts::raise(unsigned vector) {
    host_.poll_interrupts(); // earlier eventfd raises come first
    const std::lock_guard lock(host_.irq_mutex_);
    return host_.irq_raise_locked(vector);
}

Result<void> SimHost::SimInterrupts::set_intx(bool level) {
    const std::lock_guard lock(host_.irq_mutex_);
    if (!host_.irq_.intx_pin) {
        return fail(EINVAL, "cannot drive INTx: the function has no interrupt pin (EINVAL)");
    }
    host_.irq_.intx_level = level;
    host_.intx_update_locked();
    return {};
}

Result<int> SimHost::SimInterrupts::eventfd(unsigned vector) {
    const std::lock_guard lock(host_.eventfd_mutex_);
    if (auto it = host_.eventfds_.find(vector); it != host_.eventfds_.end()) {
        return it->second.get();
    }
    // Non-blocking: the SimHost drains it without waiting.
    UniqueFd efd{::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)};
    if (!efd.valid()) {
        const int e = errno;
        return fail(e, describe_errno(e, fmt::format("eventfd for vector {}", vector)));
    }
    const int fd = efd.get();
    host_.eventfds_.emplace(vector, std::move(efd));
    return fd;
}

const ShadowRange* SimHost::shadow_for(unsigned bar, uint64_t offset, unsigned size) const {
    for (const auto& s : model_.shadows()) {
        if (s.bar == bar && offset >= s.offset && offset + size <= s.offset + s.len) {
            return &s;
        }
    }
    return nullptr;
}

bool SimHost::in_bar(unsigned bar, uint64_t offset, unsigned size) const {
    // What the kernel's decoder can produce: 1, 2, 4 or 8 bytes inside
    // one BAR. Anything else would be a test bug; it master-aborts.
    const bool sized = size == 1 || size == 2 || size == 4 || size == 8;
    return sized && bar < PCIEM_MAX_BARS && offset < cfg_->bar_size[bar] &&
           cfg_->bar_size[bar] - offset >= size;
}

std::optional<uint64_t> SimHost::read(unsigned bar, uint64_t offset, unsigned size) {
    poll_interrupts();
    if (!in_bar(bar, offset, size)) {
        ++stats_.master_aborts;
        return std::nullopt;
    }
    // RAM BARs are not trapped: the bytes, nothing else.
    if (!ram_mem_.at(bar).empty()) {
        uint64_t v = 0;
        std::memcpy(&v, reinterpret_cast<const uint8_t*>(ram_mem_.at(bar).data()) + offset, size);
        return v;
    }
    // The MSI-X table and PBA are the host's, never the model's.
    if (uint64_t v = 0; msix_access(bar, offset, size, false, v)) {
        return v;
    }
    // The kernel serves a shadow once the ring is drained; here every
    // earlier request has completed already, so it always may.
    if (const ShadowRange* s = shadow_for(bar, offset, size)) {
        uint64_t v = 0;
        std::memcpy(&v, s->backing.data() + (offset - s->offset), size);
        ++stats_.shadow_reads;
        return v;
    }
    ++stats_.reads;
    pciem_req req{};
    req.type = PCIEM_REQ_MMIO_READ;
    req.bar = static_cast<uint8_t>(bar);
    req.size = static_cast<uint8_t>(size);
    req.offset = offset;
    auto v = dispatch_request(model_, req);
    if (!v) {
        ++stats_.read_timeouts;
        ++stats_.master_aborts;
        return std::nullopt;
    }
    return *v & all_ones(size);
}

bool SimHost::poll() {
    poll_interrupts();
    const bool worked = model_.on_poll();
    poll_interrupts();
    return worked;
}

bool SimHost::idle() {
    poll_interrupts();
    const bool worked = model_.on_idle();
    poll_interrupts();
    return worked;
}

void SimHost::write(unsigned bar, uint64_t offset, unsigned size, uint64_t value) {
    poll_interrupts();
    if (!in_bar(bar, offset, size)) {
        ++stats_.master_aborts;
        return;
    }
    if (!ram_mem_.at(bar).empty()) {
        std::memcpy(reinterpret_cast<uint8_t*>(ram_mem_.at(bar).data()) + offset, &value, size);
        return;
    }
    if (uint64_t v = value & all_ones(size); msix_access(bar, offset, size, true, v)) {
        irq_post_events();
        return;
    }
    ++stats_.writes;
    pciem_req req{};
    req.type = PCIEM_REQ_MMIO_WRITE;
    req.bar = static_cast<uint8_t>(bar);
    req.size = static_cast<uint8_t>(size);
    req.offset = offset;
    req.data = value & all_ones(size);
    (void)dispatch_request(model_, req);
}

uint8_t SimHost::read8(unsigned bar, uint64_t offset) {
    return static_cast<uint8_t>(read(bar, offset, 1).value_or(all_ones(1)));
}
uint16_t SimHost::read16(unsigned bar, uint64_t offset) {
    return static_cast<uint16_t>(read(bar, offset, 2).value_or(all_ones(2)));
}
uint32_t SimHost::read32(unsigned bar, uint64_t offset) {
    return static_cast<uint32_t>(read(bar, offset, 4).value_or(all_ones(4)));
}
uint64_t SimHost::read64(unsigned bar, uint64_t offset) {
    return read(bar, offset, 8).value_or(all_ones(8));
}
void SimHost::write8(unsigned bar, uint64_t offset, uint8_t value) {
    write(bar, offset, 1, value);
}
void SimHost::write16(unsigned bar, uint64_t offset, uint16_t value) {
    write(bar, offset, 2, value);
}
void SimHost::write32(unsigned bar, uint64_t offset, uint32_t value) {
    write(bar, offset, 4, value);
}
void SimHost::write64(unsigned bar, uint64_t offset, uint64_t value) {
    write(bar, offset, 8, value);
}

uint64_t SimHost::bar_address(unsigned bar) const {
    return pciem_cfg_bar_base(cfg_.get(), bar);
}

std::optional<std::pair<unsigned, uint64_t>> SimHost::decode(uint64_t address,
                                                             unsigned size) const {
    // The kernel's own rule (kernel/cfgspace/pciem_cfg_decode.c), plus
    // Memory Space Enable, which pciem.ko checks once it found the function.
    unsigned bar = 0;
    uint64_t offset = 0;
    if (!pciem_cfg_memory_enabled(cfg_.get()) ||
        !pciem_cfg_bar_decode(cfg_.get(), address, size, &bar, &offset)) {
        return std::nullopt;
    }
    return std::pair{bar, offset};
}

uint64_t SimHost::bus_read(uint64_t address, unsigned size) {
    const auto target = decode(address, size);
    if (!target) {
        ++stats_.master_aborts;
        return all_ones(size);
    }
    return read(target->first, target->second, size).value_or(all_ones(size));
}

void SimHost::bus_write(uint64_t address, unsigned size, uint64_t value) {
    const auto target = decode(address, size);
    if (!target) {
        ++stats_.master_aborts;
        return;
    }
    write(target->first, target->second, size, value);
}

} // namespace pciem
