// SPDX-License-Identifier: Apache-2.0
// Test top: the board's host-memory controller with its RAM (tests/fpga/host_mem/tb_host_mem.cpp).
`default_nettype none

module tb_host_mem_top #(
  parameter int N              = 4,
  parameter longint HOST_BYTES = 64'd4096
) (
  input  logic           clk_i,
  input  logic           rst_ni,
  input  logic           if_req_valid_i,
  input  logic [31:0]    if_req_addr_i,
  output logic           if_req_ready_o,
  output logic           if_rsp_valid_o,
  output logic [127:0]   if_rsp_data_o,
  input  logic           rd_req_valid_i,
  input  logic [31:0]    rd_req_addr_i,
  input  logic [7:0]     rd_req_len_i,
  output logic           rd_req_ready_o,
  output logic           rd_rsp_valid_o,
  output logic [N*8-1:0] rd_rsp_data_o,
  input  logic           wr_req_valid_i,
  input  logic [31:0]    wr_req_addr_i,
  input  logic [7:0]     wr_req_len_i,
  input  logic [N*8-1:0] wr_req_data_i,
  output logic           wr_req_ready_o,
  input  logic           br_req_valid_i,
  input  logic           br_req_we_i,
  input  logic [31:0]    br_req_addr_i,
  input  logic [7:0]     br_req_wdata_i,
  output logic           br_req_ready_o,
  output logic           br_rsp_valid_o,
  output logic [7:0]     br_rsp_data_o
);
  localparam int WORDS = 32'(HOST_BYTES / 2);
  localparam int AW    = $clog2(WORDS);
  logic          ram_en, ram_we;
  logic [1:0]    ram_be;
  logic [AW-1:0] ram_addr;
  logic [15:0]   ram_wdata, ram_rdata;

  pb_host_mem #(.N(N), .HOST_BYTES(HOST_BYTES), .AW(AW)) u_mem (
    .clk_i, .rst_ni,
    .if_req_valid_i, .if_req_addr_i, .if_req_ready_o, .if_rsp_valid_o, .if_rsp_data_o,
    .rd_req_valid_i, .rd_req_addr_i, .rd_req_len_i, .rd_req_ready_o, .rd_rsp_valid_o, .rd_rsp_data_o,
    .wr_req_valid_i, .wr_req_addr_i, .wr_req_len_i, .wr_req_data_i, .wr_req_ready_o,
    .br_req_valid_i, .br_req_we_i, .br_req_addr_i, .br_req_wdata_i, .br_req_ready_o, .br_rsp_valid_o,
    .br_rsp_data_o,
    .ram_en_o(ram_en), .ram_we_o(ram_we), .ram_be_o(ram_be), .ram_addr_o(ram_addr), .ram_wdata_o(ram_wdata),
    .ram_rdata_i(ram_rdata));
  pb_host_ram #(.WORDS(WORDS), .AW(AW)) u_ram (
    .clk_i, .en_i(ram_en), .we_i(ram_we), .be_i(ram_be), .addr_i(ram_addr), .wdata_i(ram_wdata),
    .rdata_o(ram_rdata));
endmodule

`default_nettype wire
