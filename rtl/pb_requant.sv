// SPDX-License-Identifier: Apache-2.0
// One requantization lane: y = clamp(zp + sat(rne(f32(f32(acc + bias) * m))), lo, hi), bit-exact
// with pb_requant() (common/requant.c, docs/arithmetic.md), fully pipelined with a latency of 4.
//
// Timing: inputs sampled at the clock edge ending cycle u appear on y_o/valid_o in cycle u+4,
// straight from the registers of stage 4. One new input per cycle.
// Reset: rst_ni is active low and asynchronous (assertion takes effect at once; release it
// synchronously to clk_i). It clears only the valid bits; the datapath registers are not reset,
// so y_o is meaningful only while valid_o is high.
//
// Stages (the step numbers are those of common/requant.c and docs/arithmetic.md):
//   1  a = acc + bias (wraps); steps 0, 1, 3: zero test, sign and magnitude of a, unpack m
//   2  step 2: f32(a): clz (priority encoder), left-align, round to 24 bits (RNE), renormalize
//   3  step 4: 24 x 24 -> 48-bit product (Karatsuba: three 13 x 13 multiplies); exponent sum
//   4  steps 5-7: f32() of the product, rne() to an integer, saturate, sign, + zp, clamp
//
// Exponents are kept biased by +127 (the binary32 bias), so they are unsigned: the product's
// exponent x (docs/arithmetic.md step 4) is carried as xb = x + 127 = e_a + exp(m) + prod[47].

`default_nettype none

module pb_requant #(
  // 1: zp_i, lo_i and hi_i are used in the last stage directly, so the caller must hold them
  // while values are in flight (pb_ld_unit does: CONFIG never runs beside an ACTIVATE); saves
  // three stages of 24 registers. 0: they are sampled with valid_i like the other inputs.
  parameter int HOLD_CFG = 0
) (
  input  logic        clk_i,
  input  logic        rst_ni,   // active-low asynchronous reset of the valid pipeline
  input  logic        valid_i,
  input  logic [31:0] acc_i,    // int32 accumulator
  input  logic [31:0] bias_i,   // int32 bias, added with wrap-around
  input  logic [31:0] mult_i,   // IEEE binary32 bits, sign clear and finite (checked elsewhere)
  input  logic [7:0]  zp_i,     // int8 zero point
  input  logic [7:0]  lo_i,     // int8 lower clamp, lo <= hi
  input  logic [7:0]  hi_i,     // int8 upper clamp
  output logic        valid_o,
  output logic [7:0]  y_o       // int8 result
);

  // xb = x + 127 limits (x = exponent of the product's top bit, docs/arithmetic.md step 5).
  localparam logic [8:0] XB_SAT  = 9'd137;  // x >= 10: |r| saturates to 1024 (step 5a)
  localparam logic [8:0] XB_HALF = 9'd126;  // x >= -1: round (step 5b); below: r = 0 (step 5c)
  localparam logic [8:0] XB_RNE  = 9'd150;  // rne() shift k = 23 - x = 150 - xb, 14 .. 24
  localparam logic [10:0] SAT    = 11'd1024;

  // ---------------------------------------------------------------------------------------------
  // Stage 1: a = acc + bias; steps 0, 1, 3.
  // ---------------------------------------------------------------------------------------------
  logic [31:0] a;         // int32 sum, wrapped
  logic        zero1_d;   // step 0: a == 0, or m is +0 or subnormal (exponent field 0) -> r = 0
  logic        neg1_d;    // step 1: a < 0
  logic [31:0] mag1_d;    // step 1: |a|, 1 .. 2^31 (|INT32_MIN| = 2^31 fits unsigned)
  logic [23:0] sig_m1_d;  // step 3: 1.frac, 2^23 .. 2^24-1
  logic [7:0]  exp_m1_d;  // step 3: biased exponent, e_m + 127, 1 .. 254
  logic        unused_mult_sign;  // mult_i[31] is 0 by contract (pb_requant_mult_ok())

  always_comb begin
    a        = acc_i + bias_i;
    zero1_d  = (a == 32'd0) || (mult_i[30:23] == 8'd0);
    neg1_d   = a[31];
    mag1_d   = a[31] ? (32'd0 - a) : a;
    sig_m1_d = {1'b1, mult_i[22:0]};
    exp_m1_d = mult_i[30:23];
    unused_mult_sign = mult_i[31];
  end

  logic        v1_q;
  logic        zero1_q, neg1_q;
  logic [31:0] mag1_q;
  logic [23:0] sig_m1_q;
  logic [7:0]  exp_m1_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      v1_q <= 1'b0;
    end else begin
      v1_q <= valid_i;
    end
  end

  always_ff @(posedge clk_i) begin
    if (valid_i) begin  // data registers load only with a valid row
      zero1_q  <= zero1_d;
      neg1_q   <= neg1_d;
      mag1_q   <= mag1_d;
      sig_m1_q <= sig_m1_d;
      exp_m1_q <= exp_m1_d;
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Stage 2: step 2, f32(a) = sig_a * 2^(e_a - 23).
  //   lz = clz(mag); sig_a = shr_rne(mag << lz, 8); e_a = 31 - lz; carry out -> 2^23, e_a + 1.
  // ---------------------------------------------------------------------------------------------
  logic [4:0]  lz;        // leading zeros of mag (0 when mag == 0; then zero1_q is set anyway)
  logic [31:0] norm;      // mag << lz, bit 31 set
  logic        rnd_a;     // guard & (sticky | lsb) of the 8 bits rounded away
  logic [24:0] sig_a_r;   // rounded, 2^23 .. 2^24 (2^24 = carry out)
  logic [23:0] sig_a2_d;  // 2^23 .. 2^24-1
  logic [5:0]  e_a2_d;    // 0 .. 31

  // Priority encoder: the highest set bit wins because it is visited last.
  always_comb begin
    lz = 5'd0;
    for (int i = 0; i < 32; i++) begin
      if (mag1_q[i]) begin
        lz = 5'd31 - i[4:0];
      end
    end
  end

  always_comb begin
    norm    = mag1_q << lz;
    rnd_a   = norm[7] & ((|norm[6:0]) | norm[8]);
    sig_a_r = {1'b0, norm[31:8]} + {24'd0, rnd_a};
    if (sig_a_r[24]) begin
      sig_a2_d = 24'h80_0000;
      e_a2_d   = 6'd32 - {1'b0, lz};
    end else begin
      sig_a2_d = sig_a_r[23:0];
      e_a2_d   = 6'd31 - {1'b0, lz};
    end
  end

  logic        v2_q;
  logic        zero2_q, neg2_q;
  logic [23:0] sig_a2_q, sig_m2_q;
  logic [5:0]  e_a2_q;
  logic [7:0]  exp_m2_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      v2_q <= 1'b0;
    end else begin
      v2_q <= v1_q;
    end
  end

  always_ff @(posedge clk_i) begin
    if (v1_q) begin  // data registers load only with a valid row
      zero2_q  <= zero1_q;
      neg2_q   <= neg1_q;
      sig_a2_q <= sig_a2_d;
      sig_m2_q <= sig_m1_q;
      e_a2_q   <= e_a2_d;
      exp_m2_q <= exp_m1_q;
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Stage 3: step 4, prod = sig_a * sig_m in [2^46, 2^48); exponent sum e_a + e_m + 127.
  //   Karatsuba on 12-bit halves, a = a1 2^12 + a0, m = m1 2^12 + m0:
  //   prod = a1 m1 2^24 + ((a1 + a0)(m1 + m0) - a1 m1 - a0 m0) 2^12 + a0 m0.
  //   Three multiplies of at most 13 x 13 bits instead of one 24 x 24: each fits one iCE40
  //   SB_MAC16 or ECP5 MULT18X18D (a 24 x 24 multiply takes four), for about 100 adder LUTs.
  // ---------------------------------------------------------------------------------------------
  logic [47:0] prod3_d;
  logic [8:0]  xs3_d;     // e_a + exp(m): xb without the +1 for prod[47], 1 .. 285
  logic [12:0] ka_s, km_s;             // a1 + a0, m1 + m0
  logic [23:0] kp_hi, kp_lo;           // a1 m1, a0 m0
  logic [25:0] kp_mid;                 // (a1 + a0)(m1 + m0)
  logic [25:0] k_cross;                // a1 m0 + a0 m1 < 2^25

  always_comb begin
    ka_s    = {1'b0, sig_a2_q[23:12]} + {1'b0, sig_a2_q[11:0]};
    km_s    = {1'b0, sig_m2_q[23:12]} + {1'b0, sig_m2_q[11:0]};
    kp_hi   = {12'd0, sig_a2_q[23:12]} * {12'd0, sig_m2_q[23:12]};
    kp_lo   = {12'd0, sig_a2_q[11:0]} * {12'd0, sig_m2_q[11:0]};
    kp_mid  = {13'd0, ka_s} * {13'd0, km_s};
    k_cross = kp_mid - {2'd0, kp_hi} - {2'd0, kp_lo};
    prod3_d = {kp_hi, kp_lo} + {10'd0, k_cross, 12'd0};
    xs3_d   = {3'd0, e_a2_q} + {1'b0, exp_m2_q};
  end

  logic        v3_q;
  logic        zero3_q, neg3_q;
  logic [47:0] prod3_q;
  logic [8:0]  xs3_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      v3_q <= 1'b0;
    end else begin
      v3_q <= v2_q;
    end
  end

  always_ff @(posedge clk_i) begin
    if (v2_q) begin  // data registers load only with a valid row
      zero3_q <= zero2_q;
      neg3_q  <= neg2_q;
      prod3_q <= prod3_d;
      xs3_q   <= xs3_d;
    end
  end

  // zp, lo, hi for stage 4: sampled with the data (three register stages) or held by the caller
  logic [7:0] zp3_q, lo3_q, hi3_q;
  if (HOLD_CFG != 0) begin : g_cfg_held
    assign zp3_q = zp_i;
    assign lo3_q = lo_i;
    assign hi3_q = hi_i;
  end else begin : g_cfg_pipe
    logic [23:0] cfg1_q, cfg2_q, cfg3_q;
    always_ff @(posedge clk_i) begin
      if (valid_i) cfg1_q <= {zp_i, lo_i, hi_i};
      if (v1_q)    cfg2_q <= cfg1_q;
      if (v2_q)    cfg3_q <= cfg2_q;
    end
    assign {zp3_q, lo3_q, hi3_q} = cfg3_q;
  end

  // ---------------------------------------------------------------------------------------------
  // Stage 4: steps 5-7.
  //   top = 47 or 46 (prod[47]); xb = x + 127.
  //   5a x >= 10: r = 1024.  5c x <= -2: r = 0.
  //   5b sig_p = shr_rne(prod, top - 23) (25 bits, may be 2^24); r = shr_rne(sig_p, 23 - x).
  //   6  r = -r if neg.  7  y = zp + r, then y = lo if y < lo, then y = hi if y > hi.
  // ---------------------------------------------------------------------------------------------
  logic [8:0]  xb;        // x + 127
  logic [23:0] pq;        // prod >> (top - 23)
  logic        rnd_p;     // its rounding increment
  logic [24:0] sig_p;     // f32(|product|) significand, 2^23 .. 2^24
  logic [8:0]  j9;        // 136 - xb = k - 14, with k = 23 - x = 14 .. 24 when used (step 5b)
  logic [3:0]  j;         // 0 .. 10 when used
  logic [10:0] rq;        // sig_p >> k = sig_p[24:14] >> j
  logic [10:0] gt;        // sig_p[23:13]: the guard bit of shift k is gt[j]
  logic [10:0] st;        // st[i] = |sig_p[12+i:0]: the bits below guard bit gt[i] (sticky)
  logic        rnd_r;
  logic [10:0] r_round;   // rne(), 0 .. 1024
  logic [10:0] r_mag;     // |r| after steps 5a/5c and step 0
  logic signed [11:0] r_s;    // step 6, -1024 .. 1024
  logic signed [11:0] y_s;    // zp + r, -1152 .. 1151
  logic signed [11:0] lo_s, hi_s, y_lo;
  logic [7:0]  y4_d;
  logic [4:0]  unused_j9;     // j9[8:4] are 0 whenever j is used; kept whole for clarity

  always_comb begin
    xb = xs3_q + {8'd0, prod3_q[47]};

    // f32() of the product: keep the top 24 bits, round away top - 23 (24 or 23) bits RNE.
    if (prod3_q[47]) begin
      pq    = prod3_q[47:24];
      rnd_p = prod3_q[23] & ((|prod3_q[22:0]) | prod3_q[24]);
    end else begin
      pq    = prod3_q[46:23];
      rnd_p = prod3_q[22] & ((|prod3_q[21:0]) | prod3_q[23]);
    end
    sig_p = {1'b0, pq} + {24'd0, rnd_p};

    // rne() to an integer: shr_rne(sig_p, k), k = 23 - x. k is only meaningful for
    // XB_HALF <= xb < XB_SAT (14 .. 24); otherwise r_round is not used. Only those eleven shifts
    // are built: j = k - 14 selects the 11-bit quotient, the guard bit and the sticky bits.
    j9      = XB_RNE - 9'd14 - xb;
    j       = j9[3:0];
    rq      = sig_p[24:14] >> j;
    gt      = sig_p[23:13];
    for (int i = 0; i < 11; i++) st[i] = |(sig_p[23:0] & ((24'd1 << (13 + i)) - 24'd1));  // |sig_p[12+i:0]
    rnd_r   = gt[j] & (st[j] | rq[0]);
    r_round = rq + {10'd0, rnd_r};

    if (zero3_q || (xb < XB_HALF)) begin
      r_mag = 11'd0;                    // step 0, step 5c
    end else if (xb >= XB_SAT) begin
      r_mag = SAT;                      // step 5a
    end else begin
      r_mag = r_round;                  // step 5b
    end

    r_s  = neg3_q ? -$signed({1'b0, r_mag}) : $signed({1'b0, r_mag});
    y_s  = {{4{zp3_q[7]}}, zp3_q} + r_s;
    lo_s = {{4{lo3_q[7]}}, lo3_q};
    hi_s = {{4{hi3_q[7]}}, hi3_q};
    y_lo = (y_s < lo_s) ? lo_s : y_s;
    y4_d = (y_lo > hi_s) ? hi3_q : y_lo[7:0];

    unused_j9    = j9[8:4];
  end

  logic       v4_q;
  logic [7:0] y4_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      v4_q <= 1'b0;
    end else begin
      v4_q <= v3_q;
    end
  end

  always_ff @(posedge clk_i) begin
    if (v3_q) begin  // data registers load only with a valid row
      y4_q <= y4_d;
    end
  end

  assign valid_o = v4_q;
  assign y_o     = y4_q;

endmodule

`default_nettype wire
