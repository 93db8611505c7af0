// SPDX-License-Identifier: Apache-2.0
// UART transmitter, 8N1, CLKS_PER_BIT clock cycles per bit: takes a byte when valid_i & ready_o
// and sends start bit, 8 data bits (LSB first) and stop bit; ready again after the stop bit.
`default_nettype none

module pb_uart_tx #(
  parameter int CLKS_PER_BIT = 4    // >= 2
) (
  input  logic       clk_i,
  input  logic       rst_ni,
  input  logic       valid_i,
  input  logic [7:0] data_i,
  output logic       ready_o,
  output logic       tx_o,          // the line (idle high)
  output logic       busy_o         // a byte is on the line
);
  localparam int CW = $clog2(CLKS_PER_BIT + 1);
  localparam logic [CW-1:0] FULL = CW'(CLKS_PER_BIT - 1);

  logic          busy_q;
  logic [CW-1:0] cnt_q;
  logic [3:0]    bit_q;     // bits left to send after the current one
  logic [8:0]    shift_q;   // {stop, data}; bit 0 of the register drives the line after the start bit
  logic          tx_q;

  assign ready_o = !busy_q;
  assign busy_o  = busy_q;
  assign tx_o    = tx_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      busy_q  <= 1'b0;
      cnt_q   <= '0;
      bit_q   <= 4'd0;
      shift_q <= 9'h1ff;
      tx_q    <= 1'b1;
    end else if (!busy_q) begin
      if (valid_i) begin
        busy_q  <= 1'b1;
        cnt_q   <= '0;
        bit_q   <= 4'd9;
        shift_q <= {1'b1, data_i};
        tx_q    <= 1'b0;            // start bit
      end
    end else if (cnt_q == FULL) begin
      cnt_q <= '0;
      if (bit_q == 4'd0) begin
        busy_q <= 1'b0;             // the stop bit has been on the line for a full bit time
        tx_q   <= 1'b1;
      end else begin
        tx_q    <= shift_q[0];
        shift_q <= {1'b1, shift_q[8:1]};
        bit_q   <= bit_q - 4'd1;
      end
    end else begin
      cnt_q <= cnt_q + CW'(1);
    end
  end
endmodule

`default_nettype wire
