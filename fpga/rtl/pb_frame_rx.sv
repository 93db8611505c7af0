// SPDX-License-Identifier: Apache-2.0
// Request frame receiver of the UART bridge (docs/uart.md): removes the byte stuffing, parses
// SEQ CMD LEN PAYLOAD CRC, checks the CRC-16, keeps payload bytes 0-3 (A) and 4-7 (B) in
// registers and every payload byte j in a block-RAM buffer at address j mod 2^BW (the bridge reads
// it only for a WRITE_MEM with LEN <= 2^BW), and holds the frame for the bridge until ack_i.
//
// A and B are shift registers (no clear at SOF): they hold the frame's bytes 0-3 and 4-7 once
// LEN >= 4 and LEN >= 8 bytes have arrived; the bridge uses them only then (it checks LEN first).
// LEN is valid for a frame whose header was complete, CMD when have_cmd_o, SEQ is 0 for a frame
// that ended before it.
//
// Resynchronization: SOF (0x7e) always starts a new frame (a partial frame before it is
// dropped silently); a frame with no byte for TIMEOUT_CYCLES ends as a TIMEOUT frame; bytes
// that arrive while a frame is held (the bridge executes it and replies) are dropped.
`default_nettype none

module pb_frame_rx #(
  parameter int BW             = 9,        // buffer address bits (2^BW bytes: one iCE40 block RAM)
  parameter int TIMEOUT_CYCLES = 60000
) (
  input  logic          clk_i,
  input  logic          rst_ni,
  input  logic          byte_valid_i,
  input  logic [7:0]    byte_i,
  // the held frame
  output logic          ready_o,      // a frame is held (until ack_i)
  output logic [1:0]    kind_o,       // 0 CRC good, 1 CRC bad, 2 inter-byte timeout
  output logic          have_cmd_o,   // the frame got as far as its CMD byte
  output logic [7:0]    seq_o,
  output logic [7:0]    cmd_o,
  output logic [15:0]   len_o,
  output logic [31:0]   a_o,
  output logic [31:0]   b_o,
  output logic [15:0]   crc_o,        // the frame's CRC field
  input  logic          ack_i,
  // payload byte j is buffer byte j; registered read (data in the next cycle)
  input  logic [BW-1:0] buf_raddr_i,
  output logic [7:0]    buf_rdata_o,
  output logic          busy_o        // inside a frame or holding one
);
  localparam logic [7:0] SOF = 8'h7e, ESC = 8'h7d;
  localparam int TW = $clog2(TIMEOUT_CYCLES + 1);
  localparam logic [2:0] S_HUNT = 3'd0, S_HDR = 3'd1, S_PAY = 3'd2, S_CRC0 = 3'd3, S_CRC1 = 3'd4, S_HOLD = 3'd5;
  localparam logic [1:0] K_OK = 2'd0, K_CRC = 2'd1, K_TIMEOUT = 2'd2;

  logic [2:0]    state_q;
  logic          esc_q, have_cmd_q;
  logic [1:0]    hdr_q;       // header byte index
  logic [15:0]   j_q;         // payload index
  logic [15:0]   j1_q;        // j_q + 1 (a register: the payload ends when j1_q == LEN, no carry chain)
  logic [15:0]   crc_q, crc_next;
  logic [TW-1:0] tcnt_q;
  logic [1:0]    kind_q;
  logic [7:0]    seq_q, cmd_q;
  logic [15:0]   len_q, rcrc_q;
  logic [31:0]   a_q, b_q;
  logic [7:0]    buf_q [0:(1<<BW)-1];
  logic [7:0]    rdata_q;

  // one body byte (after unstuffing)
  logic       in_frame, body;
  logic [7:0] b;
  assign in_frame = (state_q != S_HUNT) && (state_q != S_HOLD);
  assign body     = byte_valid_i && in_frame && (byte_i != SOF) && !(byte_i == ESC && !esc_q);
  assign b        = esc_q ? (byte_i ^ 8'h20) : byte_i;

  pb_crc16 u_crc (.crc_i(crc_q), .data_i(b), .crc_o(crc_next));

  logic pay;
  assign pay = body && (state_q == S_PAY);

  always_ff @(posedge clk_i) begin
    if (pay) buf_q[j_q[BW-1:0]] <= b;
    rdata_q <= buf_q[buf_raddr_i];
  end
  assign buf_rdata_o = rdata_q;

  // A, B: shift registers without reset (see above)
  always_ff @(posedge clk_i) begin
    if (pay && j_q[15:2] == 14'd0) a_q <= {b, a_q[31:8]};
    if (pay && j_q[15:2] == 14'd1) b_q <= {b, b_q[31:8]};
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q    <= S_HUNT;
      esc_q      <= 1'b0;
      have_cmd_q <= 1'b0;
      hdr_q      <= 2'd0;
      j_q        <= 16'd0;
      j1_q       <= 16'd1;
      crc_q      <= 16'hffff;
      tcnt_q     <= '0;
      kind_q     <= K_OK;
      seq_q      <= 8'd0;
      cmd_q      <= 8'd0;
      len_q      <= 16'd0;
      rcrc_q     <= 16'd0;
    end else if (state_q == S_HOLD) begin
      if (ack_i) state_q <= S_HUNT;
    end else if (byte_valid_i && byte_i == SOF) begin
      state_q    <= S_HDR;
      esc_q      <= 1'b0;
      have_cmd_q <= 1'b0;
      hdr_q      <= 2'd0;
      j_q        <= 16'd0;
      j1_q       <= 16'd1;
      crc_q      <= 16'hffff;
      tcnt_q     <= '0;
      seq_q      <= 8'd0;
    end else if (in_frame) begin
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
        case (state_q)
          S_HDR: begin
            hdr_q <= hdr_q + 2'd1;
            case (hdr_q)
              2'd0: seq_q <= b;
              2'd1: begin
                cmd_q      <= b;
                have_cmd_q <= 1'b1;
              end
              2'd2: len_q[7:0] <= b;
              default: begin
                len_q[15:8] <= b;
                state_q     <= ({b, len_q[7:0]} == 16'd0) ? S_CRC0 : S_PAY;
              end
            endcase
          end
          S_PAY: begin
            j_q  <= j1_q;
            j1_q <= j1_q + 16'd1;
            if (j1_q == len_q) state_q <= S_CRC0;
          end
          S_CRC0: begin
            rcrc_q[15:8] <= b;
            state_q      <= S_CRC1;
          end
          default: begin   // S_CRC1
            rcrc_q[7:0] <= b;
            kind_q      <= (crc_next == 16'd0) ? K_OK : K_CRC;
            state_q     <= S_HOLD;
          end
        endcase
      end
    end
  end

  assign ready_o    = state_q == S_HOLD;
  assign kind_o     = kind_q;
  assign have_cmd_o = have_cmd_q;
  assign seq_o      = seq_q;
  assign cmd_o      = cmd_q;
  assign len_o      = len_q;
  assign a_o        = a_q;
  assign b_o        = b_q;
  assign crc_o      = rcrc_q;
  assign busy_o     = state_q != S_HUNT;
endmodule

`default_nettype wire
