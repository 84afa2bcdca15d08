// SPDX-License-Identifier: MIT
//
// A twin script: one sequence of driver-side operations on the test
// device (config cycles, 32-bit BAR0 registers, one DMA page), played
// once against the model on the SimHost and once against the same model
// behind pciem.ko in the guest, so that the two transcripts can be
// compared line by line (issue 18: the SimHost is faithful to the kernel
// because both run the same rules, and this shows it, access by access).
//
//     # comment
//     cfg_read OFF SIZE           config read of SIZE (1, 2, 4) bytes
//     cfg_write OFF SIZE VALUE
//     read OFF [lo|hi]            BAR0 register, 32 bits; lo / hi print the
//                                 value relative to the DMA page's bus
//                                 address (which differs between hosts)
//     write OFF VALUE             VALUE: a number, BUF.lo[+N] or BUF.hi
//     dma_map to|from|bidi        one page of 0xa5 bytes, dma_map_single()
//     dma_unmap
//     dma_word                    the page's first 32-bit word
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pciem/error.hpp"

namespace pciem::twin {

enum class Op : uint8_t { cfg_read, cfg_write, read, write, dma_map, dma_unmap, dma_word };

// A value written: a number, or derived from the DMA page's bus address.
struct Value {
    enum class Kind : uint8_t { number, buf_lo, buf_hi } kind = Kind::number;
    uint64_t number = 0; // the number, or the offset added to BUF.lo
};

struct Step {
    unsigned line = 0; // in the script, for messages
    Op op = Op::cfg_read;
    uint32_t offset = 0;
    unsigned size = 4;
    Value value;
    enum class Addr : uint8_t { none, lo, hi } addr = Addr::none; // read: shown as
    std::string dir;    // dma_map: to, from or bidi
    std::string text;   // the line as written, trimmed
};

Result<std::vector<Step>> parse_script(std::string_view text, const std::string& origin);

// The 32-bit number a Value stands for, given the page's bus address.
uint32_t resolve(const Value& v, uint64_t buf);

// A register value as the transcript shows it: hex, or for a read marked
// lo "BUF.lo+0x10" (within a page either side), for one marked hi "BUF.hi".
std::string show_value(uint32_t v, Step::Addr addr, std::optional<uint64_t> buf);

// What a host does for the steps; each returns the transcript's result.
class Driver {
public:
    virtual ~Driver() = default;
    virtual Result<uint32_t> cfg_read(uint32_t offset, unsigned size) = 0;
    virtual Result<void> cfg_write(uint32_t offset, unsigned size, uint32_t value) = 0;
    virtual Result<uint32_t> read(uint32_t offset) = 0;
    virtual Result<void> write(uint32_t offset, uint32_t value) = 0;
    virtual Result<uint64_t> dma_map(const std::string& dir) = 0; // bus address
    virtual Result<void> dma_unmap() = 0;
    virtual Result<uint32_t> dma_word() = 0;
};

// Plays the steps; one transcript line per step: "LINE: TEXT = RESULT".
std::vector<std::string> play(const std::vector<Step>& steps, Driver& driver);

} // namespace pciem::twin
