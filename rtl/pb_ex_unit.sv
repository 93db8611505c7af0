// SPDX-License-Identifier: Apache-2.0
// Array unit: WEIGHTS (scratchpad -> shadow weight buffer) and MATMUL (scratchpad rows through the
// systolic array, results written or accumulated into the accumulator at the array's output).
`default_nettype none

module pb_ex_unit #(
  parameter int N   = 16,
  parameter int PCW = 32,
  parameter int AAW = 16,   // accumulator row address bits carried with a row (clog2(ACC_ROWS))
  parameter int SAW = 16,   // scratchpad row address bits (clog2(SP_ROWS))
  parameter int RCW = 16    // row counts of instructions that issue (rows <= SP_ROWS, N <= SP_ROWS)
) (
  input  logic            clk_i,
  input  logic            rst_ni,
  input  logic            clear_i,       // program start: both weight buffers 0, buffer 0 current
  // issue
  input  logic            start_i,
  input  logic [7:0]      op_i,
  input  logic [PCW-1:0]  pc_i,
  /* verilator lint_off UNUSEDSIGNAL */  // bits above SAW, RCW, AAW are 0 in every instruction that issues
  input  logic [15:0]     sp_addr_i,
  input  logic [15:0]     rows_i,
  input  logic [15:0]     acc_addr_i,
  /* verilator lint_on UNUSEDSIGNAL */
  input  logic            acc_flag_i,
  output logic            busy_o,        // reading the scratchpad
  output logic            busy_mm_o,     // reading the scratchpad for a MATMUL
  output logic            inflight_o,    // MATMUL rows still on their way to the accumulator
  output logic            wsel_o,        // buffer the next MATMUL rows use (before a pending swap)
  output logic [1:0]      buf_busy_o,    // a row using buffer b is inside the array
  // scratchpad read port (data one cycle after the address)
  output logic            sp_re_o,
  output logic [15:0]     sp_raddr_o,
  input  logic [N*8-1:0]  sp_rdata_i,
  // accumulator read (for accumulation) and write
  output logic            acc_re_o,
  output logic [15:0]     acc_raddr_o,
  input  logic [N*32-1:0] acc_rdata_i,
  output logic            acc_we_o,
  output logic [15:0]     acc_waddr_o,
  output logic [N*32-1:0] acc_wdata_o,
  output logic [PCW-1:0]  acc_wpc_o,     // PC of the MATMUL whose row is written
  // completion
  output logic            retire_w_o,    // a WEIGHTS wrote its last row
  output logic [PCW-1:0]  retire_w_pc_o,
  output logic            retire_mm_o,   // a MATMUL wrote its last accumulator row
  output logic [PCW-1:0]  retire_mm_pc_o,
  output logic            row_in_o       // an activation row entered the array (array-busy counter)
);
`include "pb_isa.vh"

  localparam int KW   = (N > 1) ? $clog2(N) : 1;
  localparam int TAGW = PCW + 1 + 1 + AAW;  // {pc, last, acc_flag, acc_addr}
  localparam int LIFE = 2 * N - 2;          // cycles a row stays in the PE grid after entering
  localparam int PIPE = 2 * N - 1;          // array latency

  // ---- feeding: one scratchpad read per cycle ----
  logic           busy_q, is_w_q, acc_flag_q, wsel_q, pending_q, wtarget_q;
  logic [SAW-1:0] sp_addr_q;
  logic [AAW-1:0] acc_addr_q;
  logic [RCW-1:0] cnt_q, len_q;
  logic [PCW-1:0] pc_q;
  assign busy_o     = busy_q;
  assign busy_mm_o  = busy_q && !is_w_q;
  assign sp_re_o    = busy_q;
  logic [SAW-1:0] sp_raddr;
  assign sp_raddr   = sp_addr_q + SAW'(cnt_q);
  assign sp_raddr_o = 16'(sp_raddr);
  assign wsel_o     = wsel_q;

  // read data stage (one cycle later)
  logic           d_valid_q, d_w_q, d_last_q, d_acc_q, d_sel_q, d_wtarget_q;
  /* verilator lint_off UNUSEDSIGNAL */  // only the low bits of the row counter index a weight row
  logic [RCW-1:0] d_cnt_q;
  /* verilator lint_on UNUSEDSIGNAL */
  logic [AAW-1:0] d_accaddr_q;    // issued MATMULs address rows below ACC_ROWS
  logic [PCW-1:0] d_pc_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      busy_q    <= 1'b0;
      d_valid_q <= 1'b0;
      wsel_q    <= 1'b0;
      pending_q <= 1'b0;
    end else begin
      d_valid_q <= busy_q;
      if (clear_i) begin
        wsel_q    <= 1'b0;
        pending_q <= 1'b0;
      end
      if (start_i) begin
        busy_q <= 1'b1;
        if (op_i == PB_OP_WEIGHTS) begin
          pending_q <= 1'b1;
        end else if (pending_q) begin     // first MATMUL after a WEIGHTS: swap buffers
          wsel_q    <= ~wsel_q;
          pending_q <= 1'b0;
        end
      end else if (busy_q && cnt_q + RCW'(1) == len_q) begin
        busy_q <= 1'b0;
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (start_i) begin
      is_w_q     <= (op_i == PB_OP_WEIGHTS);
      sp_addr_q  <= SAW'(sp_addr_i);
      acc_addr_q <= AAW'(acc_addr_i);
      acc_flag_q <= acc_flag_i;
      pc_q       <= pc_i;
      cnt_q      <= '0;
      len_q      <= (op_i == PB_OP_WEIGHTS) ? RCW'(N) : RCW'(rows_i);
      wtarget_q  <= ~wsel_q;
    end else if (busy_q) begin
      cnt_q <= cnt_q + RCW'(1);
    end
    d_w_q       <= is_w_q;
    d_cnt_q     <= cnt_q;
    d_last_q    <= (cnt_q + RCW'(1) == len_q);
    d_acc_q     <= acc_flag_q;
    d_sel_q     <= wsel_q;
    d_wtarget_q <= wtarget_q;
    d_accaddr_q <= acc_addr_q + AAW'(cnt_q);
    d_pc_q      <= pc_q;
  end

  // ---- the array ----
  logic           in_valid;
  logic           out_valid;
  logic [N*32-1:0] out_row;
  logic [TAGW-1:0] out_tag;
  assign in_valid = d_valid_q && !d_w_q;
  assign row_in_o = in_valid;

  pb_array #(.N(N), .TAGW(TAGW)) u_array (
    .clk_i      (clk_i),
    .rst_ni     (rst_ni),
    .w_we_i     (d_valid_q && d_w_q),
    .w_sel_i    (d_wtarget_q),
    .w_k_i      (KW'(d_cnt_q)),
    .w_row_i    (sp_rdata_i),
    .w_clear_i  (clear_i),
    .in_valid_i (in_valid),
    .in_sel_i   (d_sel_q),
    .in_row_i   (sp_rdata_i),
    .in_tag_i   ({d_pc_q, d_last_q, d_acc_q, d_accaddr_q}),
    .out_valid_o(out_valid),
    .out_row_o  (out_row),
    .out_tag_o  (out_tag)
  );
  assign retire_w_o    = d_valid_q && d_w_q && d_last_q;
  assign retire_w_pc_o = d_pc_q;

  // ---- accumulate at the output: read at y, add and write at the end of y+1 ----
  // A column's result is a sum of N int8 x int8 products, |sum| <= N 2^14: PW bits hold it
  // (signed), and only those are registered (the other out_row bits are copies of the sign).
  localparam int PW = 16 + $clog2(N);
  logic            rmw_valid_q;
  logic [N*PW-1:0] rmw_row_q;
  logic [TAGW-1:0] rmw_tag_q;
  assign acc_re_o    = out_valid;
  assign acc_raddr_o = 16'(out_tag[AAW-1:0]);
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) rmw_valid_q <= 1'b0;
    else rmw_valid_q <= out_valid;
  end
  /* verilator lint_off UNUSEDSIGNAL */  // out_row's bits above PW - 1 (the sign's copies)
  logic [N*32-1:0] out_row_u;
  /* verilator lint_on UNUSEDSIGNAL */
  assign out_row_u = out_row;
  always_ff @(posedge clk_i) begin
    for (int c = 0; c < N; c++) rmw_row_q[c*PW +: PW] <= out_row_u[c*32 +: PW];
    rmw_tag_q <= out_tag;
  end
  always_comb begin
    for (int c = 0; c < N; c++)
      acc_wdata_o[c*32 +: 32] = 32'($signed(rmw_row_q[c*PW +: PW])) + (rmw_tag_q[AAW] ? acc_rdata_i[c*32 +: 32] : 32'd0);
  end
  assign acc_we_o       = rmw_valid_q;
  assign acc_waddr_o    = 16'(rmw_tag_q[AAW-1:0]);
  assign acc_wpc_o      = rmw_tag_q[TAGW-1 -: PCW];
  assign retire_mm_o    = rmw_valid_q && rmw_tag_q[AAW+1];
  assign retire_mm_pc_o = rmw_tag_q[TAGW-1 -: PCW];

  // ---- occupancy: rows in the array (for interlocks) ----
  localparam int OCW = $clog2(2 * N);   // holds PIPE = 2N - 1 and LIFE = 2N - 2
  logic [OCW-1:0] arr_cnt_q;
  logic [OCW-1:0] life_q [0:1];
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      arr_cnt_q <= '0;
      life_q[0] <= '0;
      life_q[1] <= '0;
    end else begin
      arr_cnt_q <= in_valid ? OCW'(PIPE) : (arr_cnt_q != '0 ? arr_cnt_q - OCW'(1) : '0);
      for (int b = 0; b < 2; b++)
        life_q[b] <= (in_valid && d_sel_q == b[0]) ? OCW'(LIFE) : (life_q[b] != '0 ? life_q[b] - OCW'(1) : '0);
    end
  end
  assign inflight_o    = in_valid || (arr_cnt_q != '0) || rmw_valid_q;
  assign buf_busy_o[0] = (in_valid && !d_sel_q) || (life_q[0] != '0);
  assign buf_busy_o[1] = (in_valid && d_sel_q) || (life_q[1] != '0);
endmodule

`default_nettype wire
