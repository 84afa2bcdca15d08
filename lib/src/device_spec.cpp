// SPDX-License-Identifier: MIT
#include "pciem/device_spec.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

#include <fmt/format.h>

namespace pciem {

std::string_view capability_name(uint16_t abi_type) {
    switch (abi_type) {
    case PCIEM_CAP_PM:
        return "pm";
    case PCIEM_CAP_MSI:
        return "msi";
    case PCIEM_CAP_MSIX:
        return "msix";
    case PCIEM_CAP_PCIE:
        return "pcie";
    case PCIEM_CAP_VENDOR:
        return "vendor";
    case PCIEM_CAP_RAW:
        return "raw";
    case PCIEM_CAP_EXT_DSN:
        return "dsn";
    case PCIEM_CAP_EXT_AER:
        return "aer";
    case PCIEM_CAP_EXT_RAW:
        return "ext_raw";
    default:
        return "unknown";
    }
}

std::vector<pciem_cfg_cap_in> AbiRequest::cfg_caps() const {
    std::vector<pciem_cfg_cap_in> out;
    out.reserve(records_.size());
    for (size_t i = 0; i < records_.size(); ++i) {
        const auto& body = bodies_[i];
        out.push_back(pciem_cfg_cap_in{&records_[i], body.empty() ? nullptr : body.data()});
    }
    return out;
}

DeviceSpec& DeviceSpec::ids(uint16_t vendor, uint16_t device) {
    vendor_id_ = vendor;
    device_id_ = device;
    return *this;
}

DeviceSpec& DeviceSpec::subsystem(uint16_t vendor, uint16_t id) {
    subsys_vendor_id_ = vendor;
    subsys_id_ = id;
    return *this;
}

DeviceSpec& DeviceSpec::class_code(uint32_t code) {
    class_code_ = code;
    return *this;
}

DeviceSpec& DeviceSpec::revision(uint8_t rev) {
    revision_ = rev;
    return *this;
}

DeviceSpec& DeviceSpec::multi_function(bool on) {
    multi_function_ = on;
    return *this;
}

DeviceSpec& DeviceSpec::interrupt_pin(InterruptPin pin) {
    pin_ = pin;
    return *this;
}

DeviceSpec& DeviceSpec::devfn(unsigned slot, unsigned function) {
    devfn_ = std::pair{slot, function};
    return *this;
}

DeviceSpec& DeviceSpec::bar(unsigned index, Bar bar) {
    bars_.emplace_back(index, bar);
    return *this;
}

DeviceSpec& DeviceSpec::rom(uint64_t size) {
    rom_size_ = size;
    return *this;
}

DeviceSpec& DeviceSpec::label(std::string text) {
    label_ = std::move(text);
    return *this;
}

DeviceSpec& DeviceSpec::origin(std::string text) {
    origin_ = std::move(text);
    return *this;
}

std::optional<Bar> DeviceSpec::bar_at(unsigned index) const {
    // The last call wins, as it does in build(); validate() refuses
    // duplicates anyway.
    std::optional<Bar> found;
    for (const auto& [i, b] : bars_) {
        if (i == index) {
            found = b;
        }
    }
    return found;
}

DeviceSpec& DeviceSpec::add_capability(uint16_t type, uint16_t offset, pciem_cap record,
                                       std::vector<uint8_t> body) {
    record.size = sizeof(pciem_cap);
    record.type = type;
    record.offset = offset;
    caps_.push_back(Capability{record, std::move(body)});
    return *this;
}

DeviceSpec& DeviceSpec::capability(const pciem_cap& record, std::vector<uint8_t> body) {
    pciem_cap rec = record;
    // The body's pointer and length are build()'s; the union holds
    // other types' parameters in the same bytes.
    if (rec.type == PCIEM_CAP_VENDOR || rec.type == PCIEM_CAP_RAW ||
        rec.type == PCIEM_CAP_EXT_RAW) {
        rec.body.data_ptr = 0;
        rec.body.len = 0;
    }
    return add_capability(rec.type, rec.offset, rec, std::move(body));
}

DeviceSpec& DeviceSpec::pm(uint32_t flags, uint16_t offset) {
    pciem_cap rec{};
    rec.pm.flags = flags;
    return add_capability(PCIEM_CAP_PM, offset, rec);
}

DeviceSpec& DeviceSpec::msi(uint32_t vectors, bool is64, bool maskable, uint16_t offset) {
    pciem_cap rec{};
    rec.msi.vectors = vectors;
    rec.msi.flags = (is64 ? PCIEM_MSI_64BIT : 0u) | (maskable ? PCIEM_MSI_MASKABLE : 0u);
    return add_capability(PCIEM_CAP_MSI, offset, rec);
}

DeviceSpec& DeviceSpec::msix(uint32_t vectors, uint32_t table_bar, uint32_t table_offset,
                             uint32_t pba_bar, uint32_t pba_offset, uint16_t offset) {
    pciem_cap rec{};
    rec.msix.vectors = vectors;
    rec.msix.table_bar = table_bar;
    rec.msix.table_offset = table_offset;
    rec.msix.pba_bar = pba_bar;
    rec.msix.pba_offset = pba_offset;
    return add_capability(PCIEM_CAP_MSIX, offset, rec);
}

DeviceSpec& DeviceSpec::pcie(uint8_t port_type, uint8_t max_payload, uint8_t link_speed,
                             uint8_t link_width, uint32_t flags, uint16_t offset) {
    pciem_cap rec{};
    rec.pcie.port_type = port_type;
    rec.pcie.max_payload = max_payload;
    rec.pcie.link_speed = link_speed;
    rec.pcie.link_width = link_width;
    rec.pcie.flags = flags;
    return add_capability(PCIEM_CAP_PCIE, offset, rec);
}

DeviceSpec& DeviceSpec::vendor(std::vector<uint8_t> bytes, uint16_t offset) {
    return add_capability(PCIEM_CAP_VENDOR, offset, pciem_cap{}, std::move(bytes));
}

DeviceSpec& DeviceSpec::raw(uint8_t id, std::vector<uint8_t> bytes, uint16_t offset) {
    pciem_cap rec{};
    rec.body.id = id;
    return add_capability(PCIEM_CAP_RAW, offset, rec, std::move(bytes));
}

DeviceSpec& DeviceSpec::dsn(uint64_t serial, uint16_t offset) {
    pciem_cap rec{};
    rec.dsn.serial = serial;
    return add_capability(PCIEM_CAP_EXT_DSN, offset, rec);
}

DeviceSpec& DeviceSpec::aer(uint16_t offset) {
    return add_capability(PCIEM_CAP_EXT_AER, offset, pciem_cap{});
}

DeviceSpec& DeviceSpec::ext_raw(uint16_t id, uint8_t version, std::vector<uint8_t> bytes,
                                uint16_t offset) {
    pciem_cap rec{};
    rec.body.id = id;
    rec.body.version = version;
    return add_capability(PCIEM_CAP_EXT_RAW, offset, rec, std::move(bytes));
}

DeviceSpec& DeviceSpec::rciep_with_aer() {
    bool pcie = false, aer_cap = false;
    for (auto& c : caps_) {
        if (c.record.type == PCIEM_CAP_PCIE) {
            c.record.pcie.port_type = PCIEM_PCIE_RC_ENDPOINT;
            c.record.pcie.flags |= PCIEM_PCIE_FLR;
            pcie = true;
        }
        aer_cap = aer_cap || c.record.type == PCIEM_CAP_EXT_AER;
    }
    if (!pcie) {
        this->pcie(PCIEM_PCIE_RC_ENDPOINT, 0, 1, 1, PCIEM_PCIE_FLR);
    }
    return aer_cap ? *this : aer();
}

Result<void> DeviceSpec::validate() const {
    // Only what struct pciem_create cannot carry is checked here.
    if (label_.size() >= PCIEM_LABEL_LEN || !std::all_of(label_.begin(), label_.end(), [](char ch) {
            return ch >= 0x20 && ch <= 0x7e;
        })) {
        return fail(EINVAL, fmt::format("the label '{}' must be printable ASCII of at most {} "
                                        "characters",
                                        label_, PCIEM_LABEL_LEN - 1));
    }
    if (bars_.size() > PCIEM_MAX_BARS) {
        return fail(EINVAL, fmt::format("{} BARs given: a function has at most {} (BAR 0..5)",
                                        bars_.size(), PCIEM_MAX_BARS));
    }
    bool seen[PCIEM_MAX_BARS] = {};
    for (const auto& [index, b] : bars_) {
        if (index >= PCIEM_MAX_BARS) {
            return fail(EINVAL, fmt::format("BAR index {} is out of range: a function has "
                                            "at most {} BARs, numbered 0..5",
                                            index, PCIEM_MAX_BARS));
        }
        if (seen[index]) {
            return fail(EINVAL, fmt::format("BAR {} is given twice: give each index once", index));
        }
        seen[index] = true;
    }
    if (devfn_) {
        const auto [slot, function] = *devfn_;
        if (slot > 31) {
            return fail(EINVAL, fmt::format("slot {} is out of range: slots are 0..31", slot));
        }
        if (function > 7) {
            return fail(EINVAL,
                        fmt::format("function {} is out of range: functions are 0..7", function));
        }
    }
    for (size_t i = 0; i < caps_.size(); ++i) {
        if (caps_[i].body.size() > std::numeric_limits<uint16_t>::max()) {
            return fail(EINVAL,
                        fmt::format("capability {} ({}): body of {} bytes is longer than the "
                                    "65535 the ABI can carry",
                                    i, capability_name(caps_[i].type()), caps_[i].body.size()));
        }
    }
    return {};
}

Result<AbiRequest> DeviceSpec::build() const {
    if (auto ok = validate(); !ok) {
        return std::unexpected(ok.error());
    }
    AbiRequest req;
    pciem_create& c = req.create_;
    // create_ is value-initialised ({}), which zeroes every byte including
    // the padding after devfn, so no stack garbage reaches the kernel.
    c.size = sizeof(pciem_create);
    c.abi_version = PCIEM_ABI_VERSION;
    c.vendor_id = vendor_id_;
    c.device_id = device_id_;
    c.subsys_vendor_id = subsys_vendor_id_;
    c.subsys_id = subsys_id_;
    c.class_code = class_code_;
    c.revision = revision_;
    c.header_type = multi_function_ ? 0x80 : 0x00;
    c.interrupt_pin = static_cast<uint8_t>(pin_);
    if (devfn_) {
        c.flags |= PCIEM_CREATE_F_DEVFN;
        c.devfn = static_cast<uint8_t>((devfn_->first << 3) | devfn_->second);
    }
    // validate() checked it fits with its NUL; the rest stays zero.
    std::memcpy(c.label, label_.data(), label_.size());
    for (const auto& [index, b] : bars_) {
        c.bars[index].size = b.size();
        c.bars[index].flags = b.abi_flags();
    }
    c.rom.size = rom_size_;

    req.records_.reserve(caps_.size());
    req.bodies_.reserve(caps_.size());
    for (const auto& cap : caps_) {
        req.records_.push_back(cap.record);
        req.bodies_.push_back(cap.body);
    }
    // Pointers are taken only now that both vectors are complete: from
    // here on nothing reallocates, and moving `req` keeps the buffers.
    for (size_t i = 0; i < req.records_.size(); ++i) {
        auto& body = req.bodies_[i];
        if (!body.empty()) {
            req.records_[i].body.data_ptr = reinterpret_cast<uintptr_t>(body.data());
            req.records_[i].body.len = static_cast<uint16_t>(body.size());
        }
    }
    if (!req.records_.empty()) {
        c.caps_ptr = reinterpret_cast<uintptr_t>(req.records_.data());
        c.caps_len = static_cast<uint32_t>(req.records_.size() * sizeof(pciem_cap));
    }
    return req;
}

} // namespace pciem
