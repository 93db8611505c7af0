// SPDX-License-Identifier: Apache-2.0
// Request frame receiver of the UART bridge (docs/uart.md): removes the byte stuffing, parses
// SEQ CMD LEN PAYLOAD CRC, checks the CRC-16, keeps payload bytes 0-3 (A), 4-7 (B) and 8 (V) in
// registers and payload bytes 4.. in a BUF_BYTES buffer, and holds the frame for the bridge until
// ack_i.
//
// Resynchronization: SOF (0x7e) always starts a new frame (a partial frame before it is
// dropped silently); a frame with no byte for TIMEOUT_CYCLES ends as a TIMEOUT frame; bytes
// that arrive while a frame is held (the bridge executes it and replies) are dropped.
`default_nettype none

module pb_frame_rx #(
  parameter int BUF_BYTES      = 256,
  parameter int TIMEOUT_CYCLES = 60000
) (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic        byte_valid_i,
  input  logic [7:0]  byte_i,
  // the held frame
  output logic        ready_o,      // a frame is held (until ack_i)
  output logic [1:0]  kind_o,       // 0 CRC good, 1 CRC bad, 2 inter-byte timeout
  output logic        have_seq_o,   // the frame got as far as its SEQ byte (and CMD: have_cmd_o)
  output logic        have_cmd_o,
  output logic [7:0]  seq_o,
  output logic [7:0]  cmd_o,
  output logic [15:0] len_o,
  output logic [31:0] a_o,
  output logic [31:0] b_o,
  output logic [7:0]  v_o,
  output logic [15:0] crc_o,        // the frame's CRC field
  input  logic        ack_i,
  // payload byte 4 + i is buffer byte i; registered read (data in the next cycle)
  input  logic [$clog2(BUF_BYTES)-1:0] buf_raddr_i,
  output logic [7:0]  buf_rdata_o,
  output logic        busy_o        // inside a frame or holding one
);
  localparam logic [7:0] SOF = 8'h7e, ESC = 8'h7d;
  localparam int TW = $clog2(TIMEOUT_CYCLES + 1);
  localparam int BW = $clog2(BUF_BYTES);
  localparam logic [1:0] S_HUNT = 2'd0, S_BODY = 2'd1, S_HOLD = 2'd2;
  localparam logic [1:0] K_OK = 2'd0, K_CRC = 2'd1, K_TIMEOUT = 2'd2;

  logic [1:0]    state_q;
  logic          esc_q;
  logic [16:0]   idx_q;       // body bytes received
  logic [15:0]   crc_q, crc_next;
  logic [TW-1:0] tcnt_q;
  logic [1:0]    kind_q;
  logic [7:0]    seq_q, cmd_q, v_q;
  logic [15:0]   len_q, rcrc_q;
  logic [31:0]   a_q, b_q;
  logic [7:0]    buf_q [0:BUF_BYTES-1];
  logic [7:0]    rdata_q;

  // one body byte (after unstuffing)
  logic       body;
  logic [7:0] b;
  assign body = byte_valid_i && (state_q == S_BODY) && (byte_i != SOF) && !(byte_i == ESC && !esc_q);
  assign b    = esc_q ? (byte_i ^ 8'h20) : byte_i;

  pb_crc16 u_crc (.crc_i(crc_q), .data_i(b), .crc_o(crc_next));

  // where the byte goes
  logic [16:0] pay_j;      // payload index when idx >= 4
  logic        is_pay, is_last, buf_we;
  assign pay_j   = idx_q - 17'd4;
  assign is_pay  = (idx_q >= 17'd4) && (pay_j < {1'b0, len_q});
  assign is_last = (idx_q >= 17'd4) && (idx_q == {1'b0, len_q} + 17'd5);
  assign buf_we  = body && is_pay && (pay_j >= 17'd4) && (pay_j - 17'd4 < 17'(BUF_BYTES));

  logic [BW-1:0] buf_waddr;
  assign buf_waddr = BW'(pay_j - 17'd4);

  always_ff @(posedge clk_i) begin
    if (buf_we) buf_q[buf_waddr] <= b;
    rdata_q <= buf_q[buf_raddr_i];
  end
  assign buf_rdata_o = rdata_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= S_HUNT;
      esc_q   <= 1'b0;
      idx_q   <= 17'd0;
      crc_q   <= 16'hffff;
      tcnt_q  <= '0;
      kind_q  <= K_OK;
      seq_q   <= 8'd0;
      cmd_q   <= 8'd0;
      len_q   <= 16'd0;
      rcrc_q  <= 16'd0;
      a_q     <= 32'd0;
      b_q     <= 32'd0;
      v_q     <= 8'd0;
    end else begin
      case (state_q)
        S_HOLD: begin
          if (ack_i) state_q <= S_HUNT;
        end
        default: begin   // S_HUNT, S_BODY
          if (byte_valid_i && byte_i == SOF) begin
            state_q <= S_BODY;
            esc_q   <= 1'b0;
            idx_q   <= 17'd0;
            crc_q   <= 16'hffff;
            tcnt_q  <= '0;
            seq_q   <= 8'd0;
            cmd_q   <= 8'd0;
            len_q   <= 16'd0;
            a_q     <= 32'd0;
            b_q     <= 32'd0;
            v_q     <= 8'd0;
          end else if (state_q == S_BODY) begin
            if (byte_valid_i) begin
              tcnt_q <= '0;
              esc_q  <= (byte_i == ESC) && !esc_q;
            end else if (tcnt_q == TW'(TIMEOUT_CYCLES - 1)) begin
              kind_q  <= K_TIMEOUT;
              state_q <= S_HOLD;
            end else begin
              tcnt_q <= tcnt_q + TW'(1);
            end
            if (body) begin
              crc_q <= crc_next;
              idx_q <= idx_q + 17'd1;
              case (idx_q)
                17'd0: seq_q <= b;
                17'd1: cmd_q <= b;
                17'd2: len_q[7:0] <= b;
                17'd3: len_q[15:8] <= b;
                default: begin
                  if (is_pay) begin
                    if (pay_j < 17'd4) a_q[pay_j[1:0]*8 +: 8] <= b;
                    else if (pay_j < 17'd8) b_q[pay_j[1:0]*8 +: 8] <= b;
                    else if (pay_j == 17'd8) v_q <= b;
                  end else if (is_last) begin
                    rcrc_q[7:0] <= b;
                    kind_q      <= (crc_next == 16'd0) ? K_OK : K_CRC;
                    state_q     <= S_HOLD;
                  end else begin
                    rcrc_q[15:8] <= b;
                  end
                end
              endcase
            end
          end
        end
      endcase
    end
  end

  assign ready_o    = state_q == S_HOLD;
  assign kind_o     = kind_q;
  assign have_seq_o = idx_q >= 17'd1;
  assign have_cmd_o = idx_q >= 17'd2;
  assign seq_o      = seq_q;
  assign cmd_o      = cmd_q;
  assign len_o      = len_q;
  assign a_o        = a_q;
  assign b_o        = b_q;
  assign v_o        = v_q;
  assign crc_o      = rcrc_q;
  assign busy_o     = state_q != S_HUNT;
endmodule

`default_nettype wire
