// SPDX-License-Identifier: MIT
//
// VerilatedDesign<Top>: RtlDesign for any Verilator-compiled top module
// whose ports follow the PCIem RTL interface (docs/rtl.md), by name:
//
//     #include "Vmy_device.h"                  // from verilate(... PREFIX Vmy_device)
//     auto design = std::make_unique<pciem::rtl::VerilatedDesign<Vmy_device>>();
//
// Waveforms need the design verilated with tracing (verilate(... TRACE));
// without it open_trace() says so.
#pragma once

#include <memory>
#include <string>

#include <verilated.h>
#include <verilated_vcd_c.h>

#include "rtl_design.hpp"

namespace pciem::rtl {

template <class Top>
class VerilatedDesign final : public RtlDesign {
public:
    static constexpr bool traceable = requires(Top & t, VerilatedVcdC* v) { t.trace(v, 99); };

    VerilatedDesign() : ctx_(std::make_unique<VerilatedContext>()) {
        if constexpr (traceable) {
            ctx_->traceEverOn(true); // before the model exists, or it has no trace code
        }
        top_ = std::make_unique<Top>(ctx_.get(), "top");
    }
    VerilatedDesign(const VerilatedDesign&) = delete;
    VerilatedDesign& operator=(const VerilatedDesign&) = delete;
    VerilatedDesign(VerilatedDesign&&) = delete;
    VerilatedDesign& operator=(VerilatedDesign&&) = delete;
    ~VerilatedDesign() override {
        close_trace();
        top_->final();
    }

    void eval(const RtlInputs& in, bool clk) override {
        Top& t = *top_;
        t.rst_n = in.rst_n;
        t.s_axil_awvalid = in.awvalid;
        t.s_axil_awaddr = in.awaddr;
        t.s_axil_wvalid = in.wvalid;
        t.s_axil_wdata = in.wdata;
        t.s_axil_wstrb = in.wstrb;
        t.s_axil_bready = in.bready;
        t.s_axil_arvalid = in.arvalid;
        t.s_axil_araddr = in.araddr;
        t.s_axil_rready = in.rready;
        t.dma_rd_req_ready = in.rd_req_ready;
        t.dma_rd_valid = in.rd_valid;
        t.dma_rd_data = in.rd_data;
        t.dma_rd_last = in.rd_last;
        t.dma_rd_err = in.rd_err;
        t.dma_wr_req_ready = in.wr_req_ready;
        t.dma_wr_ready = in.wr_ready;
        t.dma_wr_done = in.wr_done;
        t.dma_wr_err = in.wr_err;
        t.clk = clk;
        t.eval();
    }

    [[nodiscard]] RtlOutputs outputs() const override {
        const Top& t = *top_;
        return RtlOutputs{
            .awready = t.s_axil_awready != 0,
            .wready = t.s_axil_wready != 0,
            .bvalid = t.s_axil_bvalid != 0,
            .bresp = static_cast<uint8_t>(t.s_axil_bresp),
            .arready = t.s_axil_arready != 0,
            .rvalid = t.s_axil_rvalid != 0,
            .rdata = static_cast<uint32_t>(t.s_axil_rdata),
            .rresp = static_cast<uint8_t>(t.s_axil_rresp),
            .rd_req_valid = t.dma_rd_req_valid != 0,
            .rd_req_addr = static_cast<uint64_t>(t.dma_rd_req_addr),
            .rd_req_len = static_cast<uint32_t>(t.dma_rd_req_len),
            .rd_ready = t.dma_rd_ready != 0,
            .wr_req_valid = t.dma_wr_req_valid != 0,
            .wr_req_addr = static_cast<uint64_t>(t.dma_wr_req_addr),
            .wr_req_len = static_cast<uint32_t>(t.dma_wr_req_len),
            .wr_valid = t.dma_wr_valid != 0,
            .wr_data = static_cast<uint64_t>(t.dma_wr_data),
            .irq = static_cast<uint64_t>(t.irq),
            .busy = t.busy != 0,
        };
    }

    [[nodiscard]] Result<void> open_trace(const std::string& path) override {
        if constexpr (traceable) {
            close_trace();
            vcd_ = std::make_unique<VerilatedVcdC>();
            top_->trace(vcd_.get(), 99);
            vcd_->open(path.c_str());
            if (!vcd_->isOpen()) {
                vcd_.reset();
                return fail(EIO, "cannot write the waveform file " + path + ".");
            }
            return {};
        } else {
            return fail(ENOTSUP, "this design was verilated without tracing: add TRACE to its "
                                 "verilate() call to write " +
                                     path + ".");
        }
    }

    void dump_trace(uint64_t time) override {
        if constexpr (traceable) {
            if (vcd_) {
                vcd_->dump(time);
            }
        }
    }

    void close_trace() override {
        if constexpr (traceable) {
            if (vcd_) {
                vcd_->close();
                vcd_.reset();
            }
        }
    }

    // The Verilated model itself, for testbenches that poke at it.
    Top& top() { return *top_; }

private:
    std::unique_ptr<VerilatedContext> ctx_;
    std::unique_ptr<Top> top_;
    std::unique_ptr<VerilatedVcdC> vcd_;
};

} // namespace pciem::rtl
