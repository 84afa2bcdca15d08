// SPDX-License-Identifier: MIT
#include "pciem/device_model.hpp"

#include <atomic>
#include <cerrno>

#include <fmt/format.h>

namespace pciem {

// Most bytes of shadows one device may have: the kernel's limit.
static constexpr uint64_t max_shadow_bytes = 64 * 1024;

std::optional<uint64_t> DeviceModel::on_mmio_read(unsigned, uint64_t, unsigned) {
    return std::nullopt;
}

void DeviceModel::on_mmio_write(unsigned, uint64_t, unsigned, uint64_t) {}

uint32_t DeviceModel::on_config_read(uint16_t, unsigned) {
    return 0;
}

void DeviceModel::on_config_write(uint16_t, unsigned, uint32_t) {}

void DeviceModel::on_irq_config(const IrqConfigEvent&) {}

IrqConfigEvent IrqConfigEvent::from_request(uint32_t event, uint64_t index, uint64_t data) {
    IrqConfigEvent ev;
    const auto lo = static_cast<uint32_t>(data);
    const auto hi = static_cast<uint32_t>(data >> 32);
    switch (event) {
    case PCIEM_IRQ_EV_MSI:
        ev.kind = Kind::msi;
        ev.enabled = (lo & 1) != 0;
        ev.vectors = (lo >> 8) & 0xff;
        ev.message_data = hi;
        break;
    case PCIEM_IRQ_EV_MSI_MASK:
        ev.kind = Kind::msi_mask;
        ev.mask_bits = lo;
        break;
    case PCIEM_IRQ_EV_MSIX:
        ev.kind = Kind::msix;
        ev.enabled = (lo & 1) != 0;
        ev.masked = (lo & 2) != 0;
        break;
    case PCIEM_IRQ_EV_MSIX_ENTRY:
        ev.kind = Kind::msix_entry;
        ev.vector = static_cast<unsigned>(index);
        ev.masked = (lo & 1) != 0;
        ev.message_data = hi;
        break;
    case PCIEM_IRQ_EV_INTX_DISABLE:
        ev.kind = Kind::intx_disable;
        ev.masked = (lo & 1) != 0;
        break;
    default:
        break;
    }
    return ev;
}

namespace {

// What irq() answers before a host is bound.
class UnboundInterrupts final : public Interrupts {
public:
    Result<void> raise(unsigned vector) override {
        return fail(ENODEV,
                    fmt::format("cannot raise vector {}: the model runs on no host", vector));
    }
    Result<void> set_intx(bool) override {
        return fail(ENODEV, "cannot drive INTx: the model runs on no host");
    }
    Result<int> eventfd(unsigned vector) override {
        return fail(ENODEV,
                    fmt::format("no eventfd for vector {}: the model runs on no host", vector));
    }
};

UnboundInterrupts unbound_interrupts;

// What dma() answers before a host is bound.
class UnboundDma final : public Dma {
public:
    DmaResult<void> read(uint64_t address, std::span<std::byte>) override {
        return gone(address);
    }
    DmaResult<void> write(uint64_t address, std::span<const std::byte>) override {
        return gone(address);
    }
    DmaResult<uint64_t> fetch_add(uint64_t address, uint64_t, unsigned) override {
        return gone(address);
    }
    DmaResult<uint64_t> swap(uint64_t address, uint64_t, unsigned) override {
        return gone(address);
    }
    DmaResult<uint64_t> compare_swap(uint64_t address, uint64_t, uint64_t, unsigned) override {
        return gone(address);
    }

private:
    static std::unexpected<DmaFault> gone(uint64_t address) {
        return std::unexpected(DmaFault{DmaFaultKind::no_host, address,
                                        "cannot DMA: the model runs on no host"});
    }
};

UnboundDma unbound_dma;

} // namespace

Interrupts& DeviceModel::irq() {
    return irq_sink_ != nullptr ? *irq_sink_ : unbound_interrupts;
}

Dma& DeviceModel::dma() {
    return dma_ != nullptr ? *dma_ : unbound_dma;
}

std::span<std::byte> DeviceModel::ram(unsigned bar) const {
    return bar < PCIEM_MAX_BARS ? ram_.at(bar) : std::span<std::byte>{};
}

void DeviceModel::bind_ram(unsigned bar, std::span<std::byte> bytes) {
    if (bar < PCIEM_MAX_BARS) {
        ram_.at(bar) = bytes;
    }
}

RegisterMap& DeviceModel::declare_bar(unsigned bar, std::string name, uint64_t size) {
    // An index past 5 is reported by realize(); keep a map to hand back.
    const unsigned slot = bar < PCIEM_MAX_BARS ? bar : PCIEM_MAX_BARS - 1;
    maps_.at(slot) = std::make_unique<RegisterMap>(std::move(name), size);
    RegisterMap& map = *maps_.at(slot);
    // Unmapped bytes go to the model's virtual fallbacks first.
    map.fallback(
        [this, slot](uint64_t off, unsigned len) { return on_mmio_read(slot, off, len); },
        [this, slot](uint64_t off, unsigned len, uint64_t v) { on_mmio_write(slot, off, len, v); });
    return map;
}

void DeviceModel::declare_shadow(unsigned bar, uint64_t offset, uint32_t len) {
    shadows_.push_back(ShadowRange{bar, offset, len, {}});
}

RegisterMap* DeviceModel::bar_map(unsigned bar) {
    return bar < PCIEM_MAX_BARS ? maps_.at(bar).get() : nullptr;
}

std::optional<uint64_t> DeviceModel::rom_read(uint64_t offset, unsigned size) const {
    if (rom_.empty()) {
        return std::nullopt;
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < size && i < 8; ++i) {
        if (offset + i < rom_.size()) {
            v |= static_cast<uint64_t>(rom_[offset + i]) << (8 * i);
        }
    }
    return v;
}

Result<void> DeviceModel::check_shadow(const ShadowRange& s) const {
    const std::string what =
        fmt::format("shadow BAR{} {:#x}..{:#x}", s.bar, s.offset, s.offset + s.len);
    if (s.bar >= PCIEM_MAX_BARS || !maps_.at(s.bar)) {
        return fail(EINVAL, what + ": the BAR has no register map");
    }
    // The kernel's PCIEM_IOC_SHADOW rules, checked here so the SimHost
    // refuses what the kernel would.
    if (s.offset % 8 != 0 || s.len % 8 != 0 || s.len == 0) {
        return fail(EINVAL, what + ": offset and length must be non-zero multiples of 8");
    }
    const RegisterMap& map = *maps_.at(s.bar);
    if (s.offset + s.len > map.size()) {
        return fail(EINVAL, what + ": beyond the BAR");
    }
    for (uint64_t off = s.offset; off < s.offset + s.len; ++off) {
        const Register* r = map.register_at(off);
        if (r != nullptr && r->has_read_side_effects()) {
            // A shadowed read never reaches the model, so the side
            // effect would silently not happen.
            return fail(EINVAL,
                        fmt::format("{}: register {} has read side effects", what, r->name()));
        }
    }
    return {};
}

Result<void> DeviceModel::realize() {
    const DeviceSpec sp = spec();
    for (unsigned bar = 0; bar < PCIEM_MAX_BARS; ++bar) {
        if (!maps_.at(bar)) {
            continue;
        }
        RegisterMap& map = *maps_.at(bar);
        const auto b = sp.bar_at(bar);
        if (b && b->is_ram()) {
            return fail(EINVAL, fmt::format("{} map: BAR{} is a RAM BAR, whose accesses never "
                                            "reach the model; use ram({}) instead of a map",
                                            map.name(), bar, bar));
        }
        if (!b || b->size() != map.size()) {
            return fail(EINVAL, fmt::format("{} map: declared for BAR{} of {:#x} bytes, but the "
                                            "spec has {}",
                                            map.name(), bar, map.size(),
                                            b ? fmt::format("{:#x} bytes", b->size())
                                              : std::string("no such BAR")));
        }
        if (auto sealed = map.seal(); !sealed) {
            return sealed;
        }
    }
    if (!rom_.empty() && rom_.size() > sp.rom_size()) {
        return fail(EINVAL, fmt::format("ROM image of {} bytes: the spec has {}", rom_.size(),
                                        sp.rom_size() != 0 ? fmt::format("a ROM of {} bytes",
                                                                         sp.rom_size())
                                                           : std::string("no ROM")));
    }
    uint64_t total = 0;
    for (const auto& s : shadows_) {
        if (auto ok = check_shadow(s); !ok) {
            return ok;
        }
        total += s.len;
    }
    if (total > max_shadow_bytes) {
        return fail(EINVAL, fmt::format("shadows total {} bytes; a device may have at most {}",
                                        total, max_shadow_bytes));
    }
    return {};
}

void DeviceModel::shadow_update() {
    for (auto& s : shadows_) {
        if (s.backing.empty()) {
            continue;
        }
        const RegisterMap& map = *maps_.at(s.bar);
        for (uint32_t i = 0; i < s.len; i += 8) {
            // Whole aligned words, stored atomically: the kernel may read
            // any part of one concurrently and must not see a torn value.
            auto* word = reinterpret_cast<uint64_t*>(s.backing.data() + i);
            std::atomic_ref<uint64_t>(*word).store(map.peek(s.offset + i, 8),
                                                   std::memory_order_relaxed);
        }
    }
}

void ModelBinding::release() {
    for (auto& s : model_.shadows()) {
        s.backing = {};
    }
    for (unsigned bar = 0; bar < PCIEM_MAX_BARS; ++bar) {
        model_.bind_ram(bar, {});
    }
    model_.bind_interrupts(nullptr);
    model_.bind_dma(nullptr);
}

} // namespace pciem
