// SPDX-License-Identifier: Apache-2.0
// One requantization lane: y = clamp(zp + sat(rne(f32(f32(acc + bias) * m))), lo, hi), bit-exact
// with pb_requant() (common/requant.c, docs/arithmetic.md), fully pipelined with a latency of 8.
//
// Timing: inputs sampled at the clock edge ending cycle u appear on y_o/valid_o in cycle u+8,
// straight from the registers of stage 8. One new input per cycle.
// Reset: rst_ni is active low and asynchronous (assertion takes effect at once; release it
// synchronously to clk_i). It clears only the valid bits; the datapath registers are not reset,
// so y_o is meaningful only while valid_o is high.
//
// Stages (the step numbers are those of common/requant.c and docs/arithmetic.md). Each stage is
// at most one carry chain deep plus a few LUT levels, sized for 30 MHz on an iCE40 UP5K:
//   1  a = acc + bias (wraps); unpack m (step 3)
//   2  steps 0, 1: zero test; sign; |a| = (a ^ s) + s; lzx = clz(a ^ s) beside the incrementer
//   3  step 2: left-align |a| by lzx (barrel shift); exponent sum xs = e_a + exp(m)
//   4  step 2: round to 24 bits (RNE) as a 12-bit high half and a 13-bit low half (no carry
//      across), the Karatsuba sums a1 + a0, m1 + m0; the range flags and shift index from xs
//   5  step 4: the three 13 x 13 multiplies only (registers before and after them: SB_MAC16 /
//      MULT18X18D input and output registers)
//   6  step 4: the two Karatsuba subtractions
//   7  step 4: prod = the 48-bit sum; steps 5b, 6 read from prod: quotient, guard, sticky bits
//   8  steps 5b-7: the rounding increment, saturation, sign, + zp in one adder, clamp
//
// Exponents are kept biased by +127 (the binary32 bias), so they are unsigned: the product's
// exponent x (docs/arithmetic.md step 4) is xb - 127 with xb = x + 127 = xs + prod[47].
//
// Step 2 without renormalization: f32(a) = sig_a * 2^(e_a - 23), e_a = 31 - clz(|a|), sig_a in
// [2^23, 2^24]; sig_a = 2^24 (the rounding carried out) is kept as it is instead of 2^23 with
// e_a + 1: the product is the same number and prod[47] accounts for it. The count lzx is taken
// from a ^ s (= |a| - 1 when a < 0) so that it does not wait for the incrementer; it is one too
// large exactly when |a| is a power of two, 2^k, and then |a| << lzx overflows to 0: that case is
// exact, sig_a = 2^24 and e_a = 31 - lzx = k - 1 (lzx = 32 for a = -1).
//
// Steps 5b and 6 as one rounding: with D = 173 - xs = k + t (k = 23 - x the rne() shift, t = 23 +
// prod[47] the f32() shift), sig_p = shr_rne(prod, t) and r = shr_rne(sig_p, k) give
// r = Q + inc with Q = prod >> D, g = prod[D-1], M = prod[D-2:t], and with rnd_p the f32()
// rounding increment (guard prod[t-1], sticky |prod[t-2:0], lsb prod[t]):
//   inc = rnd_p ? (M all ones ? g | Q[0] : g) : g & (M != 0 | Q[0]).

`default_nettype none

module pb_requant #(
  // 1: zp_i, lo_i and hi_i are used in the last stage directly, so the caller must hold them
  // while values are in flight (pb_ld_unit does: CONFIG never runs beside an ACTIVATE); saves
  // seven stages of 24 registers. 0: they are sampled with valid_i like the other inputs.
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

  localparam int LAT = 8;

  // xs limits (xb = xs + prod[47] = x + 127, docs/arithmetic.md step 5):
  //   x >= 10 (saturate, 5a):  xb >= 137;  x >= -1 (round, 5b): xb >= 126, else r = 0 (5c).
  localparam logic [8:0] XB_SAT  = 9'd137;
  localparam logic [8:0] XB_HALF = 9'd126;
  localparam logic [8:0] XS_JD0  = 9'd136;  // jd = D - 37 = 136 - xs, 0 .. 11 when used
  localparam logic [10:0] SAT    = 11'd1024;

  // ---- valid pipeline ----
  logic [LAT:1] v_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      v_q <= '0;
    end else begin
      v_q <= {v_q[LAT-1:1], valid_i};
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Stage 1: a = acc + bias (wraps); steps 0, 1: zero test, sign s, x = a ^ s, |a| = x + s;
  //   lzx = clz(x), 32 for x == 0; unpack m (step 3).
  // ---------------------------------------------------------------------------------------------
  logic [31:0] a1;
  logic [31:0] x1;
  logic [5:0]  lzx1_d;
  logic        unused_mult_sign;  // mult_i[31] is 0 by contract (pb_requant_mult_ok())
  assign unused_mult_sign = mult_i[31];

  always_comb begin
    a1 = acc_i + bias_i;
    x1 = a1 ^ {32{a1[31]}};
    lzx1_d = 6'd32;  // priority encoder: the highest set bit wins because it is visited last
    for (int i = 0; i < 32; i++) begin
      if (x1[i]) lzx1_d = 6'd31 - 6'(i);
    end
  end

  logic        zero1_q, neg1_q;
  logic [31:0] mag1_q;    // |a|, 0 .. 2^31
  logic [5:0]  lzx1_q;
  logic [22:0] fm1_q;     // frac(m)
  logic [7:0]  em1_q;     // exp(m), biased

  always_ff @(posedge clk_i) begin
    if (valid_i) begin  // data registers load only with a valid row
      zero1_q <= (a1 == 32'd0) || (mult_i[30:23] == 8'd0);  // step 0
      neg1_q  <= a1[31];
      mag1_q  <= x1 + {31'd0, a1[31]};
      lzx1_q  <= lzx1_d;
      fm1_q   <= mult_i[22:0];
      em1_q   <= mult_i[30:23];
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Stage 2: step 2, left-align: norm = |a| << lzx (0 when |a| is a power of two and a < 0);
  //   xs = e_a + exp(m) with e_a = 31 - lzx (-1 .. 31), 0 .. 285 when exp(m) >= 1.
  // ---------------------------------------------------------------------------------------------
  logic        zero2_q, neg2_q;
  logic [31:0] norm2_q;
  logic [8:0]  xs2_q;
  logic [22:0] fm2_q;

  always_ff @(posedge clk_i) begin
    if (v_q[1]) begin
      zero2_q <= zero1_q;
      neg2_q  <= neg1_q;
      norm2_q <= mag1_q << lzx1_q;
      xs2_q   <= {1'b0, em1_q} + 9'd31 - {3'd0, lzx1_q};
      fm2_q   <= fm1_q;
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Stage 3: step 2, round: sig_a = norm[31:8] + rnd = a1 2^12 + a0 with a1 = norm[31:20] and
  //   a0 = norm[19:8] + rnd (13 bits, up to 2^12); norm == 0 (the power of two) is sig_a = 2^24.
  //   Karatsuba sums ka = a1 + a0, km = m1 + m0 (m = m1 2^12 + m0). From xs: the range flags
  //   (with p = prod[47]: saturate if xs + p >= 137, round if xs + p >= 126) and jd = 136 - xs.
  // ---------------------------------------------------------------------------------------------
  logic        pow2_3;    // |a| = 2^k, a < 0: norm overflowed to 0 (or zero: r = 0 anyway)
  logic        rnd3;
  logic [11:0] ah3, al3;
  logic [13:0] ka3_t;     // {a1, 1} + {a0, rnd}: a1 + a0 + rnd in bits 13:1, one carry chain
  logic [11:0] m1_3, m0_3;
  logic        unused_ka3;   // the carry-in bit of the adder
  assign unused_ka3 = ka3_t[0];

  always_comb begin
    pow2_3 = !norm2_q[31];
    rnd3   = pow2_3 || (norm2_q[7] && ((|norm2_q[6:0]) || norm2_q[8]));
    ah3    = pow2_3 ? 12'hfff : norm2_q[31:20];
    al3    = pow2_3 ? 12'hfff : norm2_q[19:8];
    ka3_t  = {1'b0, ah3, 1'b1} + {1'b0, al3, rnd3};
    m1_3   = {1'b1, fm2_q[22:12]};
    m0_3   = fm2_q[11:0];
  end

  // The operands of the multiplies load every cycle, with no enable, so that synthesis can put
  // them in the multiplier blocks' input registers (likewise the products in stage 4).
  logic [11:0] ka1_q, km1_q;   // a1, m1
  logic [12:0] ka0_q;          // a0 + rnd, 0 .. 2^12
  logic [11:0] km0_q;          // m0
  logic [12:0] kas_q, kms_q;   // a1 + a0 + rnd, m1 + m0
  logic        zero3_q, neg3_q;
  logic        ge137_3_q, ge136_3_q, ge126_3_q, ge125_3_q;
  logic [3:0]  jd3_q;
  logic [8:0]  jd3_d;
  logic [4:0]  unused_jd;      // jd3_d[8:4] are 0 whenever jd is used
  assign jd3_d     = XS_JD0 - xs2_q;
  assign unused_jd = jd3_d[8:4];

  always_ff @(posedge clk_i) begin
    ka1_q <= ah3;
    ka0_q <= {1'b0, al3} + {12'd0, rnd3};
    kas_q <= ka3_t[13:1];
    km1_q <= m1_3;
    km0_q <= m0_3;
    kms_q <= {1'b0, m1_3} + {1'b0, m0_3};
  end

  always_ff @(posedge clk_i) begin
    if (v_q[2]) begin
      zero3_q   <= zero2_q;
      neg3_q    <= neg2_q;
      ge137_3_q <= xs2_q >= XB_SAT;
      ge136_3_q <= xs2_q >= XB_SAT - 9'd1;
      ge126_3_q <= xs2_q >= XB_HALF;
      ge125_3_q <= xs2_q >= XB_HALF - 9'd1;
      jd3_q     <= jd3_d[3:0];
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Stage 4: step 4, the three multiplies: hi = a1 m1, lo = a0 m0, mid = (a1 + a0)(m1 + m0).
  // ---------------------------------------------------------------------------------------------
  logic [23:0] kph4_q, kpl4_q;  // a1 m1 < 2^24; a0 m0 <= 2^12 (2^12 - 1) < 2^24
  logic [25:0] kpm4_q;
  logic        zero4_q, neg4_q;
  logic        ge137_4_q, ge136_4_q, ge126_4_q, ge125_4_q;
  logic [3:0]  jd4_q;

  always_ff @(posedge clk_i) begin
    kph4_q <= {12'd0, ka1_q} * {12'd0, km1_q};
    kpl4_q <= 24'({11'd0, ka0_q} * {12'd0, km0_q});
    kpm4_q <= {13'd0, kas_q} * {13'd0, kms_q};
  end

  always_ff @(posedge clk_i) begin
    if (v_q[3]) begin
      zero4_q   <= zero3_q;
      neg4_q    <= neg3_q;
      ge137_4_q <= ge137_3_q;
      ge136_4_q <= ge136_3_q;
      ge126_4_q <= ge126_3_q;
      ge125_4_q <= ge125_3_q;
      jd4_q     <= jd3_q;
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Stage 5: step 4, prod = lo + 2^12 (t2 + t1) with t1 = mid - lo, t2 = hi 2^12 + lo[23:12] - hi
  //   (= hi 2^24 + lo + (mid - hi - lo) 2^12). The low 12 bits of prod are lo[11:0]: only their
  //   OR is kept. From jd: a one-hot select and the mask of M's variable part, bits 25 .. D-2.
  // ---------------------------------------------------------------------------------------------
  logic [25:0] t1_5_q;
  logic [35:0] t2_5_q;
  logic        slo5_q;           // |prod[11:0]
  logic [11:0] oh5_q;            // oh5_q[jd] = 1
  logic [46:25] mask5_q;         // bit b set for 25 <= b <= 35 + jd
  logic        zero5_q, neg5_q;
  logic        ge137_5_q, ge136_5_q, ge126_5_q, ge125_5_q;

  always_ff @(posedge clk_i) begin
    if (v_q[4]) begin
      t1_5_q  <= kpm4_q - {2'd0, kpl4_q};
      t2_5_q  <= {kph4_q, kpl4_q[23:12]} - {12'd0, kph4_q};
      slo5_q  <= |kpl4_q[11:0];
      for (int i = 0; i < 12; i++) oh5_q[i] <= (jd4_q == 4'(i));
      for (int b = 25; b <= 46; b++) mask5_q[b] <= (32'(jd4_q) + 32'd35 >= 32'(b));
      zero5_q   <= zero4_q;
      neg5_q    <= neg4_q;
      ge137_5_q <= ge137_4_q;
      ge136_5_q <= ge136_4_q;
      ge126_5_q <= ge126_4_q;
      ge125_5_q <= ge125_4_q;
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Stage 6: prod[47:12] = t2 + t1; with D = 37 + jd: Q = prod[D+10:D], g = prod[D-1],
  //   the OR and AND of prod[D-2:25]; the f32() rounding bits for t = 23 + prod[47].
  // ---------------------------------------------------------------------------------------------
  logic [47:0] prod6;
  logic [58:0] prod6_x;          // prod with zeros above bit 47 for the quotient select
  logic [10:0] q6;
  logic        g6, mor6, mand6;

  always_comb begin
    prod6   = {t2_5_q + {10'd0, t1_5_q}, 12'd0};
    prod6_x = {11'd0, prod6};
    q6 = '0;
    g6 = 1'b0;
    for (int j = 0; j < 12; j++) begin
      q6 = q6 | (prod6_x[37 + j +: 11] & {11{oh5_q[j]}});
      g6 = g6 | (prod6_x[36 + j] & oh5_q[j]);
    end
    mor6  = |(prod6[46:25] & mask5_q);
    mand6 = &(prod6[46:25] | ~mask5_q);
  end

  logic [10:0] q6_q;
  logic        g6_q, mor6_q, mand6_q;
  logic        p47_6_q, p24_6_q, p23_6_q, p22_6_q;
  logic        st22_6_q, st21_6_q;   // |prod[22:0], |prod[21:0]
  logic        zero6_q, neg6_q;
  logic        ge137_6_q, ge136_6_q, ge126_6_q, ge125_6_q;

  always_ff @(posedge clk_i) begin
    if (v_q[5]) begin
      q6_q      <= q6;
      g6_q      <= g6;
      mor6_q    <= mor6;
      mand6_q   <= mand6;
      p47_6_q   <= prod6[47];
      p24_6_q   <= prod6[24];
      p23_6_q   <= prod6[23];
      p22_6_q   <= prod6[22];
      st22_6_q  <= (|prod6[22:12]) || slo5_q;
      st21_6_q  <= (|prod6[21:12]) || slo5_q;
      zero6_q   <= zero5_q;
      neg6_q    <= neg5_q;
      ge137_6_q <= ge137_5_q;
      ge136_6_q <= ge136_5_q;
      ge126_6_q <= ge126_5_q;
      ge125_6_q <= ge125_5_q;
    end
  end

  // zp for stage 7, lo and hi for stage 8: sampled with the data (six and seven register stages)
  // or held by the caller
  logic [7:0] zp6_q, lo7_q, hi7_q;
  if (HOLD_CFG != 0) begin : g_cfg_held
    assign zp6_q = zp_i;
    assign lo7_q = lo_i;
    assign hi7_q = hi_i;
  end else begin : g_cfg_pipe
    logic [23:0] cfg_q [1:LAT-2];
    logic [15:0] lh7_q;
    always_ff @(posedge clk_i) begin
      if (valid_i) cfg_q[1] <= {zp_i, lo_i, hi_i};
      for (int s = 2; s <= LAT - 2; s++) begin
        if (v_q[s-1]) cfg_q[s] <= cfg_q[s-1];
      end
      if (v_q[LAT-2]) lh7_q <= cfg_q[LAT-2][15:0];
    end
    assign zp6_q = cfg_q[LAT-2][23:16];
    assign {lo7_q, hi7_q} = lh7_q;
  end

  // ---------------------------------------------------------------------------------------------
  // Stage 7: steps 5-7. rnd_p and inc (header); 5a xs + p >= 137: r = 1024; 5c xs + p < 126 or
  //   step 0: r = 0; else r = Q + inc. Steps 6 and 7 in one adder: y = zp + (Q' ^ s) + (s ^ inc')
  //   (= zp - Q' - inc' when s is set; Q' and inc' are Q and inc after 5a/5c).
  // ---------------------------------------------------------------------------------------------
  logic        mlo7, mones7, mor7;  // M's lowest bit prod[t], and M all ones / nonzero
  logic        rnd_p7, inc7, sat7, kill7, cin7;
  logic [10:0] qe7;
  logic [12:0] ys7_t;               // {zp, 1} + {Q' ^ s, cin}: the sum in bits 12:1
  logic        unused_ys7;          // the carry-in bit of the adder

  always_comb begin
    mlo7   = p47_6_q ? p24_6_q : p23_6_q;
    mor7   = mor6_q || p24_6_q || (!p47_6_q && p23_6_q);
    mones7 = mand6_q && p24_6_q && (p47_6_q || p23_6_q);
    rnd_p7 = p47_6_q ? (p23_6_q && (st22_6_q || mlo7)) : (p22_6_q && (st21_6_q || mlo7));
    inc7   = rnd_p7 ? (mones7 ? (g6_q || q6_q[0]) : g6_q) : (g6_q && (mor7 || q6_q[0]));
    sat7   = p47_6_q ? ge136_6_q : ge137_6_q;                        // step 5a
    kill7  = zero6_q || !(p47_6_q ? ge125_6_q : ge126_6_q);          // step 0, step 5c
    qe7    = kill7 ? 11'd0 : (sat7 ? SAT : q6_q);
    cin7   = neg6_q ^ (inc7 && !kill7 && !sat7);
    ys7_t  = {zp6_q[7], zp6_q[7], zp6_q[7], zp6_q[7], zp6_q, 1'b1}
             + {{1'b0, qe7} ^ {12{neg6_q}}, cin7};
    unused_ys7 = ys7_t[0];
  end

  logic signed [11:0] ys7_q;   // zp + r, -1152 .. 1151
  always_ff @(posedge clk_i) begin
    if (v_q[6]) begin
      ys7_q <= ys7_t[12:1];
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Stage 8: step 7, y = lo if y < lo, then y = hi if y > hi.
  // ---------------------------------------------------------------------------------------------
  logic signed [11:0] lo_s, hi_s;
  logic [7:0]  lo_sel;         // what y < lo gives: lo, or hi if lo > hi (lo <= hi by contract)
  logic [7:0]  y8_d;

  always_comb begin
    lo_s   = {{4{lo7_q[7]}}, lo7_q};
    hi_s   = {{4{hi7_q[7]}}, hi7_q};
    lo_sel = (lo_s > hi_s) ? hi7_q : lo7_q;
    if (ys7_q < lo_s) begin
      y8_d = lo_sel;
    end else if (ys7_q > hi_s) begin
      y8_d = hi7_q;
    end else begin
      y8_d = ys7_q[7:0];
    end
  end

  logic [7:0] y8_q;
  always_ff @(posedge clk_i) begin
    if (v_q[7]) begin
      y8_q <= y8_d;
    end
  end

  assign valid_o = v_q[LAT];
  assign y_o     = y8_q;

endmodule

`default_nettype wire
