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
#include "pciem_irq_rules.h"

namespace pciem {

namespace {

uint64_t all_ones(unsigned size) {
    return size >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * size)) - 1;
}

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
    : model_(model), cfg_(std::move(cfg)), binding_(model) {
    // Like the kernel host: one backing per shadow, filled before the
    // first access can be served from it.
    for (auto& s : model_.shadows()) {
        auto& mem = shadow_mem_.emplace_back(s.len / 8);
        binding_.shadow(s, std::span<uint8_t>(reinterpret_cast<uint8_t*>(mem.data()), s.len));
    }
    model_.shadow_update();
    // RAM BARs: zeroed memory, as the kernel's fresh pages are.
    for (unsigned bar = 0; bar < PCIEM_MAX_BARS; ++bar) {
        if ((cfg_->bar_flags[bar] & PCIEM_BAR_RAM) != 0 && cfg_->bar_size[bar] != 0) {
            auto& mem = ram_mem_.at(bar);
            mem.assign(cfg_->bar_size[bar] / 8, 0);
            binding_.ram(bar, std::span<std::byte>(reinterpret_cast<std::byte*>(mem.data()),
                                                   cfg_->bar_size[bar]));
        }
    }
    irq_init();
    irq_sink_ = std::make_unique<SimInterrupts>(*this);
    binding_.interrupts(irq_sink_.get());
    binding_.dma(&dma_);
}

SimHost::~SimHost() {
    model_.on_stop();
    // binding_ goes first of the members: the model lets go of the
    // backings before they die.
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

// ---- interrupts: the rules of kernel/rules/pciem_irq_rules.c --------------

void SimHost::irq_init() {
    irq_.rules = std::make_unique<pciem_irq_rules>();
    pciem_irq_rules& r = *irq_.rules;
    pciem_irq_rules_shape(&r, cfg_.get());
    irq_.msix_table.assign(pciem_irq_rules_table_bytes(&r), 0);
    irq_.msix_pba.assign(pciem_irq_rules_pba_words(&r), 0);
    r.msix_table = irq_.msix_table.data();
    r.msix_pba = irq_.msix_pba.data();
    pciem_irq_rules_reset(&r);
    r.ctx = this;
    // Called under irq_mutex_: what pciem.ko sends as a message, recorded.
    r.fire = [](void* ctx, uint32_t vector) {
        auto* host = static_cast<SimHost*>(ctx);
        host->irq_deliver_locked(host->irq_.rules->msix_enabled ? SimInterrupt::Kind::msix
                                                                : SimInterrupt::Kind::msi,
                                 vector);
    };
}

void SimHost::irq_deliver_locked(SimInterrupt::Kind kind, unsigned vector) {
    irq_.log.push_back(SimInterrupt{kind, vector});
    ++irq_.counts[{static_cast<int>(kind), vector}];
}

// INTx as an edge in the recording: one interrupt per assertion.
void SimHost::intx_update_locked() {
    const bool asserted = pciem_irq_rules_intx_on(irq_.rules.get());
    if (asserted && !irq_.intx_asserted) {
        irq_deliver_locked(SimInterrupt::Kind::intx, 0);
    }
    irq_.intx_asserted = asserted;
}

Result<void> SimHost::irq_raise_locked(unsigned vector) {
    const pciem_irq_rules& r = *irq_.rules;
    switch (pciem_irq_rules_raise(irq_.rules.get(), vector)) {
    case PCIEM_IRQ_SENT:
    case PCIEM_IRQ_PENDING:
        return {};
    case PCIEM_IRQ_NO_VECTOR:
        ++irq_.dropped;
        if (r.msix_enabled) {
            return fail(EINVAL, fmt::format("cannot raise vector {}: the MSI-X table has {} "
                                            "entries (EINVAL)",
                                            vector, r.msix_n));
        }
        return fail(EINVAL, fmt::format("cannot raise vector {}: MSI has {} vector(s) "
                                        "enabled (EINVAL)",
                                        vector, r.msi_nvec));
    case PCIEM_IRQ_DISABLED:
        break;
    }
    ++irq_.dropped;
    return fail(EAGAIN, fmt::format("cannot raise vector {}: neither MSI nor MSI-X is enabled, "
                                    "so the function cannot signal (EAGAIN)",
                                    vector));
}

void SimHost::irq_cfg_read(uint16_t offset, unsigned size, uint32_t& value) {
    const std::lock_guard lock(irq_mutex_);
    pciem_irq_rules_cfg_read(irq_.rules.get(), cfg_.get(), offset, size, &value);
}

void SimHost::irq_events_locked(const pciem_irq_rules_events& ev) {
    for (unsigned i = 0; i < ev.n; ++i) {
        pciem_req req{};
        req.type = PCIEM_REQ_IRQ_CONFIG;
        req.flags = ev.ev[i].event;
        req.offset = ev.ev[i].index;
        req.data = ev.ev[i].data;
        irq_events_.push_back(req);
    }
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
    pciem_irq_rules_events ev{};
    pciem_irq_rules_cfg_written(irq_.rules.get(), cfg_.get(), offset, size, &ev);
    irq_events_locked(ev);
    intx_update_locked();
}

bool SimHost::msix_access(unsigned bar, uint64_t offset, unsigned size, bool write,
                          uint64_t& value) {
    if (irq_.msix_table.empty()) {
        return false;
    }
    bool served = false;
    {
        const std::lock_guard lock(irq_mutex_);
        pciem_irq_rules_events ev{};
        served = pciem_irq_rules_msix_access(irq_.rules.get(), bar, offset, size, write, &value,
                                             &ev);
        irq_events_locked(ev);
    }
    // As pciem.ko does: the model hears of a changed entry at once.
    irq_post_events();
    return served;
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
    return pciem_irq_rules_msix_pending(irq_.rules.get(), vector);
}

bool SimHost::msi_pending(unsigned vector) {
    poll_interrupts();
    const std::lock_guard lock(irq_mutex_);
    return vector < 32 && (irq_.rules->msi_pending & (1u << vector)) != 0;
}

bool SimHost::intx_level() {
    const std::lock_guard lock(irq_mutex_);
    return irq_.rules->intx_level;
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
    if (!pciem_irq_rules_set_intx(host_.irq_.rules.get(), level)) {
        return fail(EINVAL, "cannot drive INTx: the function has no interrupt pin (EINVAL)");
    }
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
    const uint64_t bar_size = pciem_cfg_region_size(cfg_.get(), bar);
    return sized && offset < bar_size && bar_size - offset >= size;
}

bool SimHost::is_ram(unsigned bar) const {
    return bar < PCIEM_MAX_BARS && !ram_mem_.at(bar).empty();
}

std::optional<uint64_t> SimHost::read(unsigned bar, uint64_t offset, unsigned size) {
    poll_interrupts();
    if (!in_bar(bar, offset, size)) {
        ++stats_.master_aborts;
        return std::nullopt;
    }
    // RAM BARs are not trapped: the bytes, nothing else.
    if (is_ram(bar)) {
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
    if (is_ram(bar)) {
        std::memcpy(reinterpret_cast<uint8_t*>(ram_mem_.at(bar).data()) + offset, &value, size);
        return;
    }
    // A ROM is read-only: pciem.ko drops the write too.
    if (bar == PCIEM_ROM_BAR) {
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
