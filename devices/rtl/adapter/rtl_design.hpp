// SPDX-License-Identifier: MIT
//
// RtlDesign: what the PCIem RTL adapter needs of a simulated design, one
// clock edge at a time, as plain values. Every design that exposes the
// PCIem RTL interface (docs/rtl.md: clk, rst_n, an AXI4-Lite slave for its
// registers, a DMA master, irq lines, busy) fits it; VerilatedDesign<Top>
// (verilated_design.hpp) implements it for any Verilator-compiled top with
// those port names, so a design needs no C++ of its own.
#pragma once

#include <cstdint>
#include <string>

#include "pciem/error.hpp"

namespace pciem::rtl {

// Signals the adapter drives into the design.
struct RtlInputs {
    bool rst_n = false;
    // AXI4-Lite slave (registers): BAR offsets, 32-bit data.
    bool awvalid = false;
    uint32_t awaddr = 0;
    bool wvalid = false;
    uint32_t wdata = 0;
    uint8_t wstrb = 0;
    bool bready = true; // responses are always taken
    bool arvalid = false;
    uint32_t araddr = 0;
    bool rready = true;
    // DMA master, read side: request, then the bytes as 64-bit beats.
    bool rd_req_ready = false;
    bool rd_valid = false;
    uint64_t rd_data = 0;
    bool rd_last = false;
    bool rd_err = false;
    // DMA master, write side: request, beats, then a one-cycle done.
    bool wr_req_ready = false;
    bool wr_ready = false;
    bool wr_done = false;
    bool wr_err = false;
};

// Signals the design drives, sampled just before a rising clock edge.
struct RtlOutputs {
    bool awready = false;
    bool wready = false;
    bool bvalid = false;
    uint8_t bresp = 0;
    bool arready = false;
    bool rvalid = false;
    uint32_t rdata = 0;
    uint8_t rresp = 0;
    bool rd_req_valid = false;
    uint64_t rd_req_addr = 0;
    uint32_t rd_req_len = 0;
    bool rd_ready = false;
    bool wr_req_valid = false;
    uint64_t wr_req_addr = 0;
    uint32_t wr_req_len = 0;
    bool wr_valid = false;
    uint64_t wr_data = 0;
    uint64_t irq = 0; // bit i: line i
    bool busy = false;
};

class RtlDesign {
public:
    RtlDesign() = default;
    RtlDesign(const RtlDesign&) = delete;
    RtlDesign& operator=(const RtlDesign&) = delete;
    RtlDesign(RtlDesign&&) = delete;
    RtlDesign& operator=(RtlDesign&&) = delete;
    virtual ~RtlDesign() = default;

    // Sets the inputs and the clock level, then evaluates the design.
    virtual void eval(const RtlInputs& in, bool clk) = 0;
    // The outputs as the last eval left them.
    [[nodiscard]] virtual RtlOutputs outputs() const = 0;

    // Waveforms: open a VCD file, dump the signals at a time (in the
    // design's time precision), close. A design verilated without
    // --trace refuses open_trace().
    [[nodiscard]] virtual Result<void> open_trace(const std::string& path) = 0;
    virtual void dump_trace(uint64_t time) = 0;
    virtual void close_trace() = 0;
};

} // namespace pciem::rtl
