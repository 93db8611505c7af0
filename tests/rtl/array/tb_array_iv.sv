// SPDX-License-Identifier: Apache-2.0
// Icarus smoke test of pb_array (default N = 2): hand case, extremes, buffer switches, random rows.
//
// Also used to re-simulate synthesized netlists: with -DNETLIST the DUT is
// instantiated without parameters (the netlist was built with chparam -set N),
// so pass the same N with -Ptb_array_iv.N=<n>.
// The row presented in cycle x must come out in cycle x + 2N - 1 (exactly),
// with its tag; out_valid_o must be low in every other cycle.
`timescale 1ns / 1ps
`default_nettype none

module tb_array_iv;
  parameter int N    = 2;
  localparam int TAGW = 32;
  localparam int L    = 2 * N - 1;
  localparam int KW   = (N > 1) ? $clog2(N) : 1;
  localparam int MAXR = 256;

  logic              clk = 1'b0;
  logic              rst_n = 1'b1;
  logic              w_we = 1'b0, w_sel = 1'b0, w_clear = 1'b0;
  logic [KW-1:0]     w_k = '0;
  logic [N*8-1:0]    w_row = '0;
  logic              in_valid = 1'b0, in_sel = 1'b0;
  logic [N*8-1:0]    in_row = '0;
  logic [TAGW-1:0]   in_tag = '0;
  logic              out_valid;
  logic [N*32-1:0]   out_row;
  logic [TAGW-1:0]   out_tag;

`ifdef NETLIST
  pb_array dut (
`else
  pb_array #(.N(N), .TAGW(TAGW)) dut (
`endif
    .clk_i(clk), .rst_ni(rst_n),
    .w_we_i(w_we), .w_sel_i(w_sel), .w_k_i(w_k), .w_row_i(w_row), .w_clear_i(w_clear),
    .in_valid_i(in_valid), .in_sel_i(in_sel), .in_row_i(in_row), .in_tag_i(in_tag),
    .out_valid_o(out_valid), .out_row_o(out_row), .out_tag_o(out_tag)
  );

  always #5 clk = ~clk;

  // ---- cycle counter and the model ----
  integer cyc = 0;
  always @(posedge clk) cyc <= cyc + 1;

  logic signed [7:0] wm [0:1][0:N-1][0:N-1];  // model of both buffers (legal use: no writes under rows)

  integer exp_cycle [0:MAXR-1];
  integer exp_y     [0:MAXR-1][0:N-1];
  logic [TAGW-1:0] exp_tag [0:MAXR-1];
  integer n_in = 0, n_out = 0;
  integer passed = 0, failed = 0, errors = 0;

  // ---- output checker: sample in the middle of each cycle ----
  always @(negedge clk) begin : check
    integer c;
    if (rst_n) begin
      if (n_out < n_in && exp_cycle[n_out] + L == cyc) begin
        if (out_valid !== 1'b1) fail_msg(n_out, -1, 1, out_valid);
        for (c = 0; c < N; c++) begin
          if ($signed(out_row[c*32 +: 32]) !== exp_y[n_out][c])
            fail_msg(n_out, c, exp_y[n_out][c], $signed(out_row[c*32 +: 32]));
        end
        if (out_tag !== exp_tag[n_out]) fail_msg(n_out, -2, exp_tag[n_out], out_tag);
        n_out = n_out + 1;
      end else if (out_valid !== 1'b0) begin
        fail_msg(n_out, -1, 0, out_valid);
      end
    end
  end

  task automatic fail_msg(input integer row, input integer col, input integer e, input integer g);
    if (errors == 0) begin
      if (col == -1)      $display("FAIL cycle %0d, row %0d, out_valid: expected %0d, got %0d", cyc, row, e, g);
      else if (col == -2) $display("FAIL cycle %0d, row %0d, tag: expected %0h, got %0h", cyc, row, e, g);
      else                $display("FAIL cycle %0d, row %0d, column %0d: expected %0d, got %0d", cyc, row, col, e, g);
    end
    errors = errors + 1;
  endtask

  // ---- stimulus (inputs change 1 ns after the rising edge) ----
  task automatic next_cycle;
    @(posedge clk);
    #1;
    w_we = 1'b0;
    w_clear = 1'b0;
    in_valid = 1'b0;
  endtask

  task automatic write_row(input integer b, input integer k, input logic [N*8-1:0] row);
    integer c;
    w_we = 1'b1;
    w_sel = b[0];
    w_k = k[KW-1:0];
    w_row = row;
    for (c = 0; c < N; c++) wm[b][k][c] = row[c*8 +: 8];
  endtask

  task automatic present(input integer b, input logic [N*8-1:0] x, input logic [TAGW-1:0] tag);
    integer c, k, acc;
    in_valid = 1'b1;
    in_sel = b[0];
    in_row = x;
    in_tag = tag;
    exp_cycle[n_in] = cyc;
    exp_tag[n_in] = tag;
    for (c = 0; c < N; c++) begin
      acc = 0;
      for (k = 0; k < N; k++) acc = acc + $signed(x[k*8 +: 8]) * wm[b][k][c];
      exp_y[n_in][c] = acc;
    end
    n_in = n_in + 1;
  endtask

  task automatic drain;
    repeat (L + 2) next_cycle();
    if (n_out != n_in) begin
      if (errors == 0) $display("FAIL row %0d never came out", n_out);
      errors = errors + 1;
      n_out = n_in;
    end
  endtask

  task automatic close_group(input string name);
    drain();
    if (errors == 0) begin
      passed = passed + 1;
      $display("ok   %s", name);
    end else begin
      failed = failed + 1;
      $display("FAIL %s: %0d mismatches", name, errors);
    end
    errors = 0;
  endtask

  function automatic logic [N*8-1:0] fill(input logic [7:0] v);
    integer k;
    for (k = 0; k < N; k++) fill[k*8 +: 8] = v;
  endfunction

  function automatic logic [N*8-1:0] rnd_row();
    integer k;
    for (k = 0; k < N; k++) rnd_row[k*8 +: 8] = $urandom;
  endfunction

  integer i, k, b, seed;
  logic [N*8-1:0] hand_x, hand_w [0:1];

  initial begin
    if (!$value$plusargs("seed=%d", seed)) seed = 1;
    $display("# tb_array_iv N=%0d latency %0d seed %0d (+seed=)", N, L, seed);
    i = $urandom(seed);

    // reset and clear
    rst_n = 1'b0;
    repeat (2) next_cycle();
    rst_n = 1'b1;
    w_clear = 1'b1;
    for (b = 0; b < 2; b++) for (k = 0; k < N; k++) for (i = 0; i < N; i++) wm[b][k][i] = 8'sd0;
    next_cycle();
    repeat (L) next_cycle();
    close_group("reset: no output without input");

    // W = [[1,2],[3,4]] (top-left corner), x = [5,6] -> y = [23,34]
    hand_w[0] = '0;
    hand_w[1] = '0;
    hand_w[0][7:0] = 8'sd1;
    hand_w[0][15:8] = 8'sd2;
    hand_w[1][7:0] = 8'sd3;
    hand_w[1][15:8] = 8'sd4;
    for (k = 0; k < 2; k++) begin
      write_row(0, k, hand_w[k]);
      next_cycle();
    end
    hand_x = '0;
    hand_x[7:0] = 8'sd5;
    hand_x[15:8] = 8'sd6;
    present(0, hand_x, 32'hcafe0001);
    if (exp_y[0][0] != 23 || exp_y[0][1] != 34) begin
      $display("FAIL model of the hand case: %0d %0d", exp_y[0][0], exp_y[0][1]);
      errors = errors + 1;
    end
    next_cycle();
    close_group("hand case: [5,6] x [[1,2],[3,4]] = [23,34]");

    // buffer 1 all -128; rows alternate buffers back to back
    for (k = 0; k < N; k++) begin
      write_row(1, k, fill(8'h80));
      next_cycle();
    end
    present(1, fill(8'h80), 32'h00000002);  // N * 16384
    next_cycle();
    present(0, hand_x, 32'h00000003);
    next_cycle();
    present(1, fill(8'h7f), 32'h00000004);  // N * -16256
    next_cycle();
    present(0, fill(8'h80), 32'h00000005);
    next_cycle();
    close_group("extremes, buffer switch every row");

    // random rows with random gaps and selects
    for (i = 0; i < 40; i++) begin
      present($urandom % 2, rnd_row(), $urandom);
      next_cycle();
      if ($urandom % 3 == 0) repeat ($urandom % (L + 2)) next_cycle();
    end
    close_group("random rows, gaps, selects");

    // reload buffer 0 while rows on buffer 1 stream, then switch in the next cycle
    for (k = 0; k < N; k++) begin
      write_row(0, k, rnd_row());
      present(1, rnd_row(), $urandom);
      next_cycle();
    end
    for (i = 0; i < 2 * L; i++) begin
      present(0, rnd_row(), $urandom);
      next_cycle();
    end
    close_group("reload idle buffer under a stream, then switch");

    $display("# tb_array_iv: %0d passed, %0d failed", passed, failed);
    if (failed != 0) $fatal(1, "tb_array_iv failed");
    $finish;
  end

  initial begin
    #2000000;
    $display("FAIL timeout");
    $display("# tb_array_iv: %0d passed, %0d failed", passed, failed + 1);
    $fatal(1, "timeout");
  end
endmodule

`default_nettype wire
