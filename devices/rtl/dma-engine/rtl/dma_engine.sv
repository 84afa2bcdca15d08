// SPDX-License-Identifier: MIT
//
// The example DMA engine's top level: exactly the port list of the PCIem
// RTL interface (docs/rtl.md), joining the register block and the engine.
// irq[0] pulses when a descriptor asking for it completed, irq[1] when the
// engine halted on an error; both only with CTRL.IRQ_EN. `busy` is high
// while the engine has work it will do without another register access,
// and while an interrupt pulse is on its way out.
`default_nettype none

module dma_engine (
    input  wire         clk,
    input  wire         rst_n,

    input  wire         s_axil_awvalid,
    output logic        s_axil_awready,
    input  wire  [31:0] s_axil_awaddr,
    input  wire         s_axil_wvalid,
    output logic        s_axil_wready,
    input  wire  [31:0] s_axil_wdata,
    input  wire  [3:0]  s_axil_wstrb,
    output logic        s_axil_bvalid,
    input  wire         s_axil_bready,
    output logic [1:0]  s_axil_bresp,
    input  wire         s_axil_arvalid,
    output logic        s_axil_arready,
    input  wire  [31:0] s_axil_araddr,
    output logic        s_axil_rvalid,
    input  wire         s_axil_rready,
    output logic [31:0] s_axil_rdata,
    output logic [1:0]  s_axil_rresp,

    output logic        dma_rd_req_valid,
    input  wire         dma_rd_req_ready,
    output logic [63:0] dma_rd_req_addr,
    output logic [12:0] dma_rd_req_len,
    input  wire         dma_rd_valid,
    output logic        dma_rd_ready,
    input  wire  [63:0] dma_rd_data,
    input  wire         dma_rd_last,
    input  wire         dma_rd_err,

    output logic        dma_wr_req_valid,
    input  wire         dma_wr_req_ready,
    output logic [63:0] dma_wr_req_addr,
    output logic [12:0] dma_wr_req_len,
    output logic        dma_wr_valid,
    input  wire         dma_wr_ready,
    output logic [63:0] dma_wr_data,
    input  wire         dma_wr_done,
    input  wire         dma_wr_err,

    output logic [1:0]  irq,
    output logic        busy
);
    logic        enable, irq_enable, reset_req;
    logic [63:0] ring_base;
    logic [3:0]  ring_order;
    logic [11:0] tail, head;
    logic [31:0] completed;
    logic [7:0]  error_code;
    logic        core_busy, halted, done_pulse, error_pulse;

    dma_engine_regs regs (.*);

    dma_engine_core core (
        .busy(core_busy),
        .*
    );

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            irq <= 2'b00;
        end else begin
            irq <= {error_pulse && irq_enable, done_pulse && irq_enable};
        end
    end

    assign busy = core_busy || irq != 2'b00 || done_pulse || error_pulse;
endmodule

`default_nettype wire
