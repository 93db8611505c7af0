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
//   1  a = acc + bias (wraps); step 1: sign s, x = a ^ s (= |a| - s); unpack m (step 3)
//   2  steps 0, 1, 2: zero test; |a| = x + s; beside it lzx = clz(x), a tree of 2:1 muxes
//   3  step 2: left-align |a| by lzx (barrel shift); exponent sum xs = e_a + exp(m)
//   4  step 2: round to 24 bits (RNE), 2^23 .. 2^24 in 25 bits, split as 9 + 16 bits; the
//      range flags and shift index from xs
//   5  step 4: the four multiplies (9 or 16 bits x 8 or 16 bits) alone, registers before and
//      after them (Yosys puts the products' registers inside the iCE40's SB_MAC16s)
//   6  step 4: prod[47:16] as the sum of the shifted products; a one-hot select and a mask
//      from the shift index
//   7  steps 5b, 6 read from prod: quotient Q, guard g, and for both f32() shifts t the OR and
//      AND of M and rnd_p (below)
//   8  steps 5-7: inc, saturation; sign + zp and the two clamp compares as three adders side by
//      side with one carry-in; the clamp
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
  parameter int HOLD_CFG = 0,
  // 1: mult_i is used directly where its fraction and exponent are needed (stages 2, 3, 4), so
  // the caller must hold it while values are in flight (pb_ld_unit does when every column has its
  // own lane); saves the 85 registers that carry it (31 + 31 + 23). 0: sampled with valid_i.
  parameter int HOLD_MULT = 0,
  // Multipliers the lane uses (docs/arithmetic.md): 3: sig_a x sig_m as three 13 x 13 (Karatsuba),
  // the left-alignment as a barrel shifter; 4: four multiplies (9 or 16 x 8 or 16 bits) instead,
  // fewer adders; 5: three, and the left-alignment's shift by 0 .. 15 as two 16 x 16 multiplies
  // by a power of two; 6: both (the fewest logic cells, for when multipliers are spare).
  parameter int MULS = 3
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

  // xs limits (xb = xs + prod[47] = x + 127, docs/arithmetic.md step 5). Saturation: sat()
  // limits r to 1024, but zp + r is then clamped to [lo, hi] within [-128, 127] with
  // -128 <= zp <= 127, so every |r| >= 256 gives the same y as 1024 (hi, or lo when negative):
  // the lane saturates r to 256 from x >= 8 on (products of 2^8 or more), and r <= 256 below.
  //   x >= 8 (saturate):  xb >= 135;  x >= -1 (round, 5b): xb >= 126, else r = 0 (5c).
  // Both as ranges of jd = D - 39 = 134 - xs (stage 4), which selects Q for 0 <= jd <= 9.
  localparam logic [8:0] XS_JD0  = 9'd134;
  localparam logic [8:0] SAT     = 9'd256;

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
  // Stage 1: a = acc + bias (wraps); step 1: sign s, x = a ^ s (|a| - s); unpack m (step 3).
  // ---------------------------------------------------------------------------------------------
  logic [31:0] a0;
  logic        unused_mult_sign;  // mult_i[31] is 0 by contract (pb_requant_mult_ok())
  assign a0 = acc_i + bias_i;
  assign unused_mult_sign = mult_i[31];

  logic        neg1_q;
  logic [31:0] x1_q;

  always_ff @(posedge clk_i) begin
    if (valid_i) begin  // data registers load only with a valid row
      neg1_q <= a0[31];
      x1_q   <= a0 ^ {32{a0[31]}};
    end
  end

  // m as stages 2, 3 and 4 see it: exp(m) (biased) in stages 2 and 3, frac(m) in stage 4; from
  // registers that carry it down the pipeline, or (HOLD_MULT) straight from the held input
  logic [7:0]  em1, em2;
  logic [22:0] fm3;
  if (HOLD_MULT != 0) begin : g_mult_held
    assign em1 = mult_i[30:23];
    assign em2 = mult_i[30:23];
    assign fm3 = mult_i[22:0];
  end else begin : g_mult_piped
    logic [22:0] fm1_q, fm2_q, fm3_q;
    logic [7:0]  em1_q, em2_q;
    always_ff @(posedge clk_i) begin
      if (valid_i) begin
        fm1_q <= mult_i[22:0];
        em1_q <= mult_i[30:23];
      end
      if (v_q[1]) begin
        fm2_q <= fm1_q;
        em2_q <= em1_q;
      end
      if (v_q[2]) fm3_q <= fm2_q;
    end
    assign em1 = em1_q;
    assign em2 = em2_q;
    assign fm3 = fm3_q;
  end

  // ---------------------------------------------------------------------------------------------
  // Stage 2: steps 0, 1: zero test (a == 0: x == 0 and s clear), |a| = x + s; lzx = clz(x), 32
  //   for x == 0, as a tree: each level merges two halves (zero flag, count) with one 2:1 mux.
  // ---------------------------------------------------------------------------------------------
  logic [15:0] lz_z1, lz_c1;          // 2-bit groups: all zero; count (0 .. 1) when not
  logic [7:0]  lz_z2;
  logic [15:0] lz_c2;                // lz_c2[2*i +: 2]: group i
  logic [3:0]  lz_z3;
  logic [11:0] lz_c3;
  logic [1:0]  lz_z4;
  logic [7:0]  lz_c4;
  logic [5:0]  lzx2_d;

  always_comb begin
    for (int i = 0; i < 16; i++) begin
      lz_z1[i] = !(x1_q[2*i+1] || x1_q[2*i]);
      lz_c1[i] = !x1_q[2*i+1];
    end
    for (int i = 0; i < 8; i++) begin
      lz_z2[i] = lz_z1[2*i+1] && lz_z1[2*i];
      lz_c2[2*i +: 2] = lz_z1[2*i+1] ? {1'b1, lz_c1[2*i]} : {1'b0, lz_c1[2*i+1]};
    end
    for (int i = 0; i < 4; i++) begin
      lz_z3[i] = lz_z2[2*i+1] && lz_z2[2*i];
      lz_c3[3*i +: 3] = lz_z2[2*i+1] ? {1'b1, lz_c2[4*i +: 2]} : {1'b0, lz_c2[4*i+2 +: 2]};
    end
    for (int i = 0; i < 2; i++) begin
      lz_z4[i] = lz_z3[2*i+1] && lz_z3[2*i];
      lz_c4[4*i +: 4] = lz_z3[2*i+1] ? {1'b1, lz_c3[6*i +: 3]} : {1'b0, lz_c3[6*i+3 +: 3]};
    end
    if (lz_z4[1] && lz_z4[0]) lzx2_d = 6'd32;
    else if (lz_z4[1])        lzx2_d = {2'b01, lz_c4[3:0]};
    else                      lzx2_d = {2'b00, lz_c4[7:4]};
  end

  logic        zero2_q, neg2_q;
  logic [31:0] mag2_q;    // |a|, 0 .. 2^31
  logic [5:0]  lzx2_q;

  always_ff @(posedge clk_i) begin
    if (v_q[1]) begin
      zero2_q <= (x1_q == 32'd0 && !neg1_q) || (em1 == 8'd0);  // step 0
      neg2_q  <= neg1_q;
      mag2_q  <= x1_q + {31'd0, neg1_q};
      lzx2_q  <= lzx2_d;
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Stage 3: step 2, left-align: norm = |a| << lzx (0 when |a| is a power of two and a < 0);
  //   xs = e_a + exp(m) with e_a = 31 - lzx (-1 .. 31), 0 .. 285 when exp(m) >= 1.
  // ---------------------------------------------------------------------------------------------
  //   MULS >= 5: the shift by 16 (lzx[4]) or all out (lzx[5]) with multiplexers, then by
  //   f = lzx[3:0] as two 16 x 16 multiplies by 2^f, of the high and of the low half (registered
  //   in the multiplier blocks, no enable); stage 4 ORs them. Else a barrel shifter.
  logic        zero3_q, neg3_q;
  logic [8:0]  xs3_q;
  logic [31:0] norm4;             // norm as stage 4 sees it

  if (MULS >= 5) begin : g_shift_mul
    logic [31:0] c3;              // |a| shifted by 16 lzx[4], 0 when lzx[5]
    logic [15:0] p2f3;            // 2^f
    logic [31:0] nsh3_q, nsl3_q;  // c[31:16] 2^f, c[15:0] 2^f
    logic [15:0] unused_nsh;      // the bits shifted out
    assign c3 = lzx2_q[5] ? 32'd0 : (lzx2_q[4] ? {mag2_q[15:0], 16'd0} : mag2_q);
    always_comb begin
      for (int i = 0; i < 16; i++) p2f3[i] = (lzx2_q[3:0] == 4'(i));
    end
    always_ff @(posedge clk_i) begin
      nsh3_q <= {16'd0, c3[31:16]} * {16'd0, p2f3};
      nsl3_q <= {16'd0, c3[15:0]} * {16'd0, p2f3};
    end
    assign norm4      = {nsh3_q[15:0] | nsl3_q[31:16], nsl3_q[15:0]};
    assign unused_nsh = nsh3_q[31:16];
  end else begin : g_shift_lut
    logic [31:0] norm3_q;
    always_ff @(posedge clk_i) begin
      if (v_q[2]) norm3_q <= mag2_q << lzx2_q;
    end
    assign norm4 = norm3_q;
  end

  always_ff @(posedge clk_i) begin
    if (v_q[2]) begin
      zero3_q <= zero2_q;
      neg3_q  <= neg2_q;
      xs3_q   <= {1'b0, em2} + 9'd31 - {3'd0, lzx2_q};
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Stages 4-6: sig_a, then prod = sig_a sig_m (step 4), as four multiplies (MULS = 4, 6) or
  //   three (Karatsuba: MULS = 3, 5). Out of them: prod7 = prod[47:12] (a sum finished in stage 7
  //   in the second case) and slo6, the OR of the bits below (the first case: prod7[15:12] = 0,
  //   and slo6 = |prod[15:0]).
  // Stage 4: step 2, round: pow2 = norm == 0 (the power of two; sig_a = 2^24), rnd. From xs: the
  //   range flags (with p = prod[47]: saturate if xs + p >= 135, round if xs + p >= 126, as two
  //   flags and jd below) and jd = 134 - xs.
  // ---------------------------------------------------------------------------------------------
  logic        pow2_4;    // |a| = 2^k, a < 0: norm overflowed to 0 (or zero: r = 0 anyway)
  assign pow2_4 = !norm4[31];
  logic [47:12] prod7;           // prod in stage 7
  logic        slo6_q;           // |prod[11:0] or |prod[15:0] (the sticky bits below prod7's)

  if (MULS == 4 || MULS == 6) begin : g_mul4
    // Stage 4: sig_a = {pow2, norm[31:8]} + rnd, 2^23 .. 2^24 in 25 bits (pow2: rnd = 0) as
    //   ah = sig_a[24:16], al = sig_a[15:0]; m = {1, frac(m)} as mh = m[23:16], ml = m[15:0].
    logic        rnd4;
    logic [24:0] sa4;
    assign rnd4 = norm4[7] && ((|norm4[6:0]) || norm4[8]);
    assign sa4  = {pow2_4, norm4[31:8]} + {24'd0, rnd4};

    // The operands of the multiplies load every cycle, with no enable, so that synthesis may put
    // them in the multiplier blocks (likewise the products in stage 5; Yosys 0.23 does so for
    // the products on the iCE40, as the SB_MAC16's pipeline registers).
    logic [8:0]  ah5_q;          // sig_a[24:16], 0 .. 2^8
    logic [15:0] al5_q;          // sig_a[15:0]
    logic [7:0]  mh5;            // m[23:16] (the hidden bit and frac(m)[22:16])
    logic [15:0] ml5;            // m[15:0]
    always_ff @(posedge clk_i) begin
      ah5_q <= sa4[24:16];
      al5_q <= sa4[15:0];
    end
    if (HOLD_MULT != 0) begin : g_mop_held
      assign mh5 = {1'b1, fm3[22:16]};
      assign ml5 = fm3[15:0];
    end else begin : g_mop_reg
      logic [7:0]  mh5_q;
      logic [15:0] ml5_q;
      always_ff @(posedge clk_i) begin
        mh5_q <= {1'b1, fm3[22:16]};
        ml5_q <= fm3[15:0];
      end
      assign mh5 = mh5_q;
      assign ml5 = ml5_q;
    end

    // Stage 5: the four multiplies: p3 = ah mh, p1 = ah ml, p2 = al mh, p0 = al ml.
    logic [16:0] p3_5;           // ah mh <= 2^8 (2^8 - 1) < 2^16
    logic [15:0] p3_5_q;
    logic [24:0] p1_5_q;         // ah ml
    logic [23:0] p2_5_q;         // al mh
    logic [31:0] p0_5_q;         // al ml
    logic        unused_p3;
    assign p3_5      = {8'd0, ah5_q} * {9'd0, mh5};
    assign unused_p3 = p3_5[16];
    always_ff @(posedge clk_i) begin
      p3_5_q <= p3_5[15:0];
      p1_5_q <= {16'd0, ah5_q} * {9'd0, ml5};
      p2_5_q <= {8'd0, al5_q} * {16'd0, mh5};
      p0_5_q <= {16'd0, al5_q} * {16'd0, ml5};
    end

    // Stage 6: prod = 2^32 p3 + 2^16 (p1 + p2) + p0 (< 2^48): prod[47:16] = {p3, p0[31:16]} +
    //   (p1 + p2) (one expression: Yosys 0.23 loses p2 when p1 + p2 alone goes into an SB_MAC16's
    //   adder); of prod[15:0] = p0[15:0] only their OR is kept (slo6 covers bits 15 .. 0 here).
    logic [31:0]  ph6;           // prod[47:16]
    logic [47:16] prod6_q;
    assign ph6 = {p3_5_q, p0_5_q[31:16]} + {7'd0, p1_5_q} + {8'd0, p2_5_q};
    always_ff @(posedge clk_i) begin
      if (v_q[5]) begin
        prod6_q <= ph6;
        slo6_q  <= |p0_5_q[15:0];
      end
    end
    assign prod7 = {prod6_q, 4'd0};   // prod[15:12] are in slo6
  end else begin : g_mul3
    // Stage 4: sig_a = norm[31:8] + rnd = a1 2^12 + a0 with a1 = norm[31:20] and a0 = norm[19:8]
    //   + rnd (13 bits, up to 2^12); pow2 is sig_a = 2^24 as a1 = 2^12 - 1, a0 = 2^12. Karatsuba
    //   sums ka = a1 + a0, km = m1 + m0 (m = m1 2^12 + m0).
    logic        rnd4;
    logic [11:0] ah4, al4;
    logic [13:0] ka4_t;          // {a1, 1} + {a0, rnd}: a1 + a0 + rnd in bits 13:1, one carry chain
    logic [11:0] m1_4, m0_4;
    logic        unused_ka4;     // the carry-in bit of the adder
    assign unused_ka4 = ka4_t[0];
    always_comb begin
      rnd4  = pow2_4 || (norm4[7] && ((|norm4[6:0]) || norm4[8]));
      ah4   = pow2_4 ? 12'hfff : norm4[31:20];
      al4   = pow2_4 ? 12'hfff : norm4[19:8];
      ka4_t = {1'b0, ah4, 1'b1} + {1'b0, al4, rnd4};
      m1_4  = {1'b1, fm3[22:12]};
      m0_4  = fm3[11:0];
    end

    // The operands of the multiplies load every cycle, with no enable (see g_mul4).
    logic [11:0] ka1_q, km1_q;   // a1, m1
    logic [12:0] ka0_q;          // a0 + rnd, 0 .. 2^12
    logic [11:0] km0_q;          // m0
    logic [12:0] kas_q, kms_q;   // a1 + a0 + rnd, m1 + m0
    always_ff @(posedge clk_i) begin
      ka1_q <= ah4;
      ka0_q <= {1'b0, al4} + {12'd0, rnd4};
      kas_q <= ka4_t[13:1];
      km1_q <= m1_4;
      km0_q <= m0_4;
      kms_q <= {1'b0, m1_4} + {1'b0, m0_4};
    end

    // Stage 5: the three multiplies: hi = a1 m1, lo = a0 m0, mid = (a1 + a0)(m1 + m0).
    logic [23:0] kph5_q, kpl5_q; // a1 m1 < 2^24; a0 m0 <= 2^12 (2^12 - 1) < 2^24
    logic [25:0] kpm5_q;
    always_ff @(posedge clk_i) begin
      kph5_q <= {12'd0, ka1_q} * {12'd0, km1_q};
      kpl5_q <= 24'({11'd0, ka0_q} * {12'd0, km0_q});
      kpm5_q <= {13'd0, kas_q} * {13'd0, kms_q};
    end

    // Stage 6: prod = lo + 2^12 (t2 + t1) with t1 = mid - lo, t2 = hi 2^12 + lo[23:12] - hi
    //   (= hi 2^24 + lo + (mid - hi - lo) 2^12). The low 12 bits of prod are lo[11:0]: only their
    //   OR is kept. The low 18 bits of t2 + t1 (prod[29:12]) and their carry are added here,
    //   behind the two subtractions; stage 7 adds the rest: prod[47:30] = t2[35:18] + t1[25:18]
    //   + carry.
    logic [25:0] t1_6;
    logic [35:0] t2_6;
    logic [18:0] plo6;           // t2[17:0] + t1[17:0]
    logic [17:0] plo6_q;         // prod[29:12]
    logic        pc6_q;          // its carry into prod[30]
    logic [7:0]  t1h6_q;         // t1[25:18]
    logic [17:0] t2h6_q;         // t2[35:18]
    assign t1_6 = kpm5_q - {2'd0, kpl5_q};
    assign t2_6 = {kph5_q, kpl5_q[23:12]} - {12'd0, kph5_q};
    assign plo6 = {1'b0, t2_6[17:0]} + {1'b0, t1_6[17:0]};
    always_ff @(posedge clk_i) begin
      if (v_q[5]) begin
        plo6_q <= plo6[17:0];
        pc6_q  <= plo6[18];
        t1h6_q <= t1_6[25:18];
        t2h6_q <= t2_6[35:18];
        slo6_q <= |kpl5_q[11:0];
      end
    end
    logic [18:0] prod7_hi;       // {t2h, 1} + {t1h, carry}: prod[47:30] in bits 18:1
    logic        unused_prod7;   // the carry-in bit of the adder
    assign prod7_hi     = {t2h6_q, 1'b1} + {10'd0, t1h6_q, pc6_q};
    assign unused_prod7 = prod7_hi[0];
    assign prod7        = {prod7_hi[18:1], plo6_q};
  end

  // The range as two flags and jd: xs >= 135 (jd < 0) saturates whatever p; xs = 134 (jd = 0)
  // saturates if p; xs = 125 (jd = 9) rounds only if p; xs < 125 (jd > 9) and step 0 give 0.
  // Stage 7 resolves jd = 0 and jd = 9 with p.
  logic        neg4_q;
  logic        sata4_q, killa4_q;  // saturate whatever p; r = 0 whatever p
  logic [3:0]  jd4_q;
  logic [8:0]  jd4_d;          // 134 - xs as a 9-bit signed number (xs <= 285)
  assign jd4_d = XS_JD0 - xs3_q;

  always_ff @(posedge clk_i) begin
    if (v_q[3]) begin
      neg4_q    <= neg3_q;
      sata4_q   <= jd4_d[8];
      killa4_q  <= zero3_q || (!jd4_d[8] && ((|jd4_d[7:4]) || (jd4_d[3] && (jd4_d[2] || jd4_d[1]))));
      jd4_q     <= jd4_d[3:0];
    end
  end

  // Stage 5: the flags and jd.
  logic        neg5_q, sata5_q, killa5_q;
  logic [3:0]  jd5_q;

  always_ff @(posedge clk_i) begin
    if (v_q[4]) begin
      neg5_q    <= neg4_q;
      sata5_q   <= sata4_q;
      killa5_q  <= killa4_q;
      jd5_q     <= jd4_q;
    end
  end

  // Stage 6: from jd, a one-hot select and the mask of M's variable part, bits 38 .. D-2.
  logic [9:0]  oh6_q;            // oh6_q[jd] = 1
  logic [46:38] mask6_q;         // bit b set for b <= 37 + jd (M always holds bits 37 .. 24)
  logic        neg6_q, sata6_q, killa6_q;

  always_ff @(posedge clk_i) begin
    if (v_q[5]) begin
      for (int i = 0; i < 10; i++) oh6_q[i] <= (jd5_q == 4'(i));
      for (int b = 38; b <= 46; b++) mask6_q[b] <= (32'(jd5_q) + 32'd37 >= 32'(b));
      neg6_q    <= neg5_q;
      sata6_q   <= sata5_q;
      killa6_q  <= killa5_q;
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Stage 7: with D = 39 + jd: Q = prod[D+7:D] (Q < 2^8), g = prod[D-1]; for both values of t = 23 +
  //   prod[47] (index 1: t = 24, 0: t = 23), the OR and AND of M = prod[D-2:t] and the f32()
  //   rounding increment rnd_p.
  // ---------------------------------------------------------------------------------------------
  logic [55:12] prod7_x;         // prod with zeros above bit 47 for the quotient select
  logic [7:0]  q7;
  logic        g7;
  logic [1:0]  mor7, mand7, rp7;   // [1]: t = 24, [0]: t = 23

  always_comb begin
    prod7_x = {8'd0, prod7};
    q7 = '0;
    g7 = 1'b0;
    for (int j = 0; j < 10; j++) begin
      q7 = q7 | (prod7_x[39 + j +: 8] & {8{oh6_q[j]}});
      g7 = g7 | (prod7_x[38 + j] & oh6_q[j]);
    end
    mor7[1]  = (|(prod7[46:38] & mask6_q)) || (|prod7[37:24]);
    mor7[0]  = mor7[1] || prod7[23];
    mand7[1] = (&(prod7[46:38] | ~mask6_q)) && (&prod7[37:24]);
    mand7[0] = mand7[1] && prod7[23];
    rp7[1]   = prod7[23] && ((|prod7[22:12]) || slo6_q || prod7[24]);  // guard, sticky, lsb
    rp7[0]   = prod7[22] && ((|prod7[21:12]) || slo6_q || prod7[23]);
  end

  logic [7:0]  q7_q;
  logic        g7_q, p47_7_q;
  logic [1:0]  mor7_q, mand7_q, rp7_q;
  logic        neg7_q, sat7_q, kill7_q;

  always_ff @(posedge clk_i) begin
    if (v_q[6]) begin
      q7_q      <= q7;
      g7_q      <= g7;
      mor7_q    <= mor7;
      mand7_q   <= mand7;
      p47_7_q   <= prod7[47];
      rp7_q     <= rp7;
      neg7_q    <= neg6_q;
      // step 5a: xs + p >= 135; steps 0, 5c: xs + p < 126 or zero (oh6_q[j]: jd == j when
      // 0 <= jd <= 9; when saturating, jd[3:0] may equal 9, hence !sata in kill)
      sat7_q    <= sata6_q || (oh6_q[0] && prod7[47]);
      kill7_q   <= killa6_q || (oh6_q[9] && !prod7[47] && !sata6_q);
    end
  end

  // zp, lo, hi for stage 8: sampled with the data (seven register stages) or held by the caller
  logic [7:0] zp7_q, lo7_q, hi7_q;
  if (HOLD_CFG != 0) begin : g_cfg_held
    assign zp7_q = zp_i;
    assign lo7_q = lo_i;
    assign hi7_q = hi_i;
  end else begin : g_cfg_pipe
    logic [24*(LAT-1)-1:0] cfg_q;  // {zp, lo, hi} of stage s at [24*(s-1) +: 24]
    always_ff @(posedge clk_i) begin
      if (valid_i) cfg_q[0 +: 24] <= {zp_i, lo_i, hi_i};
      for (int s = 2; s < LAT; s++) begin
        if (v_q[s-1]) cfg_q[24*(s-1) +: 24] <= cfg_q[24*(s-2) +: 24];
      end
    end
    assign {zp7_q, lo7_q, hi7_q} = cfg_q[24*(LAT-2) +: 24];
  end

  // ---------------------------------------------------------------------------------------------
  // Stage 8: steps 5-7. rnd_p and inc (header); 5a xs + p >= 135: r = 256 (see XS_JD0); 5c xs + p < 126 or
  //   step 0: r = 0; else r = Q + inc. With Q', inc' those after 5a/5c and V = Q' ^ s (= -Q' - 1
  //   when s is set), s r = V + c with c = s ^ inc'. Three adders side by side, each with c as
  //   its carry-in: y = zp + V + c (steps 6, 7); y < lo: V + c - (lo - zp) - 1 < 0;
  //   y > hi: (hi - zp) - V - c - 1 < 0. Then y = lo if y < lo, then y = hi if y > hi.
  // ---------------------------------------------------------------------------------------------
  logic        mones8, mor8;        // M all ones, M nonzero
  logic        rnd_p8, inc8, sat8, kill8, cin8;
  logic [8:0]  qe8;                 // 0 .. 256
  logic [9:0]  v8;                  // Q' ^ s
  logic [9:0]  tlo8, thi8;          // lo - zp, hi - zp (the compares' sums are in -512 .. 510)
  logic [8:0]  ys8_t;               // {A, 1} + {B, c}: A + B + c in the bits above bit 0 (y: its
  logic [10:0] lt8_t, gt8_t;        //   low 8 bits are enough when lo <= y <= hi; lt, gt: the sign)
  logic [7:0]  lo_sel;              // y < lo gives lo; hi if lo > hi (the contract has lo <= hi)
  logic [7:0]  y8_d;
  logic [20:0] unused_sum8;         // the carry-in bits, and the sums of which only the sign counts

  always_comb begin
    mor8   = mor7_q[p47_7_q];
    mones8 = mand7_q[p47_7_q];
    rnd_p8 = rp7_q[p47_7_q];
    inc8   = rnd_p8 ? (mones8 ? (g7_q || q7_q[0]) : g7_q) : (g7_q && (mor8 || q7_q[0]));
    sat8   = sat7_q;                                                 // step 5a
    kill8  = kill7_q;                                                // step 0, step 5c
    qe8    = kill8 ? 9'd0 : (sat8 ? SAT : {1'b0, q7_q});
    cin8   = neg7_q ^ (inc8 && !kill8 && !sat8);
    v8     = {1'b0, qe8} ^ {10{neg7_q}};
    tlo8   = {{2{lo7_q[7]}}, lo7_q} - {{2{zp7_q[7]}}, zp7_q};
    thi8   = {{2{hi7_q[7]}}, hi7_q} - {{2{zp7_q[7]}}, zp7_q};
    ys8_t  = {zp7_q, 1'b1} + {v8[7:0], cin8};
    lt8_t  = {v8, 1'b1} + {~tlo8, cin8};
    gt8_t  = {thi8, 1'b1} + {~v8, !cin8};
    lo_sel = ($signed(lo7_q) > $signed(hi7_q)) ? hi7_q : lo7_q;
    if (lt8_t[10]) begin         // y < lo
      y8_d = lo_sel;
    end else if (gt8_t[10]) begin  // y > hi
      y8_d = hi7_q;
    end else begin
      y8_d = ys8_t[8:1];
    end
    unused_sum8 = {ys8_t[0], lt8_t[9:0], gt8_t[9:0]};
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
