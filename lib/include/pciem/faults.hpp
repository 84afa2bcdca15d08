// SPDX-License-Identifier: MIT
//
// Faults on demand (PCIEM_IOC_INJECT): what each fault is, and the request
// that makes a function misbehave. pciem.ko injects them for any function
// and any model; Control::inject() sends a request, `pciemctl inject` is
// the command line over it, and tests use both. See docs/faults.md.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <linux/pciem.h>

#include "pciem/error.hpp"

namespace pciem {

// What a fault is, for --help, `pciemctl inject --list` and parsing.
struct FaultInfo {
    uint16_t fault;               // enum pciem_fault
    std::string_view name;        // "mmio-all-ones", ...
    bool rule;                    // stays until cleared or spent; else a one-off action
    std::string_view param;       // what --param means, empty if nothing
    std::string_view what;        // what happens, and what a driver sees
};

// Every fault PCIem can inject, in enum order.
std::span<const FaultInfo> fault_catalog();
const FaultInfo* find_fault(std::string_view name);
const FaultInfo* find_fault(uint16_t fault);

// A region of a BAR (MMIO rules) or of bus addresses (DMA rules).
struct FaultRegion {
    uint32_t bar = 0;  // MMIO only
    uint64_t offset = 0;
    uint64_t len = 0;
};

// A region as people write it: BAR:OFFSET+LEN when `mmio` (0:0x1000+4),
// BUS_ADDRESS+LEN otherwise (0x100000+4096); numbers as in spec files
// (parse_spec_number). On a mistake, the sentence saying what form is
// expected.
Result<FaultRegion> parse_fault_region(std::string_view text, bool mmio);

// One PCIEM_IOC_INJECT. Triggers apply to rules: the first `after`
// matching events pass, then every `every`-th fires with `probability`
// (0..1; 0 means always), at most `count` times (0: no limit).
struct FaultRequest {
    uint16_t fault = 0;
    uint32_t count = 0;
    uint32_t after = 0;
    uint32_t every = 0;
    double probability = 0;
    std::optional<FaultRegion> region;
    std::optional<uint32_t> vector;
    uint64_t param = 0;

    // The ABI structure for a function at (domain, bus, devfn); the
    // request is checked here first so mistakes get a sentence, not EINVAL.
    [[nodiscard]] Result<pciem_inject> build(uint32_t domain, uint8_t bus, uint8_t devfn) const;
};

} // namespace pciem
