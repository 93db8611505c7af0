// SPDX-License-Identifier: Apache-2.0
// Icarus smoke test of pb_requant: 32 hand-checked vectors (each value worked out on paper and
// confirmed with pb_requant() in C), fed back-to-back and then one at a time; valid_o must follow
// valid_i exactly 8 cycles later. Prints "# tb_requant_iv: P passed, F failed" (one case per vector,
// plus reset and latency). Built with -DPB_NETLIST it tests the iCE40 netlist from Yosys instead.
// Simulation only (initial blocks, delays): iverilog -g2012 tb_requant_iv.sv pb_requant.sv; vvp.

`timescale 1ns / 1ps
`default_nettype none

module tb_requant_iv;

`ifdef PB_NETLIST
  localparam NAME = "tb_requant_net";  // Icarus 11 has no `localparam string`
`else
  localparam NAME = "tb_requant_iv";
`endif
  localparam int LATENCY = 8;
  localparam int NV = 32;        // vectors
  localparam int NC = 512;       // cycles recorded

  logic        clk_i = 1'b0;
  logic        rst_ni = 1'b0;
  logic        valid_i = 1'b0;
  logic [31:0] acc_i = 32'd0, bias_i = 32'd0, mult_i = 32'd0;
  logic [7:0]  zp_i = 8'd0, lo_i = 8'd0, hi_i = 8'd0;
  logic        valid_o;
  logic [7:0]  y_o;

  pb_requant dut (
    .clk_i(clk_i), .rst_ni(rst_ni), .valid_i(valid_i), .acc_i(acc_i), .bias_i(bias_i), .mult_i(mult_i),
    .zp_i(zp_i), .lo_i(lo_i), .hi_i(hi_i), .valid_o(valid_o), .y_o(y_o)
  );

  always #5 clk_i = ~clk_i;

  // ---- the vectors: y = clamp(zp + rne(f32(f32(acc + bias) * m)), lo, hi) ----
  logic [31:0] v_acc [0:NV-1];
  logic [31:0] v_bias [0:NV-1];
  logic [31:0] v_mult [0:NV-1];
  logic [7:0]  v_zp [0:NV-1];
  logic [7:0]  v_lo [0:NV-1];
  logic [7:0]  v_hi [0:NV-1];
  logic [7:0]  v_want [0:NV-1];
  int          v_fails [0:NV-1];
  int          nv = 0;

  task automatic vec(input int acc, input int bias, input logic [31:0] mult, input int zp,
                     input int lo, input int hi, input int want);
    v_acc[nv]   = acc;
    v_bias[nv]  = bias;
    v_mult[nv]  = mult;
    v_zp[nv]    = zp[7:0];
    v_lo[nv]    = lo[7:0];
    v_hi[nv]    = hi[7:0];
    v_want[nv]  = want[7:0];
    v_fails[nv] = 0;
    nv++;
  endtask

  initial begin
    //   acc            bias           mult           zp    lo    hi   want
    vec(100,           0,             32'h3E80_0000,   3, -128,  127,   28);  // 100 * 0.25 = 25, + 3
    vec(12000,         345,           32'h3A80_0000,   0, -128,  127,   12);  // 12345 / 1024 = 12.06
    vec(7,             0,             32'h3F00_0000,  -5, -128,  127,   -1);  // 3.5 -> 4 (tie to even), - 5
    vec(10,            -8,            32'h3E80_0000,   0, -128,  127,    0);  // a = 2: 0.5 -> 0 (tie to even)
    vec(6,             0,             32'h3E80_0000,   0, -128,  127,    2);  // 1.5 -> 2
    vec(-10,           0,             32'h3E80_0000,   0, -128,  127,   -2);  // -2.5 -> -2
    vec(32'h7FFF_FFFF, 1,             32'h3000_0000,   0, -128,  127,   -1);  // wraps to -2^31; * 2^-31 = -1
    vec(32'h8000_0000, -1,            32'h3000_0000,   0, -128,  127,    1);  // wraps to 2^31-1, f32 = 2^31; * 2^-31
    vec(32'h4000_0000, 32'h4000_0000, 32'h2FC0_0000,  10, -128,  127,    9);  // wraps to -2^31; * 1.5*2^-32 = -0.75 -> -1
    vec(16777217,      0,             32'h3300_0000,   0, -128,  127,    0);  // f32(2^24+1) = 2^24; * 2^-25 = 0.5 -> 0
    vec(16777219,      0,             32'h3300_0000,   0, -128,  127,    1);  // f32(2^24+3) = 2^24+4: 0.5+2^-23 -> 1
    vec(5,             0,             32'h3DCC_CCCD,   0, -128,  127,    0);  // 5 * 0.1f: f32 0.5 -> 0 (exact: 1)
    vec(5,             0,             32'h3F33_3333, -100, -128, 127,  -96);  // 5 * 0.7f: f32 3.5 -> 4 (exact: 3)
    vec(3,             0,             32'h3F55_5556,   0, -128,  127,    2);  // 3 * 0.8333334f: f32 2.5 -> 2
    vec(32'h7FFF_FFFF, 0,             32'h0000_0000,   7, -128,  127,    7);  // m = +0: zp
    vec(32'h8000_0000, 0,             32'h007F_FFFF,  -3, -128,  127,   -3);  // largest subnormal m: 0
    vec(1,             0,             32'h0000_0001,   0, -128,  127,    0);  // smallest subnormal m: 0
    vec(32'h7FFF_FFFF, 0,             32'h0080_0000,   5, -128,  127,    5);  // 2^31 * 2^-126 -> 0
    vec(-1,            0,             32'h7F7F_FFFF,   0, -128,  127, -128);  // -FLT_MAX saturates
    vec(32'h7FFF_FFFF, 0,             32'h7F7F_FFFF, -128, -128, 127,  127);  // +inf saturates before zp
    vec(-3,            0,             32'h7180_0000, 127, -128,  127, -128);  // -3 * 2^100 saturates before zp
    vec(1000,          0,             32'h3F80_0000,   0,    5,    5,    5);  // lo = hi
    vec(-50,           0,             32'h3F00_0000, -20,  -20,  127,  -20);  // ReLU: -25 - 20 -> -20
    vec(50,            0,             32'h3F00_0000, -20,  -20,  127,    5);  // ReLU: 25 - 20 = 5
    vec(255,           0,             32'h3F80_0000, -128, -128, 127,  127);  // 255 - 128 = 127 exactly
    vec(-255,          0,             32'h3F80_0000, 127, -128,  127, -128);  // -255 + 127 = -128 exactly
    vec(0,             0,             32'h7F7F_FFFF,   9, -128,  127,    9);  // a = 0, FLT_MAX: zp
    vec(12,            -5,            32'h3F80_0000,   0, -128,    3,    3);  // a = 7, clamped to hi = 3
    vec(16777216,      0,             32'h3380_0000,   0, -128,  127,    1);  // 2^24 * 2^-24 = 1
    vec(1572864,       0,             32'h3580_0000,   0, -128,  127,    2);  // 3*2^19 * 2^-20 = 1.5 -> 2
    vec(32'h02FF_FFFF, 0,             32'h3300_0000,   0, -128,  127,    2);  // f32(3*2^24-1) = 3*2^24 (even); * 2^-25 = 1.5 -> 2
    vec(32'h7FFF_FF80, 0,             32'h3580_0000, -128, -128, 127,  127);  // (2^31-2^7) * 2^-20 = 2048-2^-13: saturates, 1024-128
  end

  // ---- clocking: inputs change after the falling edge, outputs are checked after the next one ----
  int cycle = 0;                 // cycles completed; outputs belong to cycle `cycle`
  int sent [0:NC-1];             // vector sampled at the edge ending each cycle, -1 for none
  int latency_fails = 0, reset_fails = 0;

  task automatic step(input int idx, input logic rst_n);
    rst_ni  = rst_n;
    valid_i = (idx >= 0);
    if (idx >= 0) begin
      acc_i  = v_acc[idx];
      bias_i = v_bias[idx];
      mult_i = v_mult[idx];
      zp_i   = v_zp[idx];
      lo_i   = v_lo[idx];
      hi_i   = v_hi[idx];
    end else begin
      acc_i  = 32'hDEAD_BEEF;    // ignored while valid_i is low
      mult_i = 32'hFFFF_FFFF;
    end
    @(posedge clk_i);
    sent[cycle] = (rst_n && idx >= 0) ? idx : -1;
    cycle++;
    @(negedge clk_i);
    check();
  endtask

  task automatic check;
    int idx;
    idx = (cycle >= LATENCY) ? sent[cycle - LATENCY] : -1;
    if (valid_o !== (idx >= 0)) begin
      if (latency_fails++ == 0)
        $display("FAIL latency: cycle %0d: valid_o = %b, expected %b", cycle, valid_o, idx >= 0);
    end else if (idx >= 0 && y_o !== v_want[idx]) begin
      v_fails[idx] = v_fails[idx] + 1;  // not v_fails[idx]++: Icarus 11 miscompiles ++ on an array word
      if (v_fails[idx] == 1)
        $display("FAIL vector %0d: cycle %0d: acc %0d, bias %0d, mult %h, zp %0d, lo %0d, hi %0d: got %0d, expected %0d",
                 idx, cycle, $signed(v_acc[idx]), $signed(v_bias[idx]), v_mult[idx], $signed(v_zp[idx]),
                 $signed(v_lo[idx]), $signed(v_hi[idx]), $signed(y_o), $signed(v_want[idx]));
    end
  endtask

  int passed = 0, failed = 0;

  initial begin
    @(negedge clk_i);
    for (int i = 0; i < 3; i++) begin
      step(0, 1'b0);                                          // valid_i high during reset: ignored
      if (valid_o !== 1'b0) reset_fails++;
    end
    for (int i = 0; i < LATENCY + 1; i++) begin
      step(-1, 1'b1);
      if (valid_o !== 1'b0) reset_fails++;
    end
    for (int i = 0; i < NV; i++) step(i, 1'b1);              // back-to-back
    for (int i = 0; i < LATENCY; i++) step(-1, 1'b1);
    for (int i = 0; i < NV; i++) begin                        // one at a time, gaps of 0 .. 4 cycles
      step(i, 1'b1);
      for (int g = 0; g < i % 5; g++) step(-1, 1'b1);
    end
    for (int i = 0; i < LATENCY + 1; i++) step(-1, 1'b1);

    for (int i = 0; i < NV; i++) begin
      if (v_fails[i] == 0) passed++; else failed++;
    end
    if (reset_fails == 0) passed++; else begin failed++; $display("FAIL reset: valid_o high during/after reset"); end
    if (latency_fails == 0) passed++; else failed++;
    $display("%s: %0d cycles, %0d vectors x 2", NAME, cycle, NV);
    $display("# %s: %0d passed, %0d failed", NAME, passed, failed);
    if (failed != 0) $fatal(1, "%s: %0d failed", NAME, failed);
    $finish;
  end

endmodule

`default_nettype wire
