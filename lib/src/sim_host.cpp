// SPDX-License-Identifier: MIT
#include "pciem/sim_host.hpp"

#include <cstring>

#include "pciem/dispatch.hpp"

namespace pciem {

namespace {

uint64_t all_ones(unsigned size) {
    return size >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * size)) - 1;
}

constexpr uint16_t cfg_command = 0x04;
constexpr uint16_t cfg_bar0 = 0x10;
constexpr uint32_t command_memory = 1u << 1;

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
}

SimHost::~SimHost() {
    model_.on_stop();
    // The backing dies with us; the model must not write to it after.
    for (auto& s : model_.shadows()) {
        s.backing = {};
    }
}

uint32_t SimHost::cfg_read(uint16_t offset, unsigned size) {
    if (pciem_cfg_claimed(cfg_.get(), offset, size)) {
        return model_.on_config_read(offset, size);
    }
    return pciem_cfg_read(cfg_.get(), offset, size);
}

void SimHost::cfg_write(uint16_t offset, unsigned size, uint32_t value) {
    if (pciem_cfg_claimed(cfg_.get(), offset, size)) {
        model_.on_config_write(offset, size, value);
        return;
    }
    pciem_cfg_write(cfg_.get(), offset, size, value);
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
    if (!in_bar(bar, offset, size)) {
        ++stats_.master_aborts;
        return std::nullopt;
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

void SimHost::write(unsigned bar, uint64_t offset, unsigned size, uint64_t value) {
    if (!in_bar(bar, offset, size)) {
        ++stats_.master_aborts;
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
    if (bar >= PCIEM_MAX_BARS || cfg_->bar_size[bar] == 0) {
        return 0;
    }
    const auto off = static_cast<uint16_t>(cfg_bar0 + 4 * bar);
    uint64_t addr = pciem_cfg_read(cfg_.get(), off, 4) & ~uint64_t{0xf};
    if ((cfg_->bar_flags[bar] & PCIEM_BAR_MEM64) != 0) {
        addr |= uint64_t{pciem_cfg_read(cfg_.get(), static_cast<uint16_t>(off + 4), 4)} << 32;
    }
    return addr;
}

std::optional<std::pair<unsigned, uint64_t>> SimHost::decode(uint64_t address,
                                                             unsigned size) const {
    if ((pciem_cfg_read(cfg_.get(), cfg_command, 2) & command_memory) == 0) {
        return std::nullopt;
    }
    for (unsigned bar = 0; bar < PCIEM_MAX_BARS; ++bar) {
        const uint64_t base = bar_address(bar);
        const uint64_t len = cfg_->bar_size[bar];
        // Address 0 is "not assigned yet", as firmware leaves it.
        if (len != 0 && base != 0 && address >= base && address - base <= len - size) {
            return std::pair{bar, address - base};
        }
    }
    return std::nullopt;
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
