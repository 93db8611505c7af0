// SPDX-License-Identifier: Apache-2.0
// Synchronous RAM, one write port with lane enables and one registered read port (inferable as
// block RAM); the read data holds until the next read.
//
// A read of the address written in the same cycle never happens in the core: the interlocks
// (docs/timing.md) keep every range that one unit writes away from the ranges the others read
// until the write is done, and the array's read-modify-write of the accumulator reads a row at
// least one cycle after its previous write. So the memory carries `no_rw_check`: Yosys maps it
// to block RAM without the bypass registers and comparators it would otherwise add to emulate
// read-during-write behaviour (block RAM returns undefined data then). Simulations with
// PB_ZERO_INIT (the Verilated builds) stop with an error if such a collision ever occurs.
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

  (* no_rw_check *)
  logic [WIDTH-1:0] mem_q [0:DEPTH-1];

`ifdef PB_ZERO_INIT
  // Simulation only: start from zeros so every backend begins in the reference model's state.
  initial begin
    for (int i = 0; i < DEPTH; i++) mem_q[i] = '0;
  end

  // Simulation only: the collision that no_rw_check assumes never happens.
  always_ff @(posedge clk_i) begin
    if (we_i && re_i && (|wmask_i) && waddr_i[IW-1:0] == raddr_i[IW-1:0]) begin
      $display("pb_sram: ERROR: read and write of row %0d in the same cycle (%m)", waddr_i[IW-1:0]);
      $fatal(1);
    end
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
