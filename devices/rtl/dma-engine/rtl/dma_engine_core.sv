// SPDX-License-Identifier: MIT
//
// The engine of the example DMA device: walks the descriptor ring in host
// memory from HEAD to the driver's TAIL, runs each descriptor (COPY reads a
// chunk of up to 4 KiB into its buffer and writes it out; FILL writes a
// repeated 8-byte pattern), writes the descriptor's STATUS back and pulses
// a completion. Every host access goes through the DMA master interface
// of docs/rtl.md: one read and one write request outstanding at most, so a
// request waits for the previous one's data or completion.
//
// A fault on any access (the PCIem DMA sanitizer refused it) ends the
// descriptor with an error STATUS and halts the engine until CTRL.RESET.
`default_nettype none

module dma_engine_core (
    input  wire         clk,
    input  wire         rst_n,

    input  wire         enable,
    input  wire         reset_req,
    input  wire  [63:0] ring_base,
    input  wire  [3:0]  ring_order,
    input  wire  [11:0] tail,
    output logic [11:0] head,
    output logic [31:0] completed,
    output logic [7:0]  error_code,
    output logic        busy,
    output logic        halted,
    output logic        done_pulse,   // a descriptor with IRQ set completed
    output logic        error_pulse,  // the engine halted on an error

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
    input  wire         dma_wr_err
);
    localparam logic [7:0] OP_COPY = 8'd1, OP_FILL = 8'd2;
    localparam logic [7:0] E_FETCH = 8'd1, E_SRC = 8'd2, E_DST = 8'd3, E_OPCODE = 8'd4,
        E_STATUS = 8'd5, E_LENGTH = 8'd6;
    localparam logic [31:0] ST_DONE = 32'h1, ST_ERROR = 32'h80000000;
    localparam logic [31:0] MAX_LEN = 32'h0100_0000;   // 16 MiB per descriptor
    localparam logic [12:0] CHUNK = 13'd4096;

    typedef enum logic [3:0] {
        S_IDLE, S_FETCH_REQ, S_FETCH_DATA, S_DECODE, S_RD_REQ, S_RD_DATA, S_WR_REQ,
        S_WR_DATA, S_WR_WAIT, S_STATUS_REQ, S_STATUS_DATA, S_STATUS_WAIT, S_HALTED
    } state_t;
    state_t state;

    // The descriptor being run.
    logic [8:0]  d_ctrl;   // OP and IRQ; the other bits are reserved
    logic [31:0] d_len;
    logic [63:0] d_src, d_dst;
    logic [31:0] remaining;
    logic [63:0] src, dst;
    logic [12:0] chunk;
    logic [31:0] status;
    logic [1:0]  fetch_beat;

    // One chunk of a COPY: 512 beats of 8 bytes.
    logic [63:0] buffer [512];
    logic [8:0]  wr_index, rd_index;
    logic [9:0]  beats;   // beats of the chunk being written

    logic reset_pending;

    wire [11:0] mask = 12'((13'd1 << ring_order) - 13'd1);
    wire [63:0] desc_addr = ring_base + {47'b0, head, 5'b0};
    wire        work = enable && ((head & mask) != (tail & mask));
    // Between requests nothing is outstanding: a reset may take effect.
    wire        at_boundary = state == S_IDLE || state == S_HALTED || state == S_FETCH_REQ ||
                              state == S_RD_REQ || state == S_WR_REQ || state == S_STATUS_REQ;

    assign busy = state != S_IDLE && state != S_HALTED || work && state == S_IDLE || reset_pending;
    assign halted = state == S_HALTED;

    assign dma_rd_req_valid = state == S_FETCH_REQ || state == S_RD_REQ;
    assign dma_rd_req_addr = state == S_FETCH_REQ ? desc_addr : src;
    assign dma_rd_req_len = state == S_FETCH_REQ ? 13'd32 : chunk;
    assign dma_rd_ready = state == S_FETCH_DATA || state == S_RD_DATA;

    assign dma_wr_req_valid = state == S_WR_REQ || state == S_STATUS_REQ;
    assign dma_wr_req_addr = state == S_WR_REQ ? dst : desc_addr + 64'd24;
    assign dma_wr_req_len = state == S_WR_REQ ? chunk : 13'd4;
    assign dma_wr_valid = state == S_WR_DATA || state == S_STATUS_DATA;
    assign dma_wr_data = state == S_STATUS_DATA ? {32'b0, status}
                       : d_ctrl[7:0] == OP_FILL ? d_src : buffer[rd_index];

    function automatic logic [12:0] chunk_of(input logic [31:0] left);
        return left > {19'b0, CHUNK} ? CHUNK : left[12:0];
    endfunction

    task automatic fail(input logic [7:0] code);
        status <= ST_ERROR | {24'b0, code};
        if (error_code == 8'd0) begin
            error_code <= code;
        end
        state <= S_STATUS_REQ;
    endtask

    always_ff @(posedge clk) begin
        done_pulse <= 1'b0;
        error_pulse <= 1'b0;
        if (!rst_n) begin
            state <= S_IDLE;
            head <= 12'h0;
            completed <= 32'h0;
            error_code <= 8'h0;
            reset_pending <= 1'b0;
            fetch_beat <= 2'd0;
            wr_index <= 9'd0;
            rd_index <= 9'd0;
        end else if ((reset_req || reset_pending) && at_boundary) begin
            state <= S_IDLE;
            head <= 12'h0;
            completed <= 32'h0;
            error_code <= 8'h0;
            reset_pending <= 1'b0;
        end else begin
            if (reset_req) begin
                reset_pending <= 1'b1;
            end
            case (state)
                S_IDLE: begin
                    if (work) begin
                        state <= S_FETCH_REQ;
                    end
                end
                S_FETCH_REQ: begin
                    if (dma_rd_req_ready) begin
                        fetch_beat <= 2'd0;
                        state <= S_FETCH_DATA;
                    end
                end
                S_FETCH_DATA: begin
                    if (dma_rd_valid) begin
                        case (fetch_beat)
                            2'd0: begin
                                d_ctrl <= dma_rd_data[8:0];
                                d_len <= dma_rd_data[63:32];
                            end
                            2'd1: d_src <= dma_rd_data;
                            2'd2: d_dst <= dma_rd_data;
                            default: ;
                        endcase
                        fetch_beat <= fetch_beat + 2'd1;
                        if (dma_rd_err) begin
                            fail(E_FETCH);
                        end else if (dma_rd_last) begin
                            state <= S_DECODE;
                        end
                    end
                end
                S_DECODE: begin
                    remaining <= d_len;
                    src <= d_src;
                    dst <= d_dst;
                    chunk <= chunk_of(d_len);
                    if (d_ctrl[7:0] != OP_COPY && d_ctrl[7:0] != OP_FILL) begin
                        fail(E_OPCODE);
                    end else if (d_len == 32'd0 || d_len > MAX_LEN) begin
                        fail(E_LENGTH);
                    end else begin
                        state <= d_ctrl[7:0] == OP_COPY ? S_RD_REQ : S_WR_REQ;
                    end
                end
                S_RD_REQ: begin
                    if (dma_rd_req_ready) begin
                        wr_index <= 9'd0;
                        state <= S_RD_DATA;
                    end
                end
                S_RD_DATA: begin
                    if (dma_rd_valid) begin
                        buffer[wr_index] <= dma_rd_data;
                        wr_index <= wr_index + 9'd1;
                        if (dma_rd_err) begin
                            fail(E_SRC);
                        end else if (dma_rd_last) begin
                            state <= S_WR_REQ;
                        end
                    end
                end
                S_WR_REQ: begin
                    if (dma_wr_req_ready) begin
                        rd_index <= 9'd0;
                        beats <= 10'((chunk + 13'd7) >> 3);
                        state <= S_WR_DATA;
                    end
                end
                S_WR_DATA: begin
                    if (dma_wr_ready) begin
                        rd_index <= rd_index + 9'd1;
                        if ({1'b0, rd_index} == beats - 10'd1) begin
                            state <= S_WR_WAIT;
                        end
                    end
                end
                S_WR_WAIT: begin
                    if (dma_wr_done) begin
                        if (dma_wr_err) begin
                            fail(E_DST);
                        end else if (remaining == {19'b0, chunk}) begin
                            status <= ST_DONE;
                            state <= S_STATUS_REQ;
                        end else begin
                            remaining <= remaining - {19'b0, chunk};
                            chunk <= chunk_of(remaining - {19'b0, chunk});
                            src <= src + {51'b0, chunk};
                            dst <= dst + {51'b0, chunk};
                            state <= d_ctrl[7:0] == OP_COPY ? S_RD_REQ : S_WR_REQ;
                        end
                    end
                end
                S_STATUS_REQ: begin
                    if (dma_wr_req_ready) begin
                        state <= S_STATUS_DATA;
                    end
                end
                S_STATUS_DATA: begin
                    if (dma_wr_ready) begin
                        state <= S_STATUS_WAIT;
                    end
                end
                S_STATUS_WAIT: begin
                    if (dma_wr_done) begin
                        if (dma_wr_err && error_code == 8'd0) begin
                            error_code <= E_STATUS;
                        end
                        if (dma_wr_err || status != ST_DONE) begin
                            // HEAD stays on the failed descriptor.
                            error_pulse <= 1'b1;
                            state <= S_HALTED;
                        end else begin
                            head <= (head + 12'd1) & mask;
                            completed <= completed + 32'd1;
                            done_pulse <= d_ctrl[8];
                            state <= S_IDLE;
                        end
                    end
                end
                S_HALTED: ;
                default: state <= S_IDLE;
            endcase
        end
    end
endmodule

`default_nettype wire
