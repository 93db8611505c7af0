// SPDX-License-Identifier: Apache-2.0
// NOT the accelerator: a stand-in with pb_core's ports, for placing and routing the board shell
// (PLL, reset, pins, UART bridge, host-memory arbiter, SPRAM) on a device the core does not fit
// (`make fpga-ice40-shell`, docs/fpga.md). It keeps every host-memory port of pb_board in use,
// so synthesis removes none of the shell's logic:
//   registers 0x08 / 0x0c / 0x10: instruction, read and write addresses; writing CTRL (0x00)
//   bit 0 starts one instruction fetch, one N-byte read and one N-byte write (of the checksum),
//   in that order; STATUS (0x04) bit 0 busy, bit 1 done; 0x20 the checksum: the XOR of every
//   32-bit word of the fetched instruction and the read bytes; 0x40..0x4c and 0x54 the parameters.
`default_nettype none

module pb_core #(
  parameter int N              = 4,
  parameter int SP_ROWS        = 1024,
  parameter int ACC_ROWS       = 256,
  parameter longint HOST_BYTES = 64'd131072,
  parameter int RQ_LANES       = N,
  parameter int CNT_W          = 64
) (
  input  logic            clk_i,
  input  logic            rst_ni,
  input  logic            reg_we_i,
  input  logic [7:0]      reg_addr_i,
  input  logic [31:0]     reg_wdata_i,
  output logic [31:0]     reg_rdata_o,
  output logic            irq_o,
  output logic            if_req_valid_o,
  output logic [31:0]     if_req_addr_o,
  input  logic            if_req_ready_i,
  input  logic            if_rsp_valid_i,
  input  logic [127:0]    if_rsp_data_i,
  output logic            rd_req_valid_o,
  output logic [31:0]     rd_req_addr_o,
  output logic [7:0]      rd_req_len_o,
  input  logic            rd_req_ready_i,
  input  logic            rd_rsp_valid_i,
  input  logic [N*8-1:0]  rd_rsp_data_i,
  output logic            wr_req_valid_o,
  output logic [31:0]     wr_req_addr_o,
  output logic [7:0]      wr_req_len_o,
  output logic [N*8-1:0]  wr_req_data_o,
  input  logic            wr_req_ready_i,
  output logic            dbg_issue_o,
  output logic [31:0]     dbg_issue_pc_o,
  output logic [4:0]      dbg_retire_o,
  output logic [159:0]    dbg_retire_pc_o,
  output logic            dbg_sp_we_o,
  output logic [15:0]     dbg_sp_waddr_o,
  output logic [N-1:0]    dbg_sp_wmask_o,
  output logic [N*8-1:0]  dbg_sp_wdata_o,
  output logic            dbg_acc_we_o,
  output logic [15:0]     dbg_acc_waddr_o,
  output logic [N*32-1:0] dbg_acc_wdata_o,
  output logic [31:0]     dbg_acc_wpc_o,
  output logic [31:0]     dbg_ld_pc_o,
  output logic [31:0]     dbg_st_pc_o
);
  localparam logic [2:0] S_IDLE = 3'd0, S_IF = 3'd1, S_IF_RSP = 3'd2, S_RD = 3'd3, S_RD_RSP = 3'd4,
                         S_WR = 3'd5, S_DONE = 3'd6;
  logic [2:0]  state_q;
  logic [31:0] if_addr_q, rd_addr_q, wr_addr_q, sum_q, fold;

  assign fold = if_rsp_data_i[31:0] ^ if_rsp_data_i[63:32] ^ if_rsp_data_i[95:64] ^ if_rsp_data_i[127:96];

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q   <= S_IDLE;
      if_addr_q <= '0;
      rd_addr_q <= '0;
      wr_addr_q <= '0;
      sum_q     <= '0;
    end else begin
      if (reg_we_i && reg_addr_i == 8'h08) if_addr_q <= reg_wdata_i;
      if (reg_we_i && reg_addr_i == 8'h0c) rd_addr_q <= reg_wdata_i;
      if (reg_we_i && reg_addr_i == 8'h10) wr_addr_q <= reg_wdata_i;
      case (state_q)
        S_IDLE, S_DONE: if (reg_we_i && reg_addr_i == 8'h00 && reg_wdata_i[0]) state_q <= S_IF;
        S_IF:     if (if_req_ready_i) state_q <= S_IF_RSP;
        S_IF_RSP: if (if_rsp_valid_i) begin
          sum_q   <= sum_q ^ fold;
          state_q <= S_RD;
        end
        S_RD:     if (rd_req_ready_i) state_q <= S_RD_RSP;
        S_RD_RSP: if (rd_rsp_valid_i) begin
          sum_q   <= sum_q ^ 32'(rd_rsp_data_i);
          state_q <= S_WR;
        end
        S_WR:     if (wr_req_ready_i) state_q <= S_DONE;
        default:  state_q <= S_IDLE;
      endcase
    end
  end

  always_comb begin
    case (reg_addr_i)
      8'h04:   reg_rdata_o = {30'd0, state_q == S_DONE, state_q != S_IDLE && state_q != S_DONE};
      8'h08:   reg_rdata_o = if_addr_q;
      8'h0c:   reg_rdata_o = rd_addr_q;
      8'h10:   reg_rdata_o = wr_addr_q;
      8'h20:   reg_rdata_o = sum_q;
      8'h40:   reg_rdata_o = 32'(N);
      8'h44:   reg_rdata_o = 32'(SP_ROWS);
      8'h48:   reg_rdata_o = 32'(ACC_ROWS);
      8'h4c:   reg_rdata_o = 32'(HOST_BYTES);
      8'h54:   reg_rdata_o = 32'(RQ_LANES);
      default: reg_rdata_o = 32'(CNT_W);
    endcase
  end

  assign irq_o           = state_q == S_DONE;
  assign if_req_valid_o  = state_q == S_IF;
  assign if_req_addr_o   = if_addr_q;
  assign rd_req_valid_o  = state_q == S_RD;
  assign rd_req_addr_o   = rd_addr_q;
  assign rd_req_len_o    = 8'(N);
  assign wr_req_valid_o  = state_q == S_WR;
  assign wr_req_addr_o   = wr_addr_q;
  assign wr_req_len_o    = 8'(N);
  assign wr_req_data_o   = (N*8)'({(N + 3) / 4 {sum_q}});
  assign dbg_issue_o     = 1'b0;
  assign dbg_issue_pc_o  = '0;
  assign dbg_retire_o    = '0;
  assign dbg_retire_pc_o = '0;
  assign dbg_sp_we_o     = 1'b0;
  assign dbg_sp_waddr_o  = '0;
  assign dbg_sp_wmask_o  = '0;
  assign dbg_sp_wdata_o  = '0;
  assign dbg_acc_we_o    = 1'b0;
  assign dbg_acc_waddr_o = '0;
  assign dbg_acc_wdata_o = '0;
  assign dbg_acc_wpc_o   = '0;
  assign dbg_ld_pc_o     = '0;
  assign dbg_st_pc_o     = '0;
endmodule

`default_nettype wire
