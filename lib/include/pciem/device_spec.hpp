// SPDX-License-Identifier: MIT
//
// DeviceSpec: a fluent description of one PCI function, turned into the
// exact PCIEM_IOC_CREATE argument by build().
//
//     auto spec = pciem::DeviceSpec{}
//                     .ids(0x1af4, 0x1000)
//                     .class_code(0x020000)
//                     .bar(0, pciem::Bar::mem64(16 * 1024).prefetchable())
//                     .msix(8, 0, 0x1000, 0, 0x1800)
//                     .pcie();
//
// Setters never fail, so they can be chained; what the ABI cannot express
// (a BAR index past 5, a slot past 31, ...) is reported by validate() and
// build(). Everything the ABI *can* express is left to the kernel's
// validator (or pciem_cfg_build() offline) so there is one set of rules.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <linux/pciem.h>
#include <pciem_cfg.h>

#include "pciem/error.hpp"

namespace pciem {

// A memory BAR. I/O BARs do not exist in PCIem (port I/O cannot be
// trapped the way MMIO is).
class Bar {
public:
    static Bar mem32(uint64_t size) { return Bar{size, 0}; }
    // Occupies two BAR slots: index and index + 1 (which must stay empty).
    static Bar mem64(uint64_t size) { return Bar{size, PCIEM_BAR_MEM64}; }

    [[nodiscard]] Bar prefetchable(bool on = true) const {
        return Bar{size_, on ? (flags_ | PCIEM_BAR_PREFETCH) : (flags_ & ~PCIEM_BAR_PREFETCH)};
    }

    // Plain memory shared with the model (PCIEM_BAR_RAM): driver accesses
    // are not trapped and cost nothing; the model reads the same bytes
    // through DeviceModel::ram(). 4 KiB .. 256 MiB.
    [[nodiscard]] Bar ram(bool on = true) const {
        return Bar{size_, on ? (flags_ | PCIEM_BAR_RAM) : (flags_ & ~PCIEM_BAR_RAM)};
    }

    [[nodiscard]] uint64_t size() const { return size_; }
    [[nodiscard]] bool is_ram() const { return (flags_ & PCIEM_BAR_RAM) != 0; }
    [[nodiscard]] bool is_64bit() const { return (flags_ & PCIEM_BAR_MEM64) != 0; }
    [[nodiscard]] bool is_prefetchable() const { return (flags_ & PCIEM_BAR_PREFETCH) != 0; }
    // PCIEM_BAR_* bits for struct pciem_bar.flags.
    [[nodiscard]] uint32_t abi_flags() const { return flags_; }

private:
    Bar(uint64_t size, uint32_t flags) : size_(size), flags_(flags) {}
    uint64_t size_;
    uint32_t flags_;
};

enum class InterruptPin : uint8_t { none = 0, a = 1, b = 2, c = 3, d = 4 };

// "pm", "msi", ... for a PCIEM_CAP_* value ("unknown" otherwise). These
// are also the `type` strings of spec files.
std::string_view capability_name(uint16_t abi_type);

// One capability as a spec holds it: the ABI record (body.data_ptr still
// 0: it is set when the request is built) and the body bytes of VENDOR,
// RAW and EXT_RAW capabilities.
struct Capability {
    pciem_cap record{};
    std::vector<uint8_t> body;

    [[nodiscard]] uint16_t type() const { return record.type; }
};

// The PCIEM_IOC_CREATE argument plus the storage its pointers point into.
// Move-only: moving keeps every pointer valid (vector buffers move with
// it), a copy would leave caps_ptr pointing into the original.
class AbiRequest {
public:
    AbiRequest() = default;
    AbiRequest(const AbiRequest&) = delete;
    AbiRequest& operator=(const AbiRequest&) = delete;
    AbiRequest(AbiRequest&&) noexcept = default;
    AbiRequest& operator=(AbiRequest&&) noexcept = default;
    ~AbiRequest() = default;

    // Mutable because the kernel writes `error` back into it.
    [[nodiscard]] pciem_create& create() { return create_; }
    [[nodiscard]] const pciem_create& create() const { return create_; }
    [[nodiscard]] const std::vector<pciem_cap>& records() const { return records_; }
    // The records as pciem_cfg_build() takes them, bodies attached.
    [[nodiscard]] std::vector<pciem_cfg_cap_in> cfg_caps() const;

private:
    friend class DeviceSpec;
    pciem_create create_{};
    std::vector<pciem_cap> records_;
    std::vector<std::vector<uint8_t>> bodies_;
};

class DeviceSpec {
public:
    // Identity (Type 0 header).
    DeviceSpec& ids(uint16_t vendor, uint16_t device);
    DeviceSpec& subsystem(uint16_t vendor, uint16_t id);
    // base << 16 | sub << 8 | prog-if, e.g. 0x010802 for NVMe.
    DeviceSpec& class_code(uint32_t code);
    DeviceSpec& revision(uint8_t rev);
    // Sets bit 7 of Header Type. Function 0 of a slot with more functions
    // must have it, or Linux never scans functions 1..7.
    DeviceSpec& multi_function(bool on = true);
    DeviceSpec& interrupt_pin(InterruptPin pin);
    // Place at a fixed slot/function instead of the first free slot.
    DeviceSpec& devfn(unsigned slot, unsigned function = 0);

    DeviceSpec& bar(unsigned index, Bar bar);
    // An expansion ROM of `size` bytes (a power of two, 2 KiB .. 16 MiB):
    // the PCI core gives it an address below 4 GiB, and its reads reach
    // the model as reads of BAR PCIEM_ROM_BAR (6) while software has it
    // enabled; writes are dropped. DeviceModel::declare_rom() answers
    // them from an image. 0 (the default): none.
    DeviceSpec& rom(uint64_t size);

    // Capabilities. `offset` 0 lets the kernel place the capability;
    // otherwise it is the config-space offset to use. Standard
    // capabilities live in 40h..FFh, extended ones from 100h.
    DeviceSpec& pm(uint32_t flags = 0, uint16_t offset = 0);
    DeviceSpec& msi(uint32_t vectors, bool is64 = true, bool maskable = false, uint16_t offset = 0);
    DeviceSpec& msix(uint32_t vectors, uint32_t table_bar, uint32_t table_offset, uint32_t pba_bar,
                     uint32_t pba_offset, uint16_t offset = 0);
    // max_payload is the ABI encoding (128 << n bytes), link_speed 1..5 is
    // 2.5..32 GT/s, link_width in lanes. flags are PCIEM_PCIE_*.
    DeviceSpec& pcie(uint8_t port_type = PCIEM_PCIE_ENDPOINT, uint8_t max_payload = 0,
                     uint8_t link_speed = 1, uint8_t link_width = 1, uint32_t flags = 0,
                     uint16_t offset = 0);
    // Vendor-specific capability (ID 09h); bytes follow the length byte.
    DeviceSpec& vendor(std::vector<uint8_t> bytes, uint16_t offset = 0);
    // Any standard capability ID with a read-only body after ID and next.
    DeviceSpec& raw(uint8_t id, std::vector<uint8_t> bytes, uint16_t offset = 0);
    DeviceSpec& dsn(uint64_t serial, uint16_t offset = 0);
    DeviceSpec& aer(uint16_t offset = 0);
    // Any extended capability ID/version, read-only body after the header.
    DeviceSpec& ext_raw(uint16_t id, uint8_t version, std::vector<uint8_t> bytes,
                        uint16_t offset = 0);

    // Any capability as its ABI record describes it (type, offset, flags,
    // parameters), with the body of a VENDOR, RAW or EXT_RAW one: what a
    // recording keeps of a function (recording.hpp). body.data_ptr and
    // body.len are set by build().
    DeviceSpec& capability(const pciem_cap& record, std::vector<uint8_t> body = {});

    // Present the function as a Root Complex Integrated Endpoint that can
    // report AER errors and take a Function Level Reset: its PCIe
    // capability (added if missing) becomes an RCiEP with FLR, and an AER
    // capability is added if missing. What a device on a root bus is;
    // injected AER errors (docs/faults.md) need it.
    DeviceSpec& rciep_with_aer();

    // Free text that listings (pciemctl list) show beside the function,
    // e.g. what serves it; printable ASCII, at most PCIEM_LABEL_LEN - 1
    // bytes (validate() says so otherwise).
    DeviceSpec& label(std::string text);

    // Where this spec came from ("examples/nic.json", "devices[1]"), used
    // in messages only.
    DeviceSpec& origin(std::string text);

    // Checks what the ABI cannot express. The kernel checks the rest.
    [[nodiscard]] Result<void> validate() const;
    [[nodiscard]] Result<AbiRequest> build() const;

    // Read access, for messages and tools.
    [[nodiscard]] uint16_t vendor_id() const { return vendor_id_; }
    [[nodiscard]] uint16_t device_id() const { return device_id_; }
    [[nodiscard]] const std::string& origin() const { return origin_; }
    // The BAR given for index (if any).
    [[nodiscard]] std::optional<Bar> bar_at(unsigned index) const;
    [[nodiscard]] uint64_t rom_size() const { return rom_size_; }
    [[nodiscard]] const std::vector<Capability>& capabilities() const { return caps_; }

private:
    DeviceSpec& add_capability(uint16_t type, uint16_t offset, pciem_cap record,
                               std::vector<uint8_t> body = {});

    uint16_t vendor_id_ = 0;
    uint16_t device_id_ = 0;
    uint16_t subsys_vendor_id_ = 0;
    uint16_t subsys_id_ = 0;
    uint32_t class_code_ = 0;
    uint8_t revision_ = 0;
    bool multi_function_ = false;
    InterruptPin pin_ = InterruptPin::none;
    std::optional<std::pair<unsigned, unsigned>> devfn_;
    // In call order, unvalidated: indexes are checked by validate().
    std::vector<std::pair<unsigned, Bar>> bars_;
    uint64_t rom_size_ = 0;
    std::vector<Capability> caps_;
    std::string origin_;
    std::string label_;
};

} // namespace pciem
