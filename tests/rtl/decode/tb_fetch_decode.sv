// SPDX-License-Identifier: Apache-2.0
// Test top for tb_decode.cpp built with -DPB_VIA_FETCH: instruction words reach the decoder
// through the fetcher's queue (packed on arrival, shifted, unpacked at the head), as in pb_core.
// The decoder's outputs have pb_decode's names, so the harness compares them with the C library
// exactly as for pb_decode alone. The fetcher's parameters are pb_core's for the same hardware
// (PCW wider than pb_core's: the harness fetches far more words than one program has).
`default_nettype none

module tb_fetch_decode #(
  parameter int N          = 4,
  parameter int SP_ROWS    = 64,
  parameter int ACC_ROWS   = 32,
  parameter longint HOST_BYTES = 64'd4096,
  parameter int FW         = ($clog2(HOST_BYTES) + 1 > $clog2(SP_ROWS + 1))
                             ? (($clog2(HOST_BYTES) + 1 > $clog2(ACC_ROWS + 1)) ? $clog2(HOST_BYTES) + 1 : $clog2(ACC_ROWS + 1))
                             : (($clog2(SP_ROWS + 1) > $clog2(ACC_ROWS + 1)) ? $clog2(SP_ROWS + 1) : $clog2(ACC_ROWS + 1))
) (
  input  logic           clk_i,
  input  logic           rst_ni,
  input  logic           start_i,
  input  logic           pop_i,
  input  logic [31:0]    fetch_prog_addr_i,   // the fetcher's program address (requests at +16 per word)
  output logic           if_req_valid_o,
  output logic [31:0]    if_req_addr_o,
  input  logic           if_req_ready_i,
  input  logic           if_rsp_valid_i,
  input  logic [127:0]   if_rsp_data_i,
  output logic           head_valid_o,
  output logic [23:0]    head_pc_o,
  output logic [127:0]   head_o,              // the unpacked head (the harness checks its raw fields)
  input  logic [31:0]    prog_addr_i,
  input  logic [31:0]    prog_len_i,
  output logic [7:0]     op_o,
  output logic [3:0]     err_o,
  output logic [1:0]     unit_o,
  output logic [7:0]     sp_col_o,
  output logic [7:0]     cols_o,
  output logic [15:0]    sp_addr_o,
  output logic [15:0]    rows_o,
  output logic [23:0]    host_stride_o,
  output logic [31:0]    host_addr_o,
  output logic [15:0]    acc_addr_o,
  output logic           acc_flag_o,
  output logic [4:0]     pool_o,
  output logic [15:0]    pool_stride_o,
  output logic [7:0]     zp_o,
  output logic [7:0]     lo_o,
  output logic [7:0]     hi_o,
  output logic [1:0]     rd_mem_o,
  output logic [FW-1:0]  rd_lo_o,
  output logic [FW-1:0]  rd_hi_o,
  output logic [1:0]     wr_mem_o,
  output logic [FW-1:0]  wr_lo_o,
  output logic [FW-1:0]  wr_hi_o
);
  // as pb_core
  localparam int K   = $clog2(HOST_BYTES);
  localparam int SAW = (SP_ROWS > 1) ? $clog2(SP_ROWS) : 1;
  localparam int AAW = (ACC_ROWS > 1) ? $clog2(ACC_ROWS) : 1;
  localparam int RCW = ($clog2(((SP_ROWS > ACC_ROWS) ? SP_ROWS : ACC_ROWS) + 1) < 16)
                       ? $clog2(((SP_ROWS > ACC_ROWS) ? SP_ROWS : ACC_ROWS) + 1) : 16;

  logic [127:0] head;
  assign head_o = head;
  /* verilator lint_off UNUSEDSIGNAL */
  logic         exhausted;
  logic [23:0]  fetch_pc;
  logic [FW-1:0] host_lo, host_hi;
  logic         head_load;       // the pre-decode path (pb_core's u_dec_nx) is checked by the co-simulation
  logic [127:0] next_head;
  /* verilator lint_on UNUSEDSIGNAL */
  pb_fetch #(.PCW(24), .HAW(K), .RCW(RCW), .AW((SAW > AAW) ? SAW : AAW)) u_fetch (
    .clk_i(clk_i), .rst_ni(rst_ni), .start_i(start_i), .run_i(1'b1), .prog_addr_i(fetch_prog_addr_i),
    .limit_i(24'hffffff), .pop_i(pop_i),
    .if_req_valid_o(if_req_valid_o), .if_req_addr_o(if_req_addr_o), .if_req_ready_i(if_req_ready_i),
    .if_rsp_valid_i(if_rsp_valid_i), .if_rsp_data_i(if_rsp_data_i),
    .head_valid_o(head_valid_o), .head_o(head), .head_pc_o(head_pc_o), .head_load_o(head_load),
    .next_head_o(next_head), .exhausted_o(exhausted),
    .fetch_pc_o(fetch_pc)
  );

  pb_decode #(.N(N), .SP_ROWS(SP_ROWS), .ACC_ROWS(ACC_ROWS), .HOST_BYTES(HOST_BYTES), .FW(FW)) u_dec (
    .instr_i(head), .prog_addr_i(prog_addr_i), .prog_len_i(prog_len_i),
    .op_o(op_o), .err_o(err_o), .unit_o(unit_o),
    .sp_col_o(sp_col_o), .cols_o(cols_o), .sp_addr_o(sp_addr_o), .rows_o(rows_o), .host_stride_o(host_stride_o),
    .host_addr_o(host_addr_o), .acc_addr_o(acc_addr_o), .acc_flag_o(acc_flag_o), .pool_o(pool_o),
    .pool_stride_o(pool_stride_o), .zp_o(zp_o), .lo_o(lo_o), .hi_o(hi_o),
    .rd_mem_o(rd_mem_o), .rd_lo_o(rd_lo_o), .rd_hi_o(rd_hi_o), .wr_mem_o(wr_mem_o), .wr_lo_o(wr_lo_o),
    .wr_hi_o(wr_hi_o), .host_lo_o(host_lo), .host_hi_o(host_hi)
  );
endmodule

`default_nettype wire
