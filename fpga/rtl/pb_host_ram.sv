// SPDX-License-Identifier: Apache-2.0
// The board's host memory: single-port synchronous RAM, 16-bit words with two byte enables,
// registered read data that holds while the port does not read. Written to be inferred as the
// iCE40 UP5K SPRAM (synth_ice40 -spram: 4 x SB_SPRAM256KA for 64 Ki words) and as ECP5 block RAM.
`default_nettype none

module pb_host_ram #(
  parameter int WORDS = 65536,
  parameter int AW    = 16       // address bits, >= $clog2(WORDS)
) (
  input  logic          clk_i,
  input  logic          en_i,    // the port does something this cycle
  input  logic          we_i,    // write (else read)
  input  logic [1:0]    be_i,    // byte enables of a write
  input  logic [AW-1:0] addr_i,
  input  logic [15:0]   wdata_i,
  output logic [15:0]   rdata_o
);
  logic [15:0] mem_q [0:WORDS-1];

  always_ff @(posedge clk_i) begin
    if (en_i) begin
      if (we_i) begin
        if (be_i[0]) mem_q[addr_i][7:0] <= wdata_i[7:0];
        if (be_i[1]) mem_q[addr_i][15:8] <= wdata_i[15:8];
      end else begin
        rdata_o <= mem_q[addr_i];
      end
    end
  end
endmodule

`default_nettype wire
