// SPDX-License-Identifier: Apache-2.0
// Reply frame transmitter of the UART bridge (docs/uart.md): SOF, then body bytes with the
// CRC-16 computed on the way, then the CRC (high byte first); every body and CRC byte that
// equals SOF (0x7e) or ESC (0x7d) goes out as ESC, byte ^ 0x20.
`default_nettype none

module pb_frame_tx (
  input  logic       clk_i,
  input  logic       rst_ni,
  // items: kind 0 = SOF (starts a frame), 1 = a body byte, 2 = end (appends the CRC)
  input  logic       valid_i,
  input  logic [1:0] kind_i,
  input  logic [7:0] data_i,
  output logic       ready_o,
  // bytes to the UART transmitter
  output logic       out_valid_o,
  output logic [7:0] out_data_o,
  input  logic       out_ready_i,
  output logic       idle_o         // nothing held (the UART may still be sending the last byte)
);
  localparam logic [7:0] SOF = 8'h7e, ESC = 8'h7d;
  localparam logic [1:0] I_SOF = 2'd0, I_DATA = 2'd1, I_END = 2'd2;

  logic [15:0] crc_q, crc_next;
  logic        sv_q, sesc_q, lo_pend_q;
  logic [7:0]  sb_q, lo_q;

  pb_crc16 u_crc (.crc_i(crc_q), .data_i(data_i), .crc_o(crc_next));

  logic st_ready, push, push_raw, accept, fire;
  logic [7:0] push_b;
  assign st_ready = !sv_q;
  assign ready_o  = st_ready && !lo_pend_q;
  assign accept   = valid_i && ready_o;
  assign fire     = out_valid_o && out_ready_i;

  always_comb begin
    push     = 1'b0;
    push_raw = 1'b0;
    push_b   = data_i;
    if (lo_pend_q && st_ready) begin
      push   = 1'b1;
      push_b = lo_q;
    end else if (accept) begin
      push = 1'b1;
      case (kind_i)
        I_SOF: begin
          push_raw = 1'b1;
          push_b   = SOF;
        end
        I_END:   push_b = crc_q[15:8];
        I_DATA:  push_b = data_i;
        default: push_b = data_i;
      endcase
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      crc_q     <= 16'hffff;
      sv_q      <= 1'b0;
      sesc_q    <= 1'b0;
      sb_q      <= 8'd0;
      lo_pend_q <= 1'b0;
      lo_q      <= 8'd0;
    end else begin
      if (fire) begin
        if (sesc_q) sesc_q <= 1'b0;
        else sv_q <= 1'b0;
      end
      if (push) begin
        sv_q <= 1'b1;
        if (!push_raw && (push_b == SOF || push_b == ESC)) begin
          sesc_q <= 1'b1;
          sb_q   <= push_b ^ 8'h20;
        end else begin
          sesc_q <= 1'b0;
          sb_q   <= push_b;
        end
      end
      if (lo_pend_q && st_ready) lo_pend_q <= 1'b0;
      if (accept) begin
        case (kind_i)
          I_SOF: crc_q <= 16'hffff;
          I_END: begin
            lo_pend_q <= 1'b1;
            lo_q      <= crc_q[7:0];
          end
          default: crc_q <= crc_next;
        endcase
      end
    end
  end

  assign out_valid_o = sv_q;
  assign out_data_o  = sesc_q ? ESC : sb_q;
  assign idle_o      = !sv_q && !lo_pend_q;
endmodule

`default_nettype wire
