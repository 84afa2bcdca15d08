// SPDX-License-Identifier: MIT
//
// RegisterMap: the registers and memory ranges of one BAR, declared
// rather than decoded, so a device model reads like the register chapter
// of its datasheet:
//
//     RegisterMap& regs = declare_bar(0, "BAR0", 64 * 1024);
//     regs.reg32(0x00, "ID").ro(0x50434945);
//     regs.reg32(0x08, "SCRATCH").rw();
//     regs.reg64(0x10, "DMA_ADDR").rw();          // also reachable as 2 x 32 bits
//     regs.reg32(0x24, "STATUS").w1c();
//     regs.memory(0x1000, 0x1000, "SRAM");
//
// Bus accesses of any width (1, 2, 4, 8) are split at register
// boundaries: a 16-bit read at +2 of a 32-bit register returns its upper
// half, an 8-byte access over two 32-bit registers touches both (each
// once, in address order). Bytes no register or range covers follow the
// map's UnmappedPolicy.
//
// Declaring never fails, so declarations read as a list; seal() reports
// overlaps, misaligned registers and offsets beyond the BAR. Hosts seal
// every map before the first access.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pciem/error.hpp"
#include "pciem/register.hpp"

namespace pciem {

// Plain byte storage inside a BAR (SRAM, mailboxes, descriptor memory):
// any width, any alignment, no side effects.
class MemoryRange {
public:
    MemoryRange(uint64_t offset, uint64_t len, std::string name)
        : offset_(offset), name_(std::move(name)), bytes_(len) {}

    [[nodiscard]] uint64_t offset() const { return offset_; }
    [[nodiscard]] uint64_t end() const { return offset_ + bytes_.size(); }
    [[nodiscard]] const std::string& name() const { return name_; }
    // The model reads and fills the storage directly.
    [[nodiscard]] std::vector<uint8_t>& bytes() { return bytes_; }
    [[nodiscard]] const std::vector<uint8_t>& bytes() const { return bytes_; }

private:
    uint64_t offset_;
    std::string name_;
    std::vector<uint8_t> bytes_;
};

// What an access to bytes nothing declares does. Real devices differ:
// most read 0, some all-ones; writes always vanish.
struct UnmappedPolicy {
    enum class Read : uint8_t { zeros, ones };
    Read read = Read::zeros;
    // Report each unmapped access through the map's log sink: finds
    // driver bugs (and model gaps) early.
    bool log = false;
};

struct RegisterMapStats {
    uint64_t unmapped_reads = 0;
    uint64_t unmapped_writes = 0;
};

class RegisterMap {
public:
    // Sees every write access once, whatever it hits (after the
    // registers' own handling): write counters, tracing.
    using WriteObserver = std::function<void(uint64_t offset, unsigned size, uint64_t value)>;
    // A model's fallback for unmapped bytes. A read returning nullopt
    // leaves the bytes to the UnmappedPolicy.
    using UnmappedRead = std::function<std::optional<uint64_t>(uint64_t offset, unsigned len)>;
    using UnmappedWrite = std::function<void(uint64_t offset, unsigned len, uint64_t value)>;
    using LogSink = std::function<void(std::string_view line)>;

    RegisterMap(std::string name, uint64_t size) : name_(std::move(name)), size_(size) {}
    // Registers hand out references and hooks capture the model: the map
    // stays where it was declared.
    RegisterMap(const RegisterMap&) = delete;
    RegisterMap& operator=(const RegisterMap&) = delete;
    RegisterMap(RegisterMap&&) = delete;
    RegisterMap& operator=(RegisterMap&&) = delete;
    ~RegisterMap() = default;

    // Declarations. The returned references stay valid for the map's life.
    Register& reg(uint64_t offset, unsigned bits, std::string name);
    Register& reg8(uint64_t offset, std::string name) { return reg(offset, 8, std::move(name)); }
    Register& reg16(uint64_t offset, std::string name) { return reg(offset, 16, std::move(name)); }
    Register& reg32(uint64_t offset, std::string name) { return reg(offset, 32, std::move(name)); }
    Register& reg64(uint64_t offset, std::string name) { return reg(offset, 64, std::move(name)); }
    MemoryRange& memory(uint64_t offset, uint64_t len, std::string name);

    RegisterMap& unmapped(UnmappedPolicy policy);
    RegisterMap& observe_writes(WriteObserver observer);
    RegisterMap& fallback(UnmappedRead read, UnmappedWrite write);
    // Where log lines go (stderr by default).
    RegisterMap& log_to(LogSink sink);

    // Checks the declarations and builds the lookup index. Errors name
    // the register: "BAR0 map: STATUS (0x26, 4 bytes) is not aligned to
    // its width". Idempotent; declaring more un-seals the map.
    [[nodiscard]] Result<void> seal();
    [[nodiscard]] bool sealed() const { return sealed_; }

    // Bus accesses, size 1, 2, 4 or 8 (the host guarantees it, and that
    // offset + size lies within the BAR). nullopt: no answer.
    [[nodiscard]] std::optional<uint64_t> read(uint64_t offset, unsigned size);
    void write(uint64_t offset, unsigned size, uint64_t value);
    // The bytes as they are, with no side effects and no hooks: what a
    // shadow shows. Getters run (they must be pure).
    [[nodiscard]] uint64_t peek(uint64_t offset, unsigned size) const;

    // Lookup, e.g. for tests and tracing. nullptr when absent.
    [[nodiscard]] Register* find(std::string_view name);
    [[nodiscard]] const Register* register_at(uint64_t offset) const;

    [[nodiscard]] const std::string& name() const { return name_; }
    [[nodiscard]] uint64_t size() const { return size_; }
    [[nodiscard]] const RegisterMapStats& stats() const { return stats_; }

private:
    // One declared item in the sorted index: exactly one of reg/mem.
    struct Entry {
        uint64_t start;
        uint64_t end;
        Register* reg;
        MemoryRange* mem;
    };

    [[nodiscard]] const Entry* entry_at(uint64_t offset) const;
    [[nodiscard]] uint64_t next_start(uint64_t offset) const;
    [[nodiscard]] unsigned segment_len(uint64_t pos, unsigned left) const;
    [[nodiscard]] std::optional<uint64_t> read_segment(uint64_t offset, unsigned len);
    void write_segment(uint64_t offset, unsigned len, uint64_t value);
    [[nodiscard]] uint64_t peek_segment(uint64_t offset, unsigned len) const;
    [[nodiscard]] uint64_t unmapped_value(unsigned len) const;
    void log_unmapped(const char* what, uint64_t offset, unsigned len);
    void build_index();

    std::string name_;
    uint64_t size_;
    // deque: references handed out stay valid as more are declared.
    std::deque<Register> regs_;
    std::deque<MemoryRange> mems_;
    std::vector<Entry> index_;
    bool sealed_ = false;
    std::vector<std::string> declaration_errors_;
    UnmappedPolicy policy_;
    RegisterMapStats stats_;
    WriteObserver observer_;
    UnmappedRead fallback_read_;
    UnmappedWrite fallback_write_;
    LogSink log_;
};

} // namespace pciem
