// SPDX-License-Identifier: MIT
#include "pciem/register.hpp"

namespace pciem {

namespace {

// Bits covered by bytes [byte, byte + len) of a register.
uint64_t byte_mask(unsigned byte, unsigned len) {
    const uint64_t low = len >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * len)) - 1;
    return low << (8 * byte);
}

} // namespace

Register& Register::ro(uint64_t constant) {
    access_ = Access::read_only;
    getter_ = nullptr;
    set(constant);
    return *this;
}

Register& Register::ro(Getter getter) {
    access_ = Access::read_only;
    getter_ = std::move(getter);
    return *this;
}

Register& Register::rw(uint64_t reset) {
    access_ = Access::read_write;
    set(reset);
    return *this;
}

Register& Register::w1c(uint64_t reset) {
    access_ = Access::write_1_to_clear;
    set(reset);
    return *this;
}

Register& Register::rc(uint64_t reset) {
    access_ = Access::read_to_clear;
    set(reset);
    return *this;
}

Register& Register::wo() {
    access_ = Access::write_only;
    set(0);
    return *this;
}

Register& Register::on_read(ReadHook hook) {
    read_hook_ = std::move(hook);
    return *this;
}

Register& Register::on_write(WriteHook hook) {
    write_hook_ = std::move(hook);
    return *this;
}

uint64_t Register::value() const {
    if (access_ == Access::write_only) {
        return 0;
    }
    if (getter_) {
        return getter_() & mask();
    }
    return value_;
}

std::optional<uint64_t> Register::bus_read(unsigned byte, unsigned len) {
    uint64_t v = value();
    if (read_hook_) {
        const auto answer = read_hook_(v);
        if (!answer) {
            // No answer, no side effect: the read did not complete.
            return std::nullopt;
        }
        v = *answer & mask();
    }
    if (access_ == Access::read_to_clear) {
        // Only the bytes the driver saw are consumed; a narrower read
        // must not lose events it could not observe.
        clear_bits(byte_mask(byte, len));
    }
    return v;
}

void Register::bus_write(unsigned byte, unsigned len, uint64_t bytes) {
    const uint64_t m = byte_mask(byte, len) & mask();
    const uint64_t bits = bytes & m;
    const uint64_t old = value_;
    switch (access_) {
    case Access::read_only:
    case Access::read_to_clear:
        return; // writes to read-only registers are dropped, as on hardware
    case Access::read_write:
        set((old & ~m) | bits);
        break;
    case Access::write_1_to_clear:
        set(old & ~bits);
        break;
    case Access::write_only:
        // Nothing to merge with: the write acts with the bytes it carries.
        set(bits);
        break;
    }
    if (write_hook_) {
        write_hook_(old, value_);
    }
}

} // namespace pciem
