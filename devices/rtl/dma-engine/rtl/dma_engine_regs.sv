// SPDX-License-Identifier: MIT
//
// The register block of the example DMA engine: an AXI4-Lite slave
// (32-bit data) holding the registers of drivers/pciem_rtl_dma/rtl_dma_regs.h.
// One write and one read in flight at a time, answered one cycle after the
// handshake; undecoded offsets answer DECERR, which the PCIem adapter turns
// into all-ones, as a PCIe Unsupported Request completion reads.
`default_nettype none

module dma_engine_regs (
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

    // To the engine core.
    output logic        enable,
    output logic        irq_enable,
    output logic        reset_req,   // one-cycle pulse: CTRL.RESET written as 1
    output logic [63:0] ring_base,
    output logic [3:0]  ring_order,  // log2 of the ring's entries, at most 12
    output logic [11:0] tail,
    // From the engine core.
    input  wire  [11:0] head,
    input  wire  [31:0] completed,
    input  wire  [7:0]  error_code,
    input  wire         core_busy,
    input  wire         halted,
    input  wire         done_pulse,
    input  wire         error_pulse
);
    localparam logic [31:0] ID = 32'h52444d41;      // "RDMA"
    localparam logic [31:0] VERSION = 32'h00010000;

    localparam logic [7:0] R_ID = 8'h00, R_VERSION = 8'h04, R_CTRL = 8'h08, R_STATUS = 8'h0c,
        R_RING_LO = 8'h10, R_RING_HI = 8'h14, R_RING_ORDER = 8'h18, R_TAIL = 8'h1c,
        R_HEAD = 8'h20, R_IRQ_STATUS = 8'h24, R_COMPLETED = 8'h28, R_ERROR = 8'h2c,
        R_SCRATCH = 8'h30, R_CYCLES = 8'h34;

    localparam logic [1:0] OKAY = 2'b00, DECERR = 2'b11;

    logic [31:0] scratch;
    logic [31:0] cycles;
    logic [1:0]  irq_status;   // bit 0 DONE, bit 1 ERROR (RW1C)

    // Registers live in the first 256 bytes; anything else is undecoded.
    function automatic logic decoded(input logic [31:0] addr);
        return addr[31:8] == 24'h0 && addr[1:0] == 2'b00 && addr[7:0] <= R_CYCLES;
    endfunction

    function automatic logic [31:0] merge(input logic [31:0] old, input logic [31:0] data,
                                          input logic [3:0] strb);
        logic [31:0] r;
        for (int i = 0; i < 4; i++) begin
            r[i * 8 +: 8] = strb[i] ? data[i * 8 +: 8] : old[i * 8 +: 8];
        end
        return r;
    endfunction

    // ---- writes: address and data are taken together -----------------------
    wire write_fire = s_axil_awvalid && s_axil_wvalid && !s_axil_bvalid;
    assign s_axil_awready = write_fire;
    assign s_axil_wready = write_fire;

    // Only the implemented bits of these merged values are used.
    /* verilator lint_off UNUSEDSIGNAL */
    wire [31:0] wdata_ctrl = merge({29'b0, irq_enable, 1'b0, enable}, s_axil_wdata, s_axil_wstrb);
    wire [31:0] wdata_tail = merge({20'b0, tail}, s_axil_wdata, s_axil_wstrb);
    /* verilator lint_on UNUSEDSIGNAL */

    always_ff @(posedge clk) begin
        reset_req <= 1'b0;
        if (!rst_n) begin
            enable <= 1'b0;
            irq_enable <= 1'b0;
            ring_base <= 64'h0;
            ring_order <= 4'h0;
            tail <= 12'h0;
            scratch <= 32'h0;
            irq_status <= 2'b00;
            s_axil_bvalid <= 1'b0;
            s_axil_bresp <= OKAY;
        end else begin
            if (s_axil_bvalid && s_axil_bready) begin
                s_axil_bvalid <= 1'b0;
            end
            // Device events set status bits; a W1C in the same cycle clears
            // only what the driver saw, so set wins below.
            if (write_fire) begin
                s_axil_bvalid <= 1'b1;
                s_axil_bresp <= decoded(s_axil_awaddr) ? OKAY : DECERR;
                case (s_axil_awaddr[7:0])
                    R_CTRL: begin
                        enable <= wdata_ctrl[0];
                        irq_enable <= wdata_ctrl[2];
                        reset_req <= wdata_ctrl[1];
                    end
                    R_RING_LO: ring_base[31:0] <= merge(ring_base[31:0], s_axil_wdata, s_axil_wstrb);
                    R_RING_HI: ring_base[63:32] <= merge(ring_base[63:32], s_axil_wdata, s_axil_wstrb);
                    R_RING_ORDER: begin
                        if (s_axil_wstrb[0]) begin
                            ring_order <= s_axil_wdata[3:0] > 4'd12 ? 4'd12 : s_axil_wdata[3:0];
                        end
                    end
                    R_TAIL: tail <= wdata_tail[11:0];
                    R_IRQ_STATUS: begin
                        if (s_axil_wstrb[0]) begin
                            irq_status <= irq_status & ~s_axil_wdata[1:0];
                        end
                    end
                    R_SCRATCH: scratch <= merge(scratch, s_axil_wdata, s_axil_wstrb);
                    default: ;
                endcase
            end
            if (done_pulse) begin
                irq_status[0] <= 1'b1;
            end
            if (error_pulse) begin
                irq_status[1] <= 1'b1;
            end
        end
    end

    // ---- reads ----------------------------------------------------------------
    assign s_axil_arready = !s_axil_rvalid;

    logic [31:0] read_value;
    always_comb begin
        case (s_axil_araddr[7:0])
            R_ID: read_value = ID;
            R_VERSION: read_value = VERSION;
            R_CTRL: read_value = {29'b0, irq_enable, 1'b0, enable};
            R_STATUS: read_value = {30'b0, halted, core_busy};
            R_RING_LO: read_value = ring_base[31:0];
            R_RING_HI: read_value = ring_base[63:32];
            R_RING_ORDER: read_value = {28'b0, ring_order};
            R_TAIL: read_value = {20'b0, tail};
            R_HEAD: read_value = {20'b0, head};
            R_IRQ_STATUS: read_value = {30'b0, irq_status};
            R_COMPLETED: read_value = completed;
            R_ERROR: read_value = {24'b0, error_code};
            R_SCRATCH: read_value = scratch;
            R_CYCLES: read_value = cycles;
            default: read_value = 32'h0;
        endcase
    end

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            s_axil_rvalid <= 1'b0;
            s_axil_rdata <= 32'h0;
            s_axil_rresp <= OKAY;
            cycles <= 32'h0;
        end else begin
            cycles <= cycles + 32'd1;
            if (s_axil_rvalid && s_axil_rready) begin
                s_axil_rvalid <= 1'b0;
            end
            if (s_axil_arvalid && s_axil_arready) begin
                s_axil_rvalid <= 1'b1;
                s_axil_rdata <= decoded(s_axil_araddr) ? read_value : 32'h0;
                s_axil_rresp <= decoded(s_axil_araddr) ? OKAY : DECERR;
            end
        end
    end
endmodule

`default_nettype wire
