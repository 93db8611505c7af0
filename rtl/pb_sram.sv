// SPDX-License-Identifier: Apache-2.0
// Synchronous RAM, one write port with lane enables and one registered read port (inferable as
// block RAM); the read data holds until the next read.
`default_nettype none

module pb_sram #(
  parameter int WIDTH = 128,
  parameter int DEPTH = 1024,
  parameter int LANES = 16,   // write-enable lanes of WIDTH/LANES bits each
  parameter int AW    = 16
) (
  input  logic             clk_i,
  input  logic             we_i,
  /* verilator lint_off UNUSEDSIGNAL */  // address bits above the depth: callers check ranges
  input  logic [AW-1:0]    waddr_i,
  input  logic [LANES-1:0] wmask_i,
  input  logic [WIDTH-1:0] wdata_i,
  input  logic             re_i,
  input  logic [AW-1:0]    raddr_i,
  /* verilator lint_on UNUSEDSIGNAL */
  output logic [WIDTH-1:0] rdata_o
);
  localparam int LW = WIDTH / LANES;
  localparam int IW = (DEPTH > 1) ? $clog2(DEPTH) : 1;

  logic [WIDTH-1:0] mem_q [0:DEPTH-1];

`ifdef PB_ZERO_INIT
  // Simulation only: start from zeros so every backend begins in the reference model's state.
  initial begin
    for (int i = 0; i < DEPTH; i++) mem_q[i] = '0;
  end
`endif

  always_ff @(posedge clk_i) begin
    if (we_i) begin
      for (int l = 0; l < LANES; l++)
        if (wmask_i[l]) mem_q[waddr_i[IW-1:0]][l*LW +: LW] <= wdata_i[l*LW +: LW];
    end
    if (re_i) rdata_o <= mem_q[raddr_i[IW-1:0]];
  end
endmodule

`default_nettype wire
