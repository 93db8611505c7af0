// SPDX-License-Identifier: Apache-2.0
// UART receiver, 8N1, CLKS_PER_BIT clock cycles per bit: a byte (LSB first) with a one-cycle valid
// pulse, or a one-cycle framing-error pulse when its stop bit is 0 (the byte is then dropped).
//
// The line is synchronized by two flip-flops. A falling edge starts a byte; the start bit is
// checked again half a bit later (a shorter low pulse is a glitch and ignored), then every bit
// is sampled one bit time apart, in its middle. The receiver is ready for the next start bit
// from the middle of the stop bit on, so back-to-back bytes at the nominal rate are received.
`default_nettype none

module pb_uart_rx #(
  parameter int CLKS_PER_BIT = 4    // >= 2
) (
  input  logic       clk_i,
  input  logic       rst_ni,
  input  logic       rx_i,          // the line, asynchronous (idle high)
  output logic       valid_o,       // data_o holds a received byte (one cycle)
  output logic [7:0] data_o,
  output logic       frame_err_o    // a byte whose stop bit was 0 (one cycle)
);
  localparam int CW = $clog2(CLKS_PER_BIT + 1);
  localparam logic [CW-1:0] HALF = CW'(CLKS_PER_BIT / 2 - 1);
  localparam logic [CW-1:0] FULL = CW'(CLKS_PER_BIT - 1);
  localparam logic [1:0] S_IDLE = 2'd0, S_START = 2'd1, S_DATA = 2'd2, S_STOP = 2'd3;

  logic          meta_q, sync_q;
  logic [1:0]    state_q, state_d;
  logic [CW-1:0] cnt_q, cnt_d;
  logic [2:0]    bit_q, bit_d;
  logic [7:0]    shift_q, shift_d;
  logic          valid_d, ferr_d;

  always_comb begin
    state_d = state_q;
    cnt_d   = cnt_q + CW'(1);
    bit_d   = bit_q;
    shift_d = shift_q;
    valid_d = 1'b0;
    ferr_d  = 1'b0;
    case (state_q)
      S_IDLE: begin
        cnt_d = '0;
        if (!sync_q) state_d = S_START;
      end
      S_START: begin
        if (cnt_q == HALF) begin
          cnt_d   = '0;
          bit_d   = 3'd0;
          state_d = sync_q ? S_IDLE : S_DATA;   // still low in the middle: a start bit
        end
      end
      S_DATA: begin
        if (cnt_q == FULL) begin
          cnt_d   = '0;
          shift_d = {sync_q, shift_q[7:1]};
          bit_d   = bit_q + 3'd1;
          if (bit_q == 3'd7) state_d = S_STOP;
        end
      end
      S_STOP: begin
        if (cnt_q == FULL) begin
          cnt_d   = '0;
          valid_d = sync_q;
          ferr_d  = !sync_q;
          state_d = S_IDLE;
        end
      end
      default: state_d = S_IDLE;
    endcase
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      meta_q      <= 1'b1;
      sync_q      <= 1'b1;
      state_q     <= S_IDLE;
      cnt_q       <= '0;
      bit_q       <= 3'd0;
      shift_q     <= 8'd0;
      valid_o     <= 1'b0;
      frame_err_o <= 1'b0;
    end else begin
      meta_q      <= rx_i;
      sync_q      <= meta_q;
      state_q     <= state_d;
      cnt_q       <= cnt_d;
      bit_q       <= bit_d;
      shift_q     <= shift_d;
      valid_o     <= valid_d;
      frame_err_o <= ferr_d;
    end
  end
  assign data_o = shift_q;
endmodule

`default_nettype wire
