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

  // ---- valid and tag beside the array: stage s holds the row presented s cycles ago ----
  logic [L:1]        v_q;     // reset
  logic [L:0]        v_pipe;  // v_pipe[s]: valid of the row presented s cycles ago
  logic [L*TAGW-1:0] tag_q;   // stage s at [(s-1)*TAGW +: TAGW]

  assign v_pipe = {v_q, in_valid_i};

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) v_q <= '0;
    else         v_q <= v_pipe[L-1:0];
  end

  always_ff @(posedge clk_i) begin
    if (v_pipe[0]) tag_q[TAGW-1:0] <= in_tag_i;
    for (int s = 2; s <= L; s++) begin
      if (v_pipe[s-1]) tag_q[(s-1)*TAGW +: TAGW] <= tag_q[(s-2)*TAGW +: TAGW];
    end
  end

  assign out_valid_o = v_pipe[L];
  assign out_tag_o   = tag_q[(L-1)*TAGW +: TAGW];

  // ---- interconnect, flattened ----
  // East-going (valid, select, activation): entry (k,c) at index k*(N+1)+c is
  // the input of PE(k,c); c = N leaves the array. South-going psums: entry
  // (k,c) at index k*N+c is the input of PE(k,c); k = N leaves column c.
  // (Flat vectors: Yosys 0.23 has no multi-dimensional packed arrays and turns
  // unpacked wire arrays into registers with a warning.)
  logic [N*(N+1)-1:0]    v_h;
  logic [N*(N+1)-1:0]    s_h;
  logic [N*(N+1)*8-1:0]  a_h;
  logic [(N+1)*N*32-1:0] p_v;

  // ---- skew: PE row k gets element k, its valid and its select k cycles late ----
  logic [N-1:0] s_pipe;  // s_pipe[k]: select of the row presented k cycles ago

  assign s_pipe[0] = in_sel_i;

  for (genvar k = 0; k < N; k++) begin : g_skew
    localparam int H = k * (N + 1);  // east-going index of PE(k,0)'s input

    if (k == 0) begin : g_direct
      assign a_h[7:0] = in_row_i[7:0];
    end else begin : g_delay
      logic           sel_q;
      logic [k*8-1:0] x_q;  // [(j-1)*8 +: 8]: element k of the row presented j cycles ago

      always_ff @(posedge clk_i) begin
        if (v_pipe[k-1]) sel_q <= s_pipe[k-1];
        if (v_pipe[0])   x_q[7:0] <= in_row_i[k*8 +: 8];
        for (int j = 2; j <= k; j++) begin
          if (v_pipe[j-1]) x_q[(j-1)*8 +: 8] <= x_q[(j-2)*8 +: 8];
        end
      end

      assign s_pipe[k]     = sel_q;
      assign a_h[H*8 +: 8] = x_q[(k-1)*8 +: 8];
    end
    assign v_h[H] = v_pipe[k];
    assign s_h[H] = s_pipe[k];
  end

  // ---- the PE grid ----
  assign p_v[N*32-1:0] = '0;  // row 0 starts from psum 0

  for (genvar k = 0; k < N; k++) begin : g_row
    logic w_we_row;
    assign w_we_row = w_we_i && (w_k_i == KW'(k));

    for (genvar c = 0; c < N; c++) begin : g_col
      localparam int H = k * (N + 1) + c;  // east-going index of this PE's input
      localparam int V = k * N + c;        // south-going index of this PE's input

      pb_pe u_pe (
        .clk_i     (clk_i),
        .rst_ni    (rst_ni),
        .w_we_i    (w_we_row),
        .w_sel_i   (w_sel_i),
        .w_data_i  (w_row_i[c*8 +: 8]),
        .w_clear_i (w_clear_i),
        .a_valid_i (v_h[H]),
        .a_sel_i   (s_h[H]),
        .a_i       (a_h[H*8 +: 8]),
        .psum_i    (p_v[V*32 +: 32]),
        .a_valid_o (v_h[H+1]),
        .a_sel_o   (s_h[H+1]),
        .a_o       (a_h[(H+1)*8 +: 8]),
        .psum_o    (p_v[(V+N)*32 +: 32])
      );
    end

    // The east edge has no consumer (the valid leaving PE(N-1,N-1) equals
    // v_pipe[L]; out_valid_o is taken from the shift register). Named
    // unused_* so that verilator -Wall (default --unused-regexp) accepts it.
    localparam int E = k * (N + 1) + N;
    logic unused_east;
    assign unused_east = ^{v_h[E], s_h[E], a_h[E*8 +: 8]};
  end

  // ---- deskew: column c is delayed N-1-c cycles ----
  for (genvar c = 0; c < N; c++) begin : g_deskew
    localparam int B = (N * N + c) * 32;  // bottom of column c in p_v
    localparam int D = N - 1 - c;         // deskew depth

    if (D == 0) begin : g_direct
      assign out_row_o[c*32 +: 32] = p_v[B +: 32];
    end else begin : g_delay
      logic [D*32-1:0] y_q;  // [(j-1)*32 +: 32]: column c of the row presented N+c+j cycles ago

      always_ff @(posedge clk_i) begin
        if (v_pipe[N+c]) y_q[31:0] <= p_v[B +: 32];
        for (int j = 2; j <= D; j++) begin
          if (v_pipe[N+c+j-1]) y_q[(j-1)*32 +: 32] <= y_q[(j-2)*32 +: 32];
        end
      end

      assign out_row_o[c*32 +: 32] = y_q[(D-1)*32 +: 32];
    end
  end

endmodule

`default_nettype wire
