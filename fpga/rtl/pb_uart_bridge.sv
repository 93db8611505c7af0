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
  parameter int BUF_BYTES      = 256      // longest WRITE_MEM / READ_MEM data (a power of 2)
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
  output logic        core_rst_o,   // hold the core in reset (RESET command), registered
  output logic        busy_o        // a request is being received, executed or answered
);
  localparam int HB = $clog2(HOST_BYTES);        // host address bits
  localparam int XW = (HB > 9) ? HB : 9;         // addr_q: host addresses and register addresses (< 0x200)
  localparam int RW = HB + 1;                    // byte counts: FILL_MEM up to HOST_BYTES, replies up to BUF_BYTES
  localparam int FW = $clog2(BUF_BYTES + 5);     // frame buffer index: payload bytes 0 .. BUF_BYTES + 3
  localparam logic [31:0] PROTO_VERSION = 32'd1;
  localparam logic [31:0] BOARD_ID      = 32'h4452_4250;   // "PBRD" in little-endian bytes
  // commands, replies, NAK reasons (docs/uart.md)
  localparam logic [7:0] C_WRITE_MEM = 8'h01, C_READ_MEM = 8'h02, C_FILL_MEM = 8'h03, C_WRITE_REG = 8'h04,
                         C_READ_REG = 8'h05, C_START = 8'h06, C_STATUS = 8'h07, C_RESET = 8'h08;
  localparam logic [7:0] R_NAK = 8'hff;
  localparam logic [2:0] E_CRC = 3'd1, E_TIMEOUT = 3'd2, E_LENGTH = 3'd3, E_COMMAND = 3'd4, E_RANGE = 3'd5,
                         E_BUSY = 3'd6;
  localparam logic [1:0] K_OK = 2'd0, K_CRC = 2'd1;
  localparam logic [1:0] SRC_NONE = 2'd0, SRC_MEM = 2'd1, SRC_REG = 2'd2;
  localparam logic [1:0] I_SOF = 2'd0, I_DATA = 2'd1, I_END = 2'd2;

  typedef enum logic [4:0] {
    S_IDLE, S_CHK1, S_CHK2, S_DECIDE, S_WBUF, S_WMEM, S_FILL, S_WREG, S_START_A, S_START_L, S_START_GO, S_RESET,
    S_T_SOF, S_T_SEQ, S_T_CMD, S_T_LEN0, S_T_LEN1, S_T_FETCH, S_T_MEMWAIT, S_T_CNT, S_T_PUSH, S_T_END
  } state_t;

  // ---- UART and framing ----
  logic       rx_valid, rx_ferr;
  logic [7:0] rx_data;
  pb_uart_rx #(.CLKS_PER_BIT(CLKS_PER_BIT)) u_rx (
    .clk_i(clk_i), .rst_ni(rst_ni), .rx_i(rx_i), .valid_o(rx_valid), .data_o(rx_data), .frame_err_o(rx_ferr));

  logic          f_ready, f_have_cmd, f_ack, f_busy;
  logic [1:0]    f_kind;
  logic [7:0]    f_seq, f_cmd, buf_rdata;
  logic [15:0]   f_len, f_crc;
  logic [31:0]   f_a, f_b;
  logic [FW-1:0] bi_q;         // frame buffer index: WRITE_MEM's data byte i is payload byte 4 + i;
                               // 8 (FILL_MEM's value V) from S_IDLE on, so it is read out in S_DECIDE
  pb_frame_rx #(.BW(FW), .TIMEOUT_CYCLES(TIMEOUT_CYCLES)) u_frx (
    .clk_i(clk_i), .rst_ni(rst_ni), .byte_valid_i(rx_valid), .byte_i(rx_data),
    .ready_o(f_ready), .kind_o(f_kind), .have_cmd_o(f_have_cmd), .seq_o(f_seq), .cmd_o(f_cmd), .len_o(f_len),
    .a_o(f_a), .b_o(f_b), .crc_o(f_crc), .ack_i(f_ack), .buf_raddr_i(bi_q), .buf_rdata_o(buf_rdata),
    .busy_o(f_busy));

  logic       t_valid, t_ready, t_idle, u_valid, u_ready, u_busy;
  logic [1:0] t_kind;
  logic [7:0] t_data, u_data;
  pb_frame_tx u_ftx (
    .clk_i(clk_i), .rst_ni(rst_ni), .valid_i(t_valid), .kind_i(t_kind), .data_i(t_data), .ready_o(t_ready),
    .out_valid_o(u_valid), .out_data_o(u_data), .out_ready_i(u_ready), .idle_o(t_idle));
  pb_uart_tx #(.CLKS_PER_BIT(CLKS_PER_BIT)) u_tx (
    .clk_i(clk_i), .rst_ni(rst_ni), .valid_i(u_valid), .data_i(u_data), .ready_o(u_ready), .tx_o(tx_o),
    .busy_o(u_busy));

  // ---- executor state: one address register, one byte counter, one word shift register ----
  state_t        state_q;
  logic [XW-1:0] addr_q;       // host address of the next memory byte, or the next register's address
  logic [RW-1:0] rem_q;        // memory bytes still to write (WRITE_MEM, FILL_MEM), then reply payload bytes
  logic [1:0]    pi_q;         // reply payload byte index mod 4 (register words); RESET's cycle count
  logic [2:0]    status_q;     // 0 (ACK) or the NAK reason
  logic [1:0]    src_q;        // where reply payload bytes come from (SRC_NONE: already in w_q)
  logic [31:0]   w_q;          // reply payload bytes to send, byte 0 first
  logic          core_rst_q;   // drives the core's asynchronous reset: a register
  logic          cache_q;      // this request updates the duplicate cache
  // duplicate cache: the last CRC-good request and the status of its reply
  logic          last_valid_q;
  logic [7:0]    last_seq_q;
  logic [2:0]    last_status_q;
  logic [15:0]   last_crc_q;

  // ---- decisions on a held frame, in narrow arithmetic and three registered steps ----
  // The frame is held (f_ready) from S_IDLE until its reply ends, so registers that follow it in
  // every cycle hold its values: step 1 at the end of S_IDLE, step 2 at the end of S_CHK1, the
  // NAK reason at the end of S_CHK2; S_DECIDE uses them. Comparisons with constants are written as
  // bit tests (Yosys maps <= and >= to carry chains).
  localparam int BB = $clog2(BUF_BYTES);         // BUF_BYTES is a power of 2
  localparam bit HOST_POW2 = HOST_BYTES == (64'd1 << HB);
  // step 1: from the frame
  logic          effects, known, len_ok, needs_idle, a_small, b_nz, b_le_buf, b_le_64, b_fill, wlen_ok;
  logic          endb_ok, wreg_ok, rreg_ok;
  logic [HB+1:0] endb;         // A + B (READ_MEM, FILL_MEM)
  logic [FW-1:0] wlen;         // WRITE_MEM data bytes: LEN - 4
  logic [7:0]    reg_end;      // READ_REG: (A + 4 B) / 4
  assign wlen = f_len[FW-1:0] - FW'(4);
  always_comb begin
    a_small  = f_a[31:HB] == '0;
    b_nz     = f_b != 32'd0;
    b_le_buf = (f_b[31:BB+1] == '0) && !(f_b[BB] && (f_b[BB-1:0] != '0));
    b_le_64  = (f_b[31:7] == '0) && !(f_b[6] && (f_b[5:0] != '0));
    b_fill   = f_b[31:HB+1] == '0;
    // 5 <= LEN <= BUF_BYTES + 4: LEN < 2^FW and 1 <= LEN - 4 <= BUF_BYTES (in FW bits)
    wlen_ok  = (f_len[15:FW] == '0) && (f_len[FW-1:2] != '0) && (wlen != '0) &&
               !(wlen[BB] && (wlen[BB-1:0] != '0));   // FW = BB + 1
    known      = 1'b1;
    len_ok     = 1'b0;
    needs_idle = 1'b0;
    effects    = 1'b0;
    case (f_cmd)
      C_WRITE_MEM: begin
        len_ok     = wlen_ok;
        needs_idle = 1'b1;
        effects    = 1'b1;
      end
      C_READ_MEM: begin
        len_ok     = f_len == 16'd8;
        needs_idle = 1'b1;
      end
      C_FILL_MEM: begin
        len_ok     = f_len == 16'd9;
        needs_idle = 1'b1;
        effects    = 1'b1;
      end
      C_WRITE_REG: begin
        len_ok  = f_len == 16'd8;
        effects = 1'b1;
      end
      C_READ_REG:  len_ok = f_len == 16'd8;
      C_START: begin
        len_ok     = f_len == 16'd8;
        needs_idle = 1'b1;
        effects    = 1'b1;
      end
      C_STATUS:    len_ok = f_len == 16'd0;
      C_RESET: begin
        len_ok  = f_len == 16'd0;
        effects = 1'b1;
      end
      default:     known = 1'b0;
    endcase
    endb = (HB+2)'(f_a[HB-1:0]) + (HB+2)'(f_b[HB:0]);
    if (HOST_POW2) endb_ok = !endb[HB+1] && !(endb[HB] && (endb[HB-1:0] != '0));
    else           endb_ok = 64'(endb) <= HOST_BYTES;
    reg_end = {1'b0, f_a[8:2]} + {1'b0, f_b[6:0]};   // <= 0x80 words: A + 4 B <= 0x200
    wreg_ok = (f_a[31:8] == 24'd0) && (f_a[1:0] == 2'd0);
    rreg_ok = (f_a[31:9] == 23'd0) && (f_a[1:0] == 2'd0) && b_nz && b_le_64 && !(reg_end[7] && (reg_end[6:0] != 7'd0));
  end

  logic          known_q, len_ok_q, needs_idle_q, running_q, dup_q, a_small_q, b_nz_q, b_le_buf_q, b_fill_q;
  logic          endb_ok_q, endw_ok_q, wreg_ok_q, rreg_ok_q;
  logic [FW-1:0] wlen_q;
  logic [2:0]    nak_q;        // the NAK reason of this frame (0: none)
  always_ff @(posedge clk_i) begin
    known_q      <= known;
    len_ok_q     <= len_ok;
    needs_idle_q <= needs_idle;
    running_q    <= reg_rdata_i[1:0] == 2'd1;   // STATUS is on the register port outside S_T_FETCH
    dup_q        <= effects && last_valid_q && (f_seq == last_seq_q) && (f_crc == last_crc_q);
    a_small_q    <= a_small;
    b_nz_q       <= b_nz;
    b_le_buf_q   <= b_le_buf;
    b_fill_q     <= b_fill;
    endb_ok_q    <= endb_ok;
    wreg_ok_q    <= wreg_ok;
    rreg_ok_q    <= rreg_ok;
    wlen_q       <= wlen;
  end

  // step 2: the end of a WRITE_MEM (A + LEN - 4)
  logic [HB+1:0] endw;
  logic          endw_ok;
  always_comb begin
    endw = (HB+2)'(f_a[HB-1:0]) + (HB+2)'(wlen_q);
    if (HOST_POW2) endw_ok = !endw[HB+1] && !(endw[HB] && (endw[HB-1:0] != '0));
    else           endw_ok = 64'(endw) <= HOST_BYTES;
  end
  always_ff @(posedge clk_i) endw_ok_q <= endw_ok;

  // step 3: the NAK reason
  logic       range_ok;
  logic [2:0] nak;
  always_comb begin
    case (f_cmd)
      C_WRITE_MEM: range_ok = a_small_q && endw_ok_q;
      C_READ_MEM:  range_ok = a_small_q && b_nz_q && b_le_buf_q && endb_ok_q;
      C_FILL_MEM:  range_ok = a_small_q && b_fill_q && endb_ok_q;
      C_WRITE_REG: range_ok = wreg_ok_q;
      C_READ_REG:  range_ok = rreg_ok_q;
      default:     range_ok = 1'b1;
    endcase
    nak = 3'd0;
    if (f_kind != K_OK)               nak = (f_kind == K_CRC) ? E_CRC : E_TIMEOUT;
    else if (dup_q)                   nak = last_status_q;
    else if (!known_q)                nak = E_COMMAND;
    else if (!len_ok_q)               nak = E_LENGTH;
    else if (!range_ok)               nak = E_RANGE;
    else if (needs_idle_q && running_q) nak = E_BUSY;
  end
  always_ff @(posedge clk_i) nak_q <= nak;

  // in S_DECIDE: memory bytes of the command, ACK payload bytes
  logic [RW-1:0] count, plen;
  always_comb begin
    count = (f_cmd == C_WRITE_MEM) ? RW'(wlen_q) : f_b[HB:0];
    case (f_cmd)
      C_READ_MEM: plen = f_b[HB:0];
      C_READ_REG: plen = RW'({f_b[6:0], 2'b00});
      C_STATUS:   plen = RW'(60);   // STATUS .. STALLS (0x04 .. 0x3c)
      default:    plen = '0;
    endcase
  end

  // ---- diagnostic counters: board registers 0x114 .. 0x120, in block RAM at word addresses 5 .. 8 ----
  // An event sets a pending bit; a read-modify-write (read, then write the value + 1) serves one
  // pending counter at a time. After reset the four counters are cleared (4 cycles). The bridge
  // reads a counter (one cycle of latency) only when nothing is pending or being written, so a
  // read sees every event before it, as with counters in flip-flops.
  localparam logic [3:0] CNT_BASE = 4'd5;
  logic [3:0]  cpend_q;        // increments waiting: bit 0 FRAMES_OK, 1 FRAMES_BAD, 2 UART_ERRORS, 3 DUPLICATES
  logic [3:0]  cset, cdone;
  logic [2:0]  cclr_q;         // after reset: counters still to clear
  logic        cwr_q;          // a read-modify-write in its write cycle
  logic [3:0]  cwaddr_q;       // its word address
  logic [1:0]  cpick;          // the pending counter served next
  logic        cstart, bread, is_cnt, cwe;
  logic [3:0]  craddr, cwaddr;
  logic [15:0] crd_q, cwdata;
  (* no_rw_check *)
  logic [15:0] cmem_q [0:15];

  assign cset   = {(state_q == S_DECIDE) && (f_kind == K_OK) && dup_q, rx_ferr,
                   (state_q == S_DECIDE) && (f_kind != K_OK), (state_q == S_DECIDE) && (f_kind == K_OK)};
  assign cpick  = cpend_q[0] ? 2'd0 : cpend_q[1] ? 2'd1 : cpend_q[2] ? 2'd2 : 2'd3;
  assign is_cnt = (addr_q[8:6] == 3'b100) && (addr_q[5:2] >= CNT_BASE) && (addr_q[5:2] <= CNT_BASE + 4'd3);
  assign bread  = (state_q == S_T_FETCH) && (src_q == SRC_REG) && (pi_q == 2'd0) && is_cnt && (cpend_q == 4'd0) &&
                  !cwr_q;
  assign cstart = (cpend_q != 4'd0) && !cwr_q && (cclr_q == 3'd0);
  assign cdone  = cstart ? (4'd1 << cpick) : 4'd0;
  assign craddr = bread ? addr_q[5:2] : CNT_BASE + 4'(cpick);
  assign cwe    = cwr_q || (cclr_q != 3'd0);
  assign cwaddr = (cclr_q != 3'd0) ? CNT_BASE - 4'd1 + 4'(cclr_q) : cwaddr_q;
  assign cwdata = (cclr_q != 3'd0) ? 16'd0 : crd_q + 16'd1;

  always_ff @(posedge clk_i) begin
    if (cwe) cmem_q[cwaddr] <= cwdata;
    if (cstart || bread) crd_q <= cmem_q[craddr];
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      cpend_q  <= 4'd0;
      cclr_q   <= 3'd4;
      cwr_q    <= 1'b0;
      cwaddr_q <= 4'd0;
    end else begin
      cpend_q  <= (cpend_q & ~cdone) | cset;
      cwr_q    <= cstart;
      cwaddr_q <= craddr;
      if (cclr_q != 3'd0) cclr_q <= cclr_q - 3'd1;
    end
  end

  // ---- register reads: core registers below 0x100, board registers above ----
  logic [31:0] rword;
  always_comb begin
    case (addr_q[8:0])
      9'h100:  rword = BOARD_ID;
      9'h104:  rword = PROTO_VERSION;
      9'h108:  rword = 32'(CLKS_PER_BIT);
      9'h10c:  rword = 32'(BUF_BYTES);
      9'h110:  rword = 32'(TIMEOUT_CYCLES);
      default: rword = addr_q[8] ? 32'd0 : reg_rdata_i;
    endcase
  end

  // ---- outputs ----
  always_comb begin
    reg_we_o    = 1'b0;
    reg_addr_o  = (state_q == S_T_FETCH) ? addr_q[7:0] : 8'h04;
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

  assign mem_req_valid_o = (state_q == S_WMEM) || (state_q == S_FILL) ||
                           (state_q == S_T_FETCH && src_q == SRC_MEM);
  assign mem_req_we_o    = state_q != S_T_FETCH;
  assign mem_req_addr_o  = 32'(addr_q[HB-1:0]);
  assign mem_req_wdata_o = buf_rdata;   // WRITE_MEM: data byte bi_q - 4; FILL_MEM: V (bi_q = 8)
  assign core_rst_o      = core_rst_q;
  assign busy_o          = f_busy || (state_q != S_IDLE) || !t_idle || u_busy;

  always_comb begin
    t_valid = 1'b1;
    t_kind  = I_DATA;
    t_data  = w_q[7:0];
    case (state_q)
      S_T_SOF:  t_kind = I_SOF;
      S_T_SEQ:  t_data = f_seq;
      S_T_CMD:  t_data = (status_q != 3'd0) ? R_NAK : (f_cmd | 8'h80);
      S_T_LEN0: t_data = rem_q[7:0];
      S_T_LEN1: t_data = 8'(rem_q >> 8);
      S_T_PUSH: ;
      S_T_END:  t_kind = I_END;
      default:  t_valid = 1'b0;
    endcase
  end
  assign f_ack = (state_q == S_T_END) && t_ready;

  // ---- the executor ----
  logic [XW-1:0] addr_inc;
  assign addr_inc = addr_q + ((src_q == SRC_REG) ? XW'(4) : XW'(1));

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q       <= S_IDLE;
      addr_q        <= '0;
      rem_q         <= '0;
      bi_q          <= FW'(8);
      pi_q          <= 2'd0;
      status_q      <= 3'd0;
      src_q         <= SRC_NONE;
      w_q           <= 32'd0;
      core_rst_q    <= 1'b0;
      cache_q       <= 1'b0;
      last_valid_q  <= 1'b0;
      last_seq_q    <= 8'd0;
      last_status_q <= 3'd0;
      last_crc_q    <= 16'd0;
    end else begin
      case (state_q)
        S_IDLE: begin
          bi_q <= FW'(8);
          if (f_ready) state_q <= S_CHK1;
        end
        S_CHK1: state_q <= S_CHK2;   // the decisions' steps 2 and 3
        S_CHK2: state_q <= S_DECIDE;

        S_DECIDE: begin
          // an ACK without data by default, remembered for duplicates when the CRC was good
          status_q <= nak_q;
          rem_q    <= (nak_q != 3'd0) ? RW'(2) : plen;
          pi_q     <= 2'd0;
          src_q    <= SRC_NONE;
          cache_q  <= (f_kind == K_OK) && !dup_q;
          addr_q   <= XW'(f_a[XW-1:0]);
          w_q      <= {16'd0, f_have_cmd ? f_cmd : 8'd0, 5'd0, nak_q};   // a NAK's payload
          state_q  <= S_T_SOF;
          if (f_kind == K_OK) begin   // the counters: cset
            if (!dup_q && nak_q == 3'd0) begin
              case (f_cmd)
                C_WRITE_MEM: begin
                  rem_q   <= count;
                  bi_q    <= FW'(4);
                  state_q <= S_WBUF;
                end
                C_FILL_MEM: begin   // B = 0: nothing to write (B < 2^(HB+1) here)
                  rem_q   <= count;
                  state_q <= b_nz_q ? S_FILL : S_T_SOF;
                end
                C_WRITE_REG: state_q <= S_WREG;
                C_START:     state_q <= S_START_A;
                C_RESET: begin
                  core_rst_q <= 1'b1;
                  state_q    <= S_RESET;
                end
                C_READ_MEM:  src_q <= SRC_MEM;
                C_READ_REG:  src_q <= SRC_REG;
                C_STATUS: begin
                  src_q  <= SRC_REG;
                  addr_q <= XW'(4);
                end
                default: ;
              endcase
            end
          end
        end

        // WRITE_MEM: buffer byte (registered read) -> host memory, one byte at a time
        S_WBUF: state_q <= S_WMEM;
        S_WMEM: begin
          if (mem_req_ready_i) begin
            addr_q  <= addr_inc;
            bi_q    <= bi_q + FW'(1);
            rem_q   <= rem_q - RW'(1);
            state_q <= (rem_q == RW'(1)) ? S_T_SOF : S_WBUF;
          end
        end

        S_FILL: begin   // rem_q >= 1 (a state decode for mem_req_valid_o: a short path)
          if (mem_req_ready_i) begin
            addr_q <= addr_inc;
            rem_q  <= rem_q - RW'(1);
            if (rem_q == RW'(1)) state_q <= S_T_SOF;
          end
        end

        S_WREG:     state_q <= S_T_SOF;
        S_START_A:  state_q <= S_START_L;
        S_START_L:  state_q <= S_START_GO;
        S_START_GO: state_q <= S_T_SOF;
        S_RESET: begin   // pi_q counts 0..3 and is 0 again for the reply
          pi_q <= pi_q + 2'd1;
          if (pi_q == 2'd3) begin
            core_rst_q <= 1'b0;
            state_q    <= S_T_SOF;
          end
        end

        // ---- the reply: LEN is rem_q, then rem_q counts the payload bytes down ----
        S_T_SOF:  if (t_ready) state_q <= S_T_SEQ;
        S_T_SEQ:  if (t_ready) state_q <= S_T_CMD;
        S_T_CMD:  if (t_ready) state_q <= S_T_LEN0;
        S_T_LEN0: if (t_ready) state_q <= S_T_LEN1;
        S_T_LEN1: if (t_ready) state_q <= (rem_q == '0) ? S_T_END : S_T_FETCH;
        S_T_FETCH: begin
          case (src_q)
            SRC_MEM: if (mem_req_ready_i) state_q <= S_T_MEMWAIT;
            SRC_REG: begin   // a register word is read at its first byte
              if (pi_q != 2'd0) begin
                state_q <= S_T_PUSH;
              end else if (is_cnt) begin
                if (bread) state_q <= S_T_CNT;   // the counter's block-RAM read
              end else begin
                w_q     <= rword;
                addr_q  <= addr_inc;
                state_q <= S_T_PUSH;
              end
            end
            default: state_q <= S_T_PUSH;   // a NAK: reason, then the request's CMD, already in w_q
          endcase
        end
        S_T_MEMWAIT: begin
          if (mem_rsp_valid_i) begin
            w_q[7:0] <= mem_rsp_data_i;
            addr_q   <= addr_inc;
            state_q  <= S_T_PUSH;
          end
        end
        S_T_CNT: begin
          w_q     <= 32'(crd_q);
          addr_q  <= addr_inc;
          state_q <= S_T_PUSH;
        end
        S_T_PUSH: begin
          if (t_ready) begin
            w_q     <= w_q >> 8;
            pi_q    <= pi_q + 2'd1;
            rem_q   <= rem_q - RW'(1);
            state_q <= (rem_q == RW'(1)) ? S_T_END : S_T_FETCH;
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
endmodule

`default_nettype wire
