// SPDX-License-Identifier: Apache-2.0
// UART bridge of the board (protocol: docs/uart.md): receives request frames, executes them on
// the host memory (byte port of pb_host_mem) and the core's registers, and sends one reply frame
// per request: an ACK (CMD | 0x80) with its data, or a NAK (0xff) with a reason.
//
// Stop and wait: the bridge takes a request only after it has replied to the previous one.
// Duplicates: a CRC-good request with the SEQ and CRC of the previous CRC-good request is a
// retransmission; for a command with effects (WRITE_MEM, FILL_MEM, WRITE_REG, START, RESET) the
// cached reply is sent again and nothing is executed; reads are executed again (no effects).
`default_nettype none

module pb_uart_bridge #(
  parameter longint HOST_BYTES = 64'd131072,
  parameter int CLKS_PER_BIT   = 4,
  parameter int TIMEOUT_CYCLES = 60000,   // inter-byte timeout inside a request frame
  parameter int BUF_BYTES      = 256      // longest WRITE_MEM / READ_MEM data
) (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic        rx_i,
  output logic        tx_o,
  // host memory, one byte per request (pb_host_mem's bridge port)
  output logic        mem_req_valid_o,
  output logic        mem_req_we_o,
  output logic [31:0] mem_req_addr_o,
  output logic [7:0]  mem_req_wdata_o,
  input  logic        mem_req_ready_i,
  input  logic        mem_rsp_valid_i,
  input  logic [7:0]  mem_rsp_data_i,
  // core registers (pb_core's register port; rdata is combinational)
  output logic        reg_we_o,
  output logic [7:0]  reg_addr_o,
  output logic [31:0] reg_wdata_o,
  input  logic [31:0] reg_rdata_i,
  output logic        core_rst_o,   // hold the core in reset (RESET command)
  output logic        busy_o        // a request is being received, executed or answered
);
  localparam int BW = $clog2(BUF_BYTES);
  localparam logic [31:0] PROTO_VERSION = 32'd1;
  localparam logic [31:0] BOARD_ID      = 32'h4452_4250;   // "PBRD" in little-endian bytes
  // commands, replies, NAK reasons (docs/uart.md)
  localparam logic [7:0] C_WRITE_MEM = 8'h01, C_READ_MEM = 8'h02, C_FILL_MEM = 8'h03, C_WRITE_REG = 8'h04,
                         C_READ_REG = 8'h05, C_START = 8'h06, C_STATUS = 8'h07, C_RESET = 8'h08;
  localparam logic [7:0] R_NAK = 8'hff;
  localparam logic [7:0] E_CRC = 8'd1, E_TIMEOUT = 8'd2, E_LENGTH = 8'd3, E_COMMAND = 8'd4, E_RANGE = 8'd5,
                         E_BUSY = 8'd6;
  localparam logic [1:0] K_OK = 2'd0, K_CRC = 2'd1;
  localparam logic [1:0] SRC_NONE = 2'd0, SRC_MEM = 2'd1, SRC_REG = 2'd2, SRC_NAK = 2'd3;
  localparam logic [1:0] I_SOF = 2'd0, I_DATA = 2'd1, I_END = 2'd2;

  typedef enum logic [4:0] {
    S_IDLE, S_DECIDE, S_WBUF, S_WMEM, S_FILL, S_WREG, S_START_A, S_START_L, S_START_GO, S_RESET,
    S_T_SOF, S_T_SEQ, S_T_CMD, S_T_LEN0, S_T_LEN1, S_T_FETCH, S_T_MEMWAIT, S_T_PUSH, S_T_END
  } state_t;

  // ---- UART and framing ----
  logic       rx_valid, rx_ferr;
  logic [7:0] rx_data;
  pb_uart_rx #(.CLKS_PER_BIT(CLKS_PER_BIT)) u_rx (
    .clk_i(clk_i), .rst_ni(rst_ni), .rx_i(rx_i), .valid_o(rx_valid), .data_o(rx_data), .frame_err_o(rx_ferr));

  logic          f_ready, f_have_seq, f_have_cmd, f_ack, f_busy;
  logic [1:0]    f_kind;
  logic [7:0]    f_seq, f_cmd, f_v, buf_rdata;
  logic [15:0]   f_len, f_crc;
  logic [31:0]   f_a, f_b;
  logic [BW-1:0] buf_raddr;
  pb_frame_rx #(.BUF_BYTES(BUF_BYTES), .TIMEOUT_CYCLES(TIMEOUT_CYCLES)) u_frx (
    .clk_i(clk_i), .rst_ni(rst_ni), .byte_valid_i(rx_valid), .byte_i(rx_data),
    .ready_o(f_ready), .kind_o(f_kind), .have_seq_o(f_have_seq), .have_cmd_o(f_have_cmd), .seq_o(f_seq),
    .cmd_o(f_cmd), .len_o(f_len), .a_o(f_a), .b_o(f_b), .v_o(f_v), .crc_o(f_crc), .ack_i(f_ack),
    .buf_raddr_i(buf_raddr), .buf_rdata_o(buf_rdata), .busy_o(f_busy));

  logic       t_valid, t_ready, t_idle, u_valid, u_ready, u_busy;
  logic [1:0] t_kind;
  logic [7:0] t_data, u_data;
  pb_frame_tx u_ftx (
    .clk_i(clk_i), .rst_ni(rst_ni), .valid_i(t_valid), .kind_i(t_kind), .data_i(t_data), .ready_o(t_ready),
    .out_valid_o(u_valid), .out_data_o(u_data), .out_ready_i(u_ready), .idle_o(t_idle));
  pb_uart_tx #(.CLKS_PER_BIT(CLKS_PER_BIT)) u_tx (
    .clk_i(clk_i), .rst_ni(rst_ni), .valid_i(u_valid), .data_i(u_data), .ready_o(u_ready), .tx_o(tx_o),
    .busy_o(u_busy));

  // ---- executor state ----
  state_t      state_q;
  logic [31:0] i_q;          // byte index (execution or reply payload)
  logic [15:0] plen_q;       // reply payload bytes
  logic [7:0]  rcmd_q;       // reply CMD byte
  logic [7:0]  status_q;     // 0 (ACK) or the NAK reason
  logic [1:0]  src_q;        // where reply payload bytes come from
  logic [31:0] ra_q;         // first address of a read (memory or register)
  logic [7:0]  pb_q;         // payload byte to send
  logic [31:0] word_q;       // register word being sent
  logic [2:0]  rst_cnt_q;
  logic        core_rst_q;   // registered: it drives the core's asynchronous reset
  logic        cache_q;      // this request updates the duplicate cache
  // duplicate cache: the last CRC-good request and the status of its reply
  logic        last_valid_q;
  logic [7:0]  last_seq_q, last_status_q;
  logic [15:0] last_crc_q;
  // diagnostic counters (board registers)
  logic [15:0] n_ok_q, n_bad_q, n_ferr_q, n_dup_q;

  // ---- decisions on a held frame (used in S_DECIDE) ----
  logic effects, known, len_ok, range_ok, needs_idle, running, dup;
  logic [32:0] mem_end;
  always_comb begin
    known      = 1'b1;
    len_ok     = 1'b0;
    range_ok   = 1'b1;
    needs_idle = 1'b0;
    effects    = 1'b0;
    mem_end    = 33'(f_a) + 33'(f_b);
    case (f_cmd)
      C_WRITE_MEM: begin
        len_ok     = (f_len >= 16'd5) && (32'(f_len) <= 32'(BUF_BYTES) + 32'd4);
        mem_end    = 33'(f_a) + 33'(f_len) - 33'd4;
        range_ok   = 64'(mem_end) <= HOST_BYTES;
        needs_idle = 1'b1;
        effects    = 1'b1;
      end
      C_READ_MEM: begin
        len_ok     = f_len == 16'd8;
        range_ok   = (f_b != 32'd0) && (f_b <= 32'(BUF_BYTES)) && (64'(mem_end) <= HOST_BYTES);
        needs_idle = 1'b1;
      end
      C_FILL_MEM: begin
        len_ok     = f_len == 16'd9;
        range_ok   = 64'(mem_end) <= HOST_BYTES;
        needs_idle = 1'b1;
        effects    = 1'b1;
      end
      C_WRITE_REG: begin
        len_ok   = f_len == 16'd8;
        range_ok = (f_a < 32'h100) && (f_a[1:0] == 2'd0);
        effects  = 1'b1;
      end
      C_READ_REG: begin
        len_ok   = f_len == 16'd8;
        range_ok = (f_a[1:0] == 2'd0) && (f_b != 32'd0) && (f_b <= 32'd64) && (f_a < 32'h200) &&
                   (f_a + (f_b << 2) <= 32'h200);
      end
      C_START: begin
        len_ok     = f_len == 16'd8;
        needs_idle = 1'b1;
        effects    = 1'b1;
      end
      C_STATUS: len_ok = f_len == 16'd0;
      C_RESET: begin
        len_ok  = f_len == 16'd0;
        effects = 1'b1;
      end
      default: known = 1'b0;
    endcase
    running = reg_rdata_i[1:0] == 2'd1;   // STATUS is on the register port in S_IDLE and S_DECIDE
    dup     = effects && last_valid_q && (f_seq == last_seq_q) && (f_crc == last_crc_q);
  end

  // ---- register reads: core registers below 0x100, board registers above ----
  logic [15:0] raddr;        // address of the register being read
  logic [31:0] rword;
  always_comb begin
    case (raddr)
      16'h100: rword = BOARD_ID;
      16'h104: rword = PROTO_VERSION;
      16'h108: rword = 32'(CLKS_PER_BIT);
      16'h10c: rword = 32'(BUF_BYTES);
      16'h110: rword = 32'(TIMEOUT_CYCLES);
      16'h114: rword = 32'(n_ok_q);
      16'h118: rword = 32'(n_bad_q);
      16'h11c: rword = 32'(n_ferr_q);
      16'h120: rword = 32'(n_dup_q);
      default: rword = (raddr < 16'h100) ? reg_rdata_i : 32'd0;
    endcase
  end
  assign raddr = (state_q == S_T_FETCH) ? (ra_q[15:0] + {i_q[15:2], 2'b00}) : 16'h0004;

  // ---- outputs ----
  always_comb begin
    reg_we_o    = 1'b0;
    reg_addr_o  = raddr[7:0];
    reg_wdata_o = f_b;
    case (state_q)
      S_WREG: begin
        reg_we_o   = 1'b1;
        reg_addr_o = f_a[7:0];
      end
      S_START_A: begin
        reg_we_o    = 1'b1;
        reg_addr_o  = 8'h08;
        reg_wdata_o = f_a;
      end
      S_START_L: begin
        reg_we_o   = 1'b1;
        reg_addr_o = 8'h0c;
      end
      S_START_GO: begin
        reg_we_o    = 1'b1;
        reg_addr_o  = 8'h00;
        reg_wdata_o = 32'd1;
      end
      default: ;
    endcase
  end

  assign buf_raddr       = BW'(i_q);
  assign mem_req_valid_o = (state_q == S_WMEM) || (state_q == S_FILL && i_q != f_b) ||
                           (state_q == S_T_FETCH && src_q == SRC_MEM);
  assign mem_req_we_o    = state_q != S_T_FETCH;
  assign mem_req_addr_o  = ((state_q == S_T_FETCH) ? ra_q : f_a) + i_q;
  assign mem_req_wdata_o = (state_q == S_FILL) ? f_v : buf_rdata;
  assign core_rst_o      = core_rst_q;
  assign busy_o          = f_busy || (state_q != S_IDLE) || !t_idle || u_busy;

  always_comb begin
    t_valid = 1'b0;
    t_kind  = I_DATA;
    t_data  = pb_q;
    case (state_q)
      S_T_SOF: begin
        t_valid = 1'b1;
        t_kind  = I_SOF;
      end
      S_T_SEQ: begin
        t_valid = 1'b1;
        t_data  = f_seq;
      end
      S_T_CMD: begin
        t_valid = 1'b1;
        t_data  = rcmd_q;
      end
      S_T_LEN0: begin
        t_valid = 1'b1;
        t_data  = plen_q[7:0];
      end
      S_T_LEN1: begin
        t_valid = 1'b1;
        t_data  = plen_q[15:8];
      end
      S_T_PUSH: t_valid = 1'b1;
      S_T_END: begin
        t_valid = 1'b1;
        t_kind  = I_END;
      end
      default: ;
    endcase
  end
  assign f_ack = (state_q == S_T_END) && t_ready;

  // the next payload byte of a register read
  logic [31:0] rw;
  assign rw = (i_q[1:0] == 2'd0) ? rword : word_q;

  // ---- the executor ----
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q       <= S_IDLE;
      i_q           <= 32'd0;
      plen_q        <= 16'd0;
      rcmd_q        <= 8'd0;
      status_q      <= 8'd0;
      src_q         <= SRC_NONE;
      ra_q          <= 32'd0;
      pb_q          <= 8'd0;
      word_q        <= 32'd0;
      rst_cnt_q     <= 3'd0;
      core_rst_q    <= 1'b0;
      cache_q       <= 1'b0;
      last_valid_q  <= 1'b0;
      last_seq_q    <= 8'd0;
      last_status_q <= 8'd0;
      last_crc_q    <= 16'd0;
      n_ok_q        <= 16'd0;
      n_bad_q       <= 16'd0;
      n_ferr_q      <= 16'd0;
      n_dup_q       <= 16'd0;
    end else begin
      if (rx_ferr) n_ferr_q <= n_ferr_q + 16'd1;
      case (state_q)
        S_IDLE: begin
          i_q <= 32'd0;
          if (f_ready) state_q <= S_DECIDE;
        end

        S_DECIDE: begin
          // defaults: an ACK without data, sent right away, remembered for duplicates
          rcmd_q   <= f_cmd | 8'h80;
          status_q <= 8'd0;
          plen_q   <= 16'd0;
          src_q    <= SRC_NONE;
          cache_q  <= f_kind == K_OK;
          state_q  <= S_T_SOF;
          if (f_kind != K_OK) begin
            n_bad_q <= n_bad_q + 16'd1;
            rcmd_q  <= R_NAK;
            status_q <= (f_kind == K_CRC) ? E_CRC : E_TIMEOUT;
            plen_q  <= 16'd2;
            src_q   <= SRC_NAK;
          end else begin
            n_ok_q <= n_ok_q + 16'd1;
            if (dup) begin
              n_dup_q <= n_dup_q + 16'd1;
              cache_q <= 1'b0;
              if (last_status_q != 8'd0) begin
                rcmd_q   <= R_NAK;
                status_q <= last_status_q;
                plen_q   <= 16'd2;
                src_q    <= SRC_NAK;
              end
            end else if (!known || !len_ok || !range_ok || (needs_idle && running)) begin
              rcmd_q   <= R_NAK;
              status_q <= !known ? E_COMMAND : !len_ok ? E_LENGTH : !range_ok ? E_RANGE : E_BUSY;
              plen_q   <= 16'd2;
              src_q    <= SRC_NAK;
            end else begin
              case (f_cmd)
                C_WRITE_MEM: state_q <= S_WBUF;
                C_FILL_MEM:  state_q <= S_FILL;
                C_WRITE_REG: state_q <= S_WREG;
                C_START:     state_q <= S_START_A;
                C_RESET: begin
                  rst_cnt_q  <= 3'd0;
                  core_rst_q <= 1'b1;
                  state_q    <= S_RESET;
                end
                C_READ_MEM: begin
                  src_q  <= SRC_MEM;
                  ra_q   <= f_a;
                  plen_q <= f_b[15:0];
                end
                C_READ_REG: begin
                  src_q  <= SRC_REG;
                  ra_q   <= f_a;
                  plen_q <= {f_b[13:0], 2'b00};
                end
                C_STATUS: begin
                  src_q  <= SRC_REG;
                  ra_q   <= 32'h4;
                  plen_q <= 16'd60;     // STATUS .. STALLS (0x04 .. 0x3c)
                end
                default: ;
              endcase
            end
          end
        end

        // WRITE_MEM: buffer byte i (registered read) -> host memory
        S_WBUF: state_q <= S_WMEM;
        S_WMEM: begin
          if (mem_req_ready_i) begin
            i_q     <= i_q + 32'd1;
            state_q <= (i_q + 32'd1 == 32'(f_len) - 32'd4) ? S_T_SOF : S_WBUF;
          end
        end

        S_FILL: begin
          if (i_q == f_b) state_q <= S_T_SOF;
          else if (mem_req_ready_i) i_q <= i_q + 32'd1;
        end

        S_WREG:     state_q <= S_T_SOF;
        S_START_A:  state_q <= S_START_L;
        S_START_L:  state_q <= S_START_GO;
        S_START_GO: state_q <= S_T_SOF;
        S_RESET: begin
          rst_cnt_q <= rst_cnt_q + 3'd1;
          if (rst_cnt_q == 3'd3) begin
            core_rst_q <= 1'b0;
            state_q    <= S_T_SOF;
          end
        end

        // ---- the reply ----
        S_T_SOF: begin
          i_q <= 32'd0;
          if (t_ready) state_q <= S_T_SEQ;
        end
        S_T_SEQ:  if (t_ready) state_q <= S_T_CMD;
        S_T_CMD:  if (t_ready) state_q <= S_T_LEN0;
        S_T_LEN0: if (t_ready) state_q <= S_T_LEN1;
        S_T_LEN1: if (t_ready) state_q <= (plen_q == 16'd0) ? S_T_END : S_T_FETCH;
        S_T_FETCH: begin
          case (src_q)
            SRC_MEM: if (mem_req_ready_i) state_q <= S_T_MEMWAIT;
            SRC_REG: begin
              word_q  <= rw;
              pb_q    <= rw[i_q[1:0]*8 +: 8];
              state_q <= S_T_PUSH;
            end
            default: begin   // SRC_NAK: reason, then the request's CMD (0 if it got no CMD byte)
              pb_q    <= (i_q == 32'd0) ? status_q : (f_have_cmd ? f_cmd : 8'd0);
              state_q <= S_T_PUSH;
            end
          endcase
        end
        S_T_MEMWAIT: begin
          if (mem_rsp_valid_i) begin
            pb_q    <= mem_rsp_data_i;
            state_q <= S_T_PUSH;
          end
        end
        S_T_PUSH: begin
          if (t_ready) begin
            i_q     <= i_q + 32'd1;
            state_q <= (i_q + 32'd1 == 32'(plen_q)) ? S_T_END : S_T_FETCH;
          end
        end
        S_T_END: begin
          if (t_ready) begin
            if (cache_q) begin
              last_valid_q  <= 1'b1;
              last_seq_q    <= f_seq;
              last_crc_q    <= f_crc;
              last_status_q <= status_q;
            end
            state_q <= S_IDLE;
          end
        end
        default: state_q <= S_IDLE;
      endcase
    end
  end

  logic unused;
  assign unused = f_have_seq ^ (|f_b[31:16]);
endmodule

`default_nettype wire
