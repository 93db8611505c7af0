// SPDX-License-Identifier: Apache-2.0
// Store unit: STORE (scratchpad rows -> host memory, cols bytes from column sp_col, 2-D strided) and
// STORE_ACC (accumulator rows -> host memory, lanes 0..cols-1 as int32: 4*cols bytes per row in
// B = ceil(4*cols/N) beats of N bytes, the last one shorter; 2-D strided).
`default_nettype none

module pb_st_unit #(
  parameter int N   = 16,
  parameter int PCW = 32,
  parameter int HAW = 32,  // host address bits that can be nonzero in a request (clog2(HOST_BYTES))
  // widths of what an instruction that issues can hold (the decoder's range checks): scratchpad
  // and accumulator row addresses (clog2 of SP_ROWS, ACC_ROWS) and row counts (<= max of both)
  parameter int SAW = 16,
  parameter int AAW = 16,
  parameter int RCW = 16
) (
  input  logic            clk_i,
  input  logic            rst_ni,
  input  logic            start_i,
  input  logic [7:0]      op_i,
  input  logic [PCW-1:0]  pc_i,
  /* verilator lint_off UNUSEDSIGNAL */  // bits above the widths above (and HAW) are 0 in every
  input  logic [7:0]      sp_col_i,       // instruction that issues
  input  logic [7:0]      cols_i,
  input  logic [15:0]     sp_addr_i,
  input  logic [15:0]     acc_addr_i,
  input  logic [15:0]     rows_i,
  input  logic [23:0]     host_stride_i,
  input  logic [31:0]     host_addr_i,
  /* verilator lint_on UNUSEDSIGNAL */
  output logic            busy_o,
  output logic            busy_acc_o,     // busy with a STORE_ACC (uses the accumulator read port)
  // scratchpad read port (data one cycle after the address, held until the next read)
  output logic            sp_re_o,
  output logic [15:0]     sp_raddr_o,
  input  logic [N*8-1:0]  sp_rdata_i,
  // accumulator read port, same timing (shared with the load unit's ACTIVATE, never at once)
  output logic            acc_re_o,
  output logic [15:0]     acc_raddr_o,
  input  logic [N*32-1:0] acc_rdata_i,
  // host write port: bytes 0..len-1 of data go to addr.. when valid & ready
  output logic            wr_req_valid_o,
  output logic [31:0]     wr_req_addr_o,
  output logic [7:0]      wr_req_len_o,
  output logic [N*8-1:0]  wr_req_data_o,
  input  logic            wr_req_ready_i,
  output logic            retire_o,
  output logic [PCW-1:0]  pc_o,
  output logic [31:0]     dma_bytes_o
);
`include "pb_isa.vh"

  logic           busy_q, wv_q, acc_q;
  logic [1:0]     beat_q, last_beat_q;
  logic [7:0]     last_len_q;
  logic [PCW-1:0] pc_q;
  localparam int CLW = $clog2(N + 1);             // sp_col < N, cols <= N
  localparam int RAW = (SAW > AAW) ? SAW : AAW;   // a scratchpad or an accumulator row
  logic [CLW-1:0] sp_col_q, cols_q;
  logic [RAW-1:0] raddr_q;
  logic [RCW-1:0] rows_q, rd_cnt_q, wr_cnt_q;
  logic [HAW-1:0] stride_q;   // only used between the rows of a range that stays below 2^HAW
  logic [HAW-1:0] waddr_q;

  // a row is one beat for STORE, four for STORE_ACC; the next row is read as its last beat goes out
  logic wr_fire, row_done, rd_en, last_wr;
  assign wr_req_valid_o = busy_q && wv_q;
  assign wr_fire        = wr_req_valid_o && wr_req_ready_i;
  assign row_done       = wr_fire && (!acc_q || beat_q == last_beat_q);
  assign rd_en          = busy_q && (rd_cnt_q < rows_q) && (!wv_q || row_done);
  assign last_wr        = row_done && (wr_cnt_q + RCW'(1) == rows_q);
  assign sp_re_o        = rd_en && !acc_q;
  assign acc_re_o       = rd_en && acc_q;
  logic [RAW-1:0] raddr;
  assign raddr          = raddr_q + RAW'(rd_cnt_q);
  assign sp_raddr_o     = 16'(raddr);
  assign acc_raddr_o    = 16'(raddr);
  logic [HAW-1:0] req_addr;
  assign req_addr       = waddr_q + HAW'(beat_q) * HAW'(N);
  assign wr_req_addr_o  = 32'(req_addr);
  assign wr_req_len_o   = !acc_q ? 8'(cols_q) : (beat_q == last_beat_q) ? last_len_q : 8'(N);
  assign wr_req_data_o  = acc_q ? acc_rdata_i[32'(beat_q) * 32'(N * 8) +: N * 8] : (sp_rdata_i >> (sp_col_q * 8));
  assign busy_o         = busy_q;
  assign busy_acc_o     = busy_q && acc_q;
  assign retire_o       = last_wr;
  assign pc_o           = pc_q;
  // bytes counted per beat as they go out (no rows x cols multiplier); the same totals
  assign dma_bytes_o    = wr_fire ? 32'(wr_req_len_o) : 32'd0;

  // STORE_ACC beats: 4*cols bytes (cols <= N, checked by the decoder) in B = 1..4 beats of N bytes
  logic [9:0] bytes_acc;
  logic [1:0] beats_m1;
  assign bytes_acc = 10'(cols_i) * 10'd4;
  assign beats_m1  = 2'(32'(bytes_acc > 10'(N)) + 32'(bytes_acc > 10'(2 * N)) + 32'(bytes_acc > 10'(3 * N)));

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      busy_q <= 1'b0;
      wv_q   <= 1'b0;
    end else begin
      if (start_i) busy_q <= 1'b1;
      else if (last_wr) busy_q <= 1'b0;
      // a row's beats wait for the host port from the cycle after its read until its last is accepted
      wv_q <= rd_en || (wv_q && !row_done);
    end
  end

  always_ff @(posedge clk_i) begin
    if (start_i) begin
      pc_q     <= pc_i;
      acc_q    <= (op_i == PB_OP_STORE_ACC);
      sp_col_q <= CLW'(sp_col_i);
      cols_q   <= CLW'(cols_i);
      raddr_q  <= (op_i == PB_OP_STORE_ACC) ? RAW'(acc_addr_i) : RAW'(sp_addr_i);
      rows_q   <= RCW'(rows_i);
      stride_q <= HAW'(host_stride_i);
      waddr_q  <= HAW'(host_addr_i);
      rd_cnt_q <= '0;
      wr_cnt_q <= '0;
      beat_q   <= 2'd0;
      last_beat_q <= beats_m1;
      last_len_q  <= 8'(bytes_acc - 10'(beats_m1) * 10'(N));
    end else begin
      if (rd_en) rd_cnt_q <= rd_cnt_q + RCW'(1);
      if (row_done) begin
        wr_cnt_q <= wr_cnt_q + RCW'(1);
        waddr_q  <= waddr_q + stride_q;
        beat_q   <= 2'd0;
      end else if (wr_fire) begin
        beat_q <= beat_q + 2'd1;
      end
    end
  end
endmodule

`default_nettype wire
