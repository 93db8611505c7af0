// SPDX-License-Identifier: Apache-2.0
// One byte of CRC-16/CCITT-FALSE (polynomial 0x1021, MSB first, no reflection, no final XOR;
// start from 0xffff): crc_o is the CRC after data_i. Combinational (docs/uart.md).
`default_nettype none

module pb_crc16 (
  input  logic [15:0] crc_i,
  input  logic [7:0]  data_i,
  output logic [15:0] crc_o
);
  always_comb begin
    crc_o = crc_i;
    for (int i = 7; i >= 0; i--) begin
      if (crc_o[15] ^ data_i[i]) crc_o = {crc_o[14:0], 1'b0} ^ 16'h1021;
      else crc_o = {crc_o[14:0], 1'b0};
    end
  end
endmodule

`default_nettype wire
