// SPDX-License-Identifier: Apache-2.0
// N x N weight-stationary systolic array with double-buffered weights: y[c] = sum_k x[k] * W[k][c].
`default_nettype none

// Dataflow (docs/architecture.md, "Systolic array"):
//   - skew: element k of the row presented in cycle x is delayed k cycles and
//     enters PE row k in cycle x + k, with the row's valid and buffer select;
//   - PE(k,c) processes the row in cycle x + k + c: activations move one PE
//     right per cycle, partial sums one PE down per cycle;
//   - deskew: the bottom of column c (ready in cycle x + N + c) is delayed
//     N-1-c cycles, so the whole row appears in cycle x + 2N - 1;
//   - valid and tag travel in a (2N-1)-stage shift register beside the array.
// Latency: out_valid_o/out_row_o/out_tag_o in cycle x + 2N - 1 for the row
// presented (in_valid_i high) in cycle x; one row per cycle, gaps allowed.
// Weights: w_we_i in cycle t writes W[w_k_i][*] of buffer w_sel_i at the end of
// cycle t (PE computations in cycles > t see it); w_k_i >= N writes nothing;
// w_clear_i clears both buffers of every PE and wins over w_we_i.
// Only valid bits and weights are reset; data registers load only for valid
// rows (operand isolation) and are never read by a valid row before written.
// N >= 1 (w_k_i is 1 bit wide when N = 1).
//
// Simulation speed: every register is its own small variable (one per PE port,
// per skew, deskew or tag stage) and the interconnect is unpacked arrays of
// wires, never a wide packed vector: Verilator compiles a slice update of a
// wide packed vector into a rebuild of the whole vector (VL_CONCAT_WWI), which
// made the earlier flat-vector version of this module most of the simulation
// time of the N = 16 core. The arrays carry the split_var metacomment, which
// makes Verilator split each into one variable per element and connect it to
// the register driving it instead of copying it every cycle (a hint, not a
// lint waiver; Yosys and Icarus ignore the comment).
module pb_array #(
  parameter int N    = 16,
  parameter int TAGW = 32
) (
  input  logic                                 clk_i,
  input  logic                                 rst_ni,
  // weight load: row w_k_i of buffer w_sel_i, one row per cycle
  input  logic                                 w_we_i,
  input  logic                                 w_sel_i,
  input  logic [((N > 1) ? $clog2(N) : 1)-1:0] w_k_i,
  input  logic [N*8-1:0]                       w_row_i,    // W[k][c] at [c*8 +: 8]
  input  logic                                 w_clear_i,  // both buffers of every PE <= 0
  // activation rows in
  input  logic                                 in_valid_i,
  input  logic                                 in_sel_i,   // weight buffer this row uses
  input  logic [N*8-1:0]                       in_row_i,   // x[k] at [k*8 +: 8]
  input  logic [TAGW-1:0]                      in_tag_i,   // opaque, returned with the row
  // result rows out, 2N-1 cycles later
  output logic                                 out_valid_o,
  output logic [N*32-1:0]                      out_row_o,  // y[c] at [c*32 +: 32]
  output logic [TAGW-1:0]                      out_tag_o
);

  localparam int KW = (N > 1) ? $clog2(N) : 1;  // width of w_k_i
  localparam int L  = 2 * N - 1;                // latency in cycles

  // ---- valid beside the array: v_pipe[s] is the valid of the row presented s cycles ago ----
  logic [L:1] v_q;     // reset
  logic [L:0] v_pipe;

  assign v_pipe = {v_q, in_valid_i};

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) v_q <= '0;
    else         v_q <= v_pipe[L-1:0];
  end

  assign out_valid_o = v_pipe[L];

  // ---- tag: L-stage shift register beside the array ----
  // tag[s]: tag of the row presented s cycles ago (stage s loads only for a valid row).
  logic [TAGW-1:0] tag [0:L] /* verilator split_var */;

  assign tag[0] = in_tag_i;
  for (genvar s = 1; s <= L; s++) begin : g_tag
    logic [TAGW-1:0] tag_q;  // not reset
    always_ff @(posedge clk_i) begin
      if (v_pipe[s-1]) tag_q <= tag[s-1];
    end
    assign tag[s] = tag_q;
  end

  assign out_tag_o = tag[L];

  // ---- interconnect ----
  // East-going (valid, select, activation): [k][c] is the input of PE(k,c);
  // [k][N] leaves the array. South-going psums: [k][c] is the input of
  // PE(k,c); [N][c] leaves column c. (Yosys 0.23 warns "Replacing memory ...
  // with list of registers" for each: expected, they are wires.)
  logic        v_h [0:N-1][0:N] /* verilator split_var */;
  logic        s_h [0:N-1][0:N] /* verilator split_var */;
  logic [7:0]  a_h [0:N-1][0:N] /* verilator split_var */;
  logic [31:0] p_v [0:N][0:N-1] /* verilator split_var */;

  // ---- skew: PE row k gets element k, its valid and its select k cycles late ----
  logic [N-1:0] s_pipe;  // s_pipe[k]: select of the row presented k cycles ago

  assign s_pipe[0] = in_sel_i;

  for (genvar k = 0; k < N; k++) begin : g_skew
    if (k == 0) begin : g_direct
      assign a_h[0][0] = in_row_i[7:0];
    end else begin : g_delay
      logic       sel_q;
      // x[j]: element k of the row presented j cycles ago (x[0]: this cycle's row)
      logic [7:0] x [0:k] /* verilator split_var */;

      always_ff @(posedge clk_i) begin
        if (v_pipe[k-1]) sel_q <= s_pipe[k-1];
      end

      assign x[0] = in_row_i[k*8 +: 8];
      for (genvar j = 1; j <= k; j++) begin : g_stage
        logic [7:0] x_q;
        always_ff @(posedge clk_i) begin
          if (v_pipe[j-1]) x_q <= x[j-1];
        end
        assign x[j] = x_q;
      end

      assign s_pipe[k] = sel_q;
      assign a_h[k][0] = x[k];
    end
    assign v_h[k][0] = v_pipe[k];
    assign s_h[k][0] = s_pipe[k];
  end

  // ---- the PE grid ----
  for (genvar c = 0; c < N; c++) begin : g_top
    assign p_v[0][c] = 32'd0;  // row 0 starts from psum 0
  end

  for (genvar k = 0; k < N; k++) begin : g_row
    logic w_we_row;
    assign w_we_row = w_we_i && (w_k_i == KW'(k));

    for (genvar c = 0; c < N; c++) begin : g_col
      pb_pe u_pe (
        .clk_i     (clk_i),
        .rst_ni    (rst_ni),
        .w_we_i    (w_we_row),
        .w_sel_i   (w_sel_i),
        .w_data_i  (w_row_i[c*8 +: 8]),
        .w_clear_i (w_clear_i),
        .a_valid_i (v_h[k][c]),
        .a_sel_i   (s_h[k][c]),
        .a_i       (a_h[k][c]),
        .psum_i    (p_v[k][c]),
        .a_valid_o (v_h[k][c+1]),
        .a_sel_o   (s_h[k][c+1]),
        .a_o       (a_h[k][c+1]),
        .psum_o    (p_v[k+1][c])
      );
    end

    // The east edge has no consumer (the valid leaving PE(N-1,N-1) equals
    // v_pipe[L]; out_valid_o is taken from the shift register). Named
    // unused_* so that verilator -Wall (default --unused-regexp) accepts it.
    logic unused_east;
    assign unused_east = ^{v_h[k][N], s_h[k][N], a_h[k][N]};
  end

  // ---- deskew: column c is delayed N-1-c cycles ----
  for (genvar c = 0; c < N; c++) begin : g_deskew
    localparam int D = N - 1 - c;  // deskew depth

    if (D == 0) begin : g_direct
      assign out_row_o[c*32 +: 32] = p_v[N][c];
    end else begin : g_delay
      // y[j]: column c of the row presented N+c+j cycles ago (y[0]: the bottom PE's psum register)
      logic [31:0] y [0:D] /* verilator split_var */;

      assign y[0] = p_v[N][c];
      for (genvar j = 1; j <= D; j++) begin : g_stage
        logic [31:0] y_q;
        always_ff @(posedge clk_i) begin
          if (v_pipe[N+c+j-1]) y_q <= y[j-1];
        end
        assign y[j] = y_q;
      end

      assign out_row_o[c*32 +: 32] = y[D];
    end
  end

endmodule

`default_nettype wire
