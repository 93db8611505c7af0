// SPDX-License-Identifier: Apache-2.0
// One weight-stationary processing element: psum_o <= psum_i + a_i * w[a_sel_i], a_i passed right.
`default_nettype none

// Two weight registers (buffer 0 and 1). Each cycle the PE takes an int8
// activation with its valid and buffer-select bit from the left and an int32
// partial sum from above, and registers
//   a_o    <= a_i                                   (with a_valid_o, a_sel_o)
//   psum_o <= psum_i + sext32(a_i * w[a_sel_i])     (int32, wrapping)
// The activation and psum registers load only when a_valid_i is high (operand
// isolation: a gap in the stream does not toggle them); a_valid_o always
// follows a_valid_i. The multiply-add is a signed multiply of the operands
// sign-extended to 32 bits (Yosys narrows it back to 8x8: wreduce drops the
// copies of the sign bit) feeding a 32-bit adder into an unreset register, so
// that `synth_ice40 -dsp` packs multiplier, adder, register and clock enable
// into one SB_MAC16 (a reset on psum_q would push the register out to fabric).
// Written with a 32-bit product rather than a 16-bit one, Verilator's C++
// sign-extends two operands instead of five values per PE and cycle (about a
// third fewer instructions for the whole array).
// A valid row never reads an unreset register: psum_i of PE row 0 is 0 and
// every later value is computed from the row's own inputs.
// keep_hierarchy: flattened into pb_array, Yosys 0.23 narrows the partial sums
// of the upper PE rows and its ice40_dsp pass then pads the SB_MAC16 C input
// with x instead of sign-extending it (wrong sums in the netlist); as its own
// module each PE sees a 32-bit psum_i and maps correctly.
(* keep_hierarchy *)
module pb_pe (
  input  logic        clk_i,
  input  logic        rst_ni,
  // weight write: w_data_i into buffer w_sel_i (at the clock edge)
  input  logic        w_we_i,
  input  logic        w_sel_i,
  input  logic [7:0]  w_data_i,
  input  logic        w_clear_i,  // both buffers <= 0; wins over w_we_i
  // activation from the left
  input  logic        a_valid_i,
  input  logic        a_sel_i,    // weight buffer this activation's row uses
  input  logic [7:0]  a_i,        // int8
  // partial sum from above
  input  logic [31:0] psum_i,     // int32
  // to the right and down, registered
  output logic        a_valid_o,
  output logic        a_sel_o,
  output logic [7:0]  a_o,
  output logic [31:0] psum_o
);

  // ---- weight buffers ----
  // Written in the clocked process itself, without next-state signals: the
  // Verilated model then takes a rarely taken branch for a weight write instead
  // of computing two next-state values per PE in every evaluation.
  logic [7:0] w0_q, w1_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      w0_q <= 8'd0;
      w1_q <= 8'd0;
    end else if (w_clear_i) begin
      w0_q <= 8'd0;
      w1_q <= 8'd0;
    end else if (w_we_i) begin
      if (w_sel_i) w1_q <= w_data_i;
      else         w0_q <= w_data_i;
    end
  end

  // ---- multiply-add ----
  logic signed [7:0]  a_s, w_s;
  logic signed [31:0] a_x, w_x, psum_in_s, psum_d;

  assign a_s       = a_i;
  assign w_s       = a_sel_i ? w1_q : w0_q;
  assign a_x       = 32'(a_s);               // signed cast: sign-extends
  assign w_x       = 32'(w_s);
  assign psum_in_s = psum_i;
  assign psum_d    = psum_in_s + a_x * w_x;  // exact product: |a * w| <= 2^14

  // ---- pipeline registers ----
  logic        valid_q;
  logic        sel_q;
  logic [7:0]  a_q;
  logic [31:0] psum_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) valid_q <= 1'b0;
    else         valid_q <= a_valid_i;
  end

  always_ff @(posedge clk_i) begin
    if (a_valid_i) begin
      sel_q  <= a_sel_i;
      a_q    <= a_i;
      psum_q <= psum_d;
    end
  end

  assign a_valid_o = valid_q;
  assign a_sel_o   = sel_q;
  assign a_o       = a_q;
  assign psum_o    = psum_q;

endmodule

`default_nettype wire
