// SPDX-License-Identifier: MIT
//
// One declared register of a BAR: offset, width, name and what reads and
// writes do to it, the way a datasheet's register table states them.
//
//     regs.reg32(0x24, "STATUS").w1c();
//     regs.reg32(0x18, "COUNTER").ro().on_read([this](uint64_t) { return count_++; });
//
// A register is created by RegisterMap::reg*() and lives as long as its
// map; references to it stay valid, so a model may keep one to update
// the value from device-side events (set(), set_bits()).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace pciem {

// What a bus access does, per the usual datasheet abbreviations.
enum class Access : uint8_t {
    read_only,        // RO: reads the value (constant or getter), writes ignored
    read_write,       // RW: reads what was last written (or set)
    write_1_to_clear, // RW1C: writing 1 clears the bit; the device sets bits
    read_to_clear,    // RC: a read returns the value and clears the bytes read
    write_only,       // WO: reads return 0; each write acts through on_write
};

// Called after the access semantics produced `value`. Returns the answer,
// or std::nullopt for "the device does not answer" (the host completes
// the read as a timeout: all-ones). Side effects of reads live here.
using ReadHook = std::function<std::optional<uint64_t>(uint64_t value)>;
// Called after a write was applied: the value before and after. For
// write-only registers `new_value` holds the bytes written (others 0).
using WriteHook = std::function<void(uint64_t old_value, uint64_t new_value)>;
// Computes a read-only value. Must be free of side effects: hosts also
// call it to fill shadows (use on_read for reads that change state).
using Getter = std::function<uint64_t()>;

class Register {
public:
    Register(uint64_t offset, unsigned width_bytes, std::string name)
        : offset_(offset), width_(width_bytes), name_(std::move(name)) {}

    // Access semantics; the argument is the reset value.
    Register& ro(uint64_t constant = 0);
    Register& ro(Getter getter);
    Register& rw(uint64_t reset = 0);
    Register& w1c(uint64_t reset = 0);
    Register& rc(uint64_t reset = 0);
    Register& wo();

    Register& on_read(ReadHook hook);
    Register& on_write(WriteHook hook);

    // Device-side updates: bypass the access semantics (the device, not
    // the driver, sets status bits).
    void set(uint64_t value) { value_ = value & mask(); }
    void set_bits(uint64_t bits) { set(value_ | bits); }
    void clear_bits(uint64_t bits) { set(value_ & ~bits); }
    // The value as the device holds it, with no read side effects.
    [[nodiscard]] uint64_t value() const;

    [[nodiscard]] uint64_t offset() const { return offset_; }
    [[nodiscard]] unsigned width() const { return width_; } // bytes: 1, 2, 4, 8
    [[nodiscard]] uint64_t end() const { return offset_ + width_; }
    [[nodiscard]] const std::string& name() const { return name_; }
    [[nodiscard]] Access access() const { return access_; }
    // Reads change state (read-to-clear or a read hook): such a register
    // cannot be shadowed.
    [[nodiscard]] bool has_read_side_effects() const {
        return access_ == Access::read_to_clear || static_cast<bool>(read_hook_);
    }

    // Bus accesses of bytes [byte, byte + len) of this register (the map
    // has split the access already). Values are register-aligned: the
    // caller extracts/positions the bytes.
    [[nodiscard]] std::optional<uint64_t> bus_read(unsigned byte, unsigned len);
    void bus_write(unsigned byte, unsigned len, uint64_t bytes);

private:
    [[nodiscard]] uint64_t mask() const {
        return width_ == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * width_)) - 1;
    }

    uint64_t offset_;
    unsigned width_;
    std::string name_;
    Access access_ = Access::read_only;
    uint64_t value_ = 0;
    Getter getter_;
    ReadHook read_hook_;
    WriteHook write_hook_;
};

} // namespace pciem
