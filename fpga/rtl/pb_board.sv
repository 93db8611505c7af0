// SPDX-License-Identifier: Apache-2.0
// FPGA board top: the Protobrain core, its host memory on chip (16-bit single-port RAM: the
// iCE40 UP5K's SPRAM) and the UART bridge through which a host loads programs, starts them and
// reads results (docs/uart.md).
//
// Host-memory arbitration (pb_host_mem): the core's instruction, read and write ports and the
// bridge's byte port share the RAM round-robin, one request at a time, with wait states. The
// bridge refuses memory commands and START while the core runs (NAK BUSY), so in practice the
// bridge and the core never contend; register reads (STATUS) work at any time.
`default_nettype none

module pb_board #(
  parameter int N              = 4,
  parameter int SP_ROWS        = 1024,
  parameter int ACC_ROWS       = 256,
  parameter longint HOST_BYTES = 64'd131072,   // even
  parameter int CLKS_PER_BIT   = 4,            // clock / baud: 12 MHz / 3 Mbaud
  parameter int TIMEOUT_CYCLES = 60000         // bridge inter-byte timeout (5 ms at 12 MHz)
) (
  input  logic clk_i,
  input  logic rst_ni,       // asynchronous, active low; release synchronously to clk_i
  input  logic uart_rx_i,    // from the host
  output logic uart_tx_o,    // to the host
  output logic running_o,    // the core runs a program
  output logic irq_o,        // the core is DONE or in ERROR
  output logic busy_o        // the bridge or the core is busy (idle: nothing changes until a byte arrives)
);
  localparam int WORDS = 32'(HOST_BYTES / 2);
  localparam int AW    = $clog2(WORDS);

  // ---- core ----
  logic            core_rst, core_rst_n;
  logic            reg_we;
  logic [7:0]      reg_addr;
  logic [31:0]     reg_wdata, reg_rdata;
  logic            if_req_valid, if_req_ready, if_rsp_valid;
  logic [31:0]     if_req_addr;
  logic [127:0]    if_rsp_data;
  logic            rd_req_valid, rd_req_ready, rd_rsp_valid;
  logic [31:0]     rd_req_addr;
  logic [7:0]      rd_req_len;
  logic [N*8-1:0]  rd_rsp_data;
  logic            wr_req_valid, wr_req_ready;
  logic [31:0]     wr_req_addr;
  logic [7:0]      wr_req_len;
  logic [N*8-1:0]  wr_req_data;
  /* verilator lint_off UNUSEDSIGNAL */  // trace outputs of the core: not used on the board
  logic            dbg_issue, dbg_sp_we, dbg_acc_we;
  logic [31:0]     dbg_issue_pc, dbg_acc_wpc, dbg_ld_pc, dbg_st_pc;
  logic [4:0]      dbg_retire;
  logic [159:0]    dbg_retire_pc;
  logic [15:0]     dbg_sp_waddr, dbg_acc_waddr;
  logic [N-1:0]    dbg_sp_wmask;
  logic [N*8-1:0]  dbg_sp_wdata;
  logic [N*32-1:0] dbg_acc_wdata;
  /* verilator lint_on UNUSEDSIGNAL */

  assign core_rst_n = rst_ni && !core_rst;

  pb_core #(.N(N), .SP_ROWS(SP_ROWS), .ACC_ROWS(ACC_ROWS), .HOST_BYTES(HOST_BYTES)) u_core (
    .clk_i(clk_i), .rst_ni(core_rst_n),
    .reg_we_i(reg_we), .reg_addr_i(reg_addr), .reg_wdata_i(reg_wdata), .reg_rdata_o(reg_rdata), .irq_o(irq_o),
    .if_req_valid_o(if_req_valid), .if_req_addr_o(if_req_addr), .if_req_ready_i(if_req_ready),
    .if_rsp_valid_i(if_rsp_valid), .if_rsp_data_i(if_rsp_data),
    .rd_req_valid_o(rd_req_valid), .rd_req_addr_o(rd_req_addr), .rd_req_len_o(rd_req_len),
    .rd_req_ready_i(rd_req_ready), .rd_rsp_valid_i(rd_rsp_valid), .rd_rsp_data_i(rd_rsp_data),
    .wr_req_valid_o(wr_req_valid), .wr_req_addr_o(wr_req_addr), .wr_req_len_o(wr_req_len),
    .wr_req_data_o(wr_req_data), .wr_req_ready_i(wr_req_ready),
    .dbg_issue_o(dbg_issue), .dbg_issue_pc_o(dbg_issue_pc), .dbg_retire_o(dbg_retire),
    .dbg_retire_pc_o(dbg_retire_pc), .dbg_sp_we_o(dbg_sp_we), .dbg_sp_waddr_o(dbg_sp_waddr),
    .dbg_sp_wmask_o(dbg_sp_wmask), .dbg_sp_wdata_o(dbg_sp_wdata), .dbg_acc_we_o(dbg_acc_we),
    .dbg_acc_waddr_o(dbg_acc_waddr), .dbg_acc_wdata_o(dbg_acc_wdata), .dbg_acc_wpc_o(dbg_acc_wpc),
    .dbg_ld_pc_o(dbg_ld_pc), .dbg_st_pc_o(dbg_st_pc)
  );

  // ---- host memory ----
  logic          br_req_valid, br_req_we, br_req_ready, br_rsp_valid;
  logic [31:0]   br_req_addr;
  logic [7:0]    br_req_wdata, br_rsp_data;
  logic          ram_en, ram_we;
  logic [1:0]    ram_be;
  logic [AW-1:0] ram_addr;
  logic [15:0]   ram_wdata, ram_rdata;

  pb_host_mem #(.N(N), .HOST_BYTES(HOST_BYTES), .AW(AW)) u_mem (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .if_req_valid_i(if_req_valid), .if_req_addr_i(if_req_addr), .if_req_ready_o(if_req_ready),
    .if_rsp_valid_o(if_rsp_valid), .if_rsp_data_o(if_rsp_data),
    .rd_req_valid_i(rd_req_valid), .rd_req_addr_i(rd_req_addr), .rd_req_len_i(rd_req_len),
    .rd_req_ready_o(rd_req_ready), .rd_rsp_valid_o(rd_rsp_valid), .rd_rsp_data_o(rd_rsp_data),
    .wr_req_valid_i(wr_req_valid), .wr_req_addr_i(wr_req_addr), .wr_req_len_i(wr_req_len),
    .wr_req_data_i(wr_req_data), .wr_req_ready_o(wr_req_ready),
    .br_req_valid_i(br_req_valid), .br_req_we_i(br_req_we), .br_req_addr_i(br_req_addr),
    .br_req_wdata_i(br_req_wdata), .br_req_ready_o(br_req_ready), .br_rsp_valid_o(br_rsp_valid),
    .br_rsp_data_o(br_rsp_data),
    .ram_en_o(ram_en), .ram_we_o(ram_we), .ram_be_o(ram_be), .ram_addr_o(ram_addr), .ram_wdata_o(ram_wdata),
    .ram_rdata_i(ram_rdata)
  );

  pb_host_ram #(.WORDS(WORDS), .AW(AW)) u_ram (
    .clk_i(clk_i), .en_i(ram_en), .we_i(ram_we), .be_i(ram_be), .addr_i(ram_addr), .wdata_i(ram_wdata),
    .rdata_o(ram_rdata)
  );

  // ---- UART bridge ----
  logic bridge_busy;
  pb_uart_bridge #(.HOST_BYTES(HOST_BYTES), .CLKS_PER_BIT(CLKS_PER_BIT), .TIMEOUT_CYCLES(TIMEOUT_CYCLES)) u_bridge (
    .clk_i(clk_i), .rst_ni(rst_ni), .rx_i(uart_rx_i), .tx_o(uart_tx_o),
    .mem_req_valid_o(br_req_valid), .mem_req_we_o(br_req_we), .mem_req_addr_o(br_req_addr),
    .mem_req_wdata_o(br_req_wdata), .mem_req_ready_i(br_req_ready), .mem_rsp_valid_i(br_rsp_valid),
    .mem_rsp_data_i(br_rsp_data),
    .reg_we_o(reg_we), .reg_addr_o(reg_addr), .reg_wdata_o(reg_wdata), .reg_rdata_i(reg_rdata),
    .core_rst_o(core_rst), .busy_o(bridge_busy)
  );

  // The bridge keeps STATUS (0x04) on the register port whenever it is idle.
  assign running_o = (reg_addr == 8'h04) && (reg_rdata[1:0] == 2'd1);
  assign busy_o    = bridge_busy || running_o;
endmodule

`default_nettype wire
