// SPDX-License-Identifier: Apache-2.0
// UART bridge of the board (protocol: docs/uart.md): receives request frames, executes them on
// the host memory (byte port of pb_host_mem) and the core's registers, and sends one reply frame
// per request: an ACK (CMD | 0x80) with its data, or a NAK (0xff) with a reason.
//
// One FSM: in S_IDLE the request parser runs (unstuffing, CRC check, inter-byte timeout; every
// payload byte j goes into a block-RAM buffer at address j mod 2^FW, and bytes 0-3 (A) and 4-7
// (B) also into the address and count registers, as far as they are wide, with a flag that the
// bits above are zero); then the checks, the execution and the reply, while bytes that arrive
// are dropped. WRITE_REG's and START's 32-bit values are read back from the buffer. The reply
// goes byte by byte straight to the UART transmitter (byte stuffing by one flag); one CRC unit
// serves the request and the reply.
//
// Stop and wait: the bridge takes a request only after it has replied to the previous one.
// Duplicates: a CRC-good request with the SEQ and CRC of the previous CRC-good request is a
// retransmission; for a command with effects (WRITE_MEM, FILL_MEM, WRITE_REG, START, RESET) the
// cached reply is sent again and nothing is executed; reads are executed again (no effects).
//
// Resynchronization: SOF (0x7e) always starts a new frame (a partial frame before it is dropped
// silently); a frame with no byte for TIMEOUT_CYCLES ends as a TIMEOUT frame.
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
  localparam int XW = (HB > 9) ? HB : 9;         // addr_q: A's low bits, host and register addresses (< 0x200)
  localparam int RW = (HB + 1 > 9) ? HB + 1 : 9; // cnt_q: B's low bits, byte counts (FILL_MEM up to HOST_BYTES)
  localparam int FW = $clog2(BUF_BYTES + 5);     // frame buffer index: payload bytes 0 .. BUF_BYTES + 3
  localparam int BB = $clog2(BUF_BYTES);         // BUF_BYTES is a power of 2; FW = BB + 1
  localparam int TW = $clog2(TIMEOUT_CYCLES + 1);
  localparam logic [31:0] PROTO_VERSION = 32'd1;
  localparam logic [31:0] BOARD_ID      = 32'h4452_4250;   // "PBRD" in little-endian bytes
  localparam logic [7:0] SOF = 8'h7e, ESC = 8'h7d;
  // commands, replies, NAK reasons (docs/uart.md)
  localparam logic [7:0] C_WRITE_MEM = 8'h01, C_READ_MEM = 8'h02, C_FILL_MEM = 8'h03, C_WRITE_REG = 8'h04,
                         C_READ_REG = 8'h05, C_START = 8'h06, C_STATUS = 8'h07, C_RESET = 8'h08;
  localparam logic [7:0] R_NAK = 8'hff;
  localparam logic [2:0] E_CRC = 3'd1, E_TIMEOUT = 3'd2, E_LENGTH = 3'd3, E_COMMAND = 3'd4, E_RANGE = 3'd5,
                         E_BUSY = 3'd6;
  localparam logic [1:0] K_OK = 2'd0, K_CRC = 2'd1, K_TIMEOUT = 2'd2;
  localparam logic [1:0] SRC_NONE = 2'd0, SRC_MEM = 2'd1, SRC_REG = 2'd2;
  localparam logic [2:0] R_HUNT = 3'd0, R_HDR = 3'd1, R_PAY = 3'd2, R_CRC0 = 3'd3, R_CRC1 = 3'd4;
  // bits of A and B above addr_q and cnt_q (checked for zero as the bytes arrive)
  localparam logic [31:0] AHI = ~((32'd1 << XW) - 32'd1);
  localparam logic [31:0] BHI = ~((32'd1 << RW) - 32'd1);

  typedef enum logic [4:0] {
    S_IDLE, S_CHK1, S_CHK2, S_DECIDE, S_WBUF, S_WMEM, S_FILL, S_PRIME, S_LD, S_REGW, S_RESET,
    S_T_SOF, S_T_SEQ, S_T_CMD, S_T_LEN0, S_T_LEN1, S_T_FETCH, S_T_MEMWAIT, S_T_CNT, S_T_PUSH, S_T_CRC0, S_T_CRC1
  } state_t;

  // ---- UART ----
  logic       rx_valid, rx_ferr;
  logic [7:0] rx_data;
  pb_uart_rx #(.CLKS_PER_BIT(CLKS_PER_BIT)) u_rx (
    .clk_i(clk_i), .rst_ni(rst_ni), .rx_i(rx_i), .valid_o(rx_valid), .data_o(rx_data), .frame_err_o(rx_ferr));

  logic       u_valid, u_ready, u_busy;
  logic [7:0] u_data;
  pb_uart_tx #(.CLKS_PER_BIT(CLKS_PER_BIT)) u_tx (
    .clk_i(clk_i), .rst_ni(rst_ni), .valid_i(u_valid), .data_i(u_data), .ready_o(u_ready), .tx_o(tx_o),
    .busy_o(u_busy));

  // ---- state ----
  // One-hot in synthesis: Yosys does not re-encode an FSM with a default branch (it takes it for
  // self-resetting), and the many state tests of the outputs and the datapath are single bits then.
  // (The default branch only leaves codes that are never reached.)
  (* fsm_encoding = "one-hot" *)
  state_t        state_q;
  // the request (parsed in S_IDLE, held until its reply ends)
  logic [2:0]    rs_q;         // parser state (R_HUNT .. R_CRC1)
  logic          esc_q;        // the last byte was ESC
  logic [1:0]    hdr_q;        // header byte index
  logic [FW-1:0] j_q;          // payload byte index (mod 2^FW): its buffer address
  logic [15:0]   left_q;       // LEN, then the payload bytes still to come
  logic [15:0]   crc_q;        // the request's CRC, then the reply's
  logic          tesc_q;       // the reply byte of this state needs escaping and ESC has been sent
  logic          tok_q;        // this state's reply byte was there in the last cycle: tneed_q is its
  logic          tneed_q;      // the last cycle's reply byte needs escaping (registered for timing)
  logic [TW-1:0] tcnt_q;
  logic [1:0]    kind_q;       // K_OK, K_CRC, K_TIMEOUT
  logic          have_cmd_q;   // the frame got as far as its CMD byte
  logic [7:0]    seq_q, cmd_q;
  logic          crchi_q;      // the CRC field's high byte equals the body's CRC (crc_q)
  logic          match_q;      // SEQ (at the frame's end: SEQ and CRC) equal the cached request's
  logic          len_ok_q;     // LEN fits CMD (decided at LEN's high byte)
  logic          az_q, bz_q;   // A[31:XW] == 0, B[31:RW] == 0
  // the executor: one address register, one byte counter, one word shift register
  logic [XW-1:0] addr_q;       // A's low bits; the next memory byte's address, or the next register's
  logic [RW-1:0] cnt_q;        // B's low bits; memory bytes still to write, then reply payload bytes
  logic [FW-1:0] bi_q;         // buffer read address (8: FILL_MEM's value V, read out from S_IDLE on)
  logic [1:0]    pi_q;         // reply payload byte index mod 4 (register words); bytes loaded; RESET's cycles
  logic [2:0]    status_q;     // 0 (ACK) or the NAK reason
  logic [1:0]    src_q;        // where reply payload bytes come from (SRC_NONE: already in w_q)
  logic [31:0]   w_q;          // reply payload bytes to send, byte 0 first; a register write's value
  logic          core_rst_q;   // drives the core's asynchronous reset: a register
  logic          mvalid_q;     // mem_req_valid_o
  // duplicate cache: the last CRC-good request that was not a retransmission and the status of
  // its reply. SEQ and the CRC field are written at the CRC's low byte of every CRC-good request
  // (for a retransmission they are the same values), after the bytes were compared with the
  // cached ones; the status and the valid bit when the request is decided.
  logic          last_valid_q;
  logic [7:0]    last_seq_q;
  logic [2:0]    last_status_q;
  logic [15:0]   last_crc_q;

  // ---- the parser's byte: one body byte after unstuffing ----
  logic        idle, in_frame, body, pay, sof;
  logic [7:0]  b;
  logic [15:0] crc_next, len;
  assign idle     = state_q == S_IDLE;
  assign in_frame = idle && (rs_q != R_HUNT);
  assign sof      = idle && rx_valid && (rx_data == SOF);
  assign body     = rx_valid && in_frame && (rx_data != SOF) && !(rx_data == ESC && !esc_q);
  assign b        = esc_q ? (rx_data ^ 8'h20) : rx_data;
  assign pay      = body && (rs_q == R_PAY);
  assign len      = {b, left_q[7:0]};   // at LEN's high byte

  // one CRC unit: the request's body bytes in S_IDLE, the reply's in S_T_SEQ .. S_T_PUSH
  logic [7:0] tbyte;
  pb_crc16 u_crc (.crc_i(crc_q), .data_i(idle ? b : tbyte), .crc_o(crc_next));

  // the frame buffer: payload byte j at address j mod 2^FW; registered read at bi_q. Bytes are
  // written only in S_IDLE and read data is used only from S_WMEM, S_LD and S_T_PUSH on, at least
  // three cycles after the last write (the CRC's two bytes and S_CHK1, S_CHK2, S_DECIDE come
  // between): what a read in the cycle of a write to its address returns is never used
  // (no_rw_check: Yosys need not add logic that makes it the old byte).
  (* no_rw_check *)
  logic [7:0] buf_q [0:(1<<FW)-1];
  logic [7:0] rdata_q;
  always_ff @(posedge clk_i) begin
    if (pay) buf_q[j_q] <= b;
    rdata_q <= buf_q[bi_q];
  end

  // LEN fits CMD: 5 <= LEN <= BUF_BYTES + 4 for WRITE_MEM (LEN < 2^FW and 1 <= LEN - 4 <= BUF_BYTES)
  logic [FW-1:0] wlen, jdata;
  logic          len_fits;
  assign wlen  = len[FW-1:0] - FW'(4);
  assign jdata = j_q - FW'(4);           // at the frame's end: WRITE_MEM's data bytes
  always_comb begin
    case (cmd_q)
      C_WRITE_MEM: len_fits = (len[15:FW] == '0) && (len[FW-1:2] != '0) && (wlen != '0) &&
                              !(wlen[BB] && (wlen[BB-1:0] != '0));
      C_READ_MEM, C_WRITE_REG, C_READ_REG, C_START: len_fits = len == 16'd8;
      C_FILL_MEM:          len_fits = len == 16'd9;
      C_STATUS, C_RESET:   len_fits = len == 16'd0;
      default:             len_fits = 1'b0;
    endcase
  end

  // ---- decisions on the held request, in narrow arithmetic and two registered steps ----
  // Comparisons with constants are bit tests (Yosys maps <= and >= to carry chains).
  localparam bit HOST_POW2 = HOST_BYTES == (64'd1 << HB);
  logic          effects, known, needs_idle, a_small, b_nz, b_le_buf, b_le_64, b_fill, endb_ok, wreg_ok, rreg_ok;
  logic [HB+1:0] endb;         // A + B (READ_MEM, FILL_MEM), A + LEN - 4 (WRITE_MEM: cnt_q)
  logic [7:0]    reg_end;      // READ_REG: (A + 4 B) / 4
  always_comb begin
    a_small  = az_q && ((addr_q >> HB) == '0);
    b_nz     = !bz_q || (cnt_q != '0);
    b_le_buf = bz_q && ((cnt_q >> (BB + 1)) == '0) && !(cnt_q[BB] && (cnt_q[BB-1:0] != '0));
    b_le_64  = bz_q && ((cnt_q >> 7) == '0) && !(cnt_q[6] && (cnt_q[5:0] != '0));
    b_fill   = bz_q && ((cnt_q >> (HB + 1)) == '0);
    known      = 1'b1;
    needs_idle = 1'b0;
    effects    = 1'b0;
    case (cmd_q)
      C_WRITE_MEM: begin
        needs_idle = 1'b1;
        effects    = 1'b1;
      end
      C_READ_MEM:  needs_idle = 1'b1;
      C_FILL_MEM: begin
        needs_idle = 1'b1;
        effects    = 1'b1;
      end
      C_WRITE_REG: effects = 1'b1;
      C_READ_REG:  ;
      C_START: begin
        needs_idle = 1'b1;
        effects    = 1'b1;
      end
      C_STATUS:    ;
      C_RESET:     effects = 1'b1;
      default:     known = 1'b0;
    endcase
    endb = (HB+2)'(addr_q[HB-1:0]) + (HB+2)'(cnt_q[HB:0]);
    if (HOST_POW2) endb_ok = !endb[HB+1] && !(endb[HB] && (endb[HB-1:0] != '0));
    else           endb_ok = 64'(endb) <= HOST_BYTES;
    reg_end = {1'b0, addr_q[8:2]} + {1'b0, cnt_q[6:0]};   // <= 0x80 words: A + 4 B <= 0x200
    wreg_ok = az_q && ((addr_q >> 8) == '0) && (addr_q[1:0] == 2'd0);
    rreg_ok = az_q && ((addr_q >> 9) == '0) && (addr_q[1:0] == 2'd0) && b_nz && b_le_64 &&
              !(reg_end[7] && (reg_end[6:0] != 7'd0));
  end

  // step 1 (registered in every cycle; the request's values hold from S_CHK1 on)
  logic known_q, needs_idle_q, running_q, dup_q, a_small_q, b_nz_q, b_le_buf_q, b_fill_q, endb_ok_q;
  logic wreg_ok_q, rreg_ok_q;
  always_ff @(posedge clk_i) begin
    known_q      <= known;
    needs_idle_q <= needs_idle;
    running_q    <= reg_rdata_i[1:0] == 2'd1;   // STATUS is on the register port outside S_T_FETCH, S_REGW
    dup_q        <= effects && last_valid_q && match_q;
    a_small_q    <= a_small;
    b_nz_q       <= b_nz;
    b_le_buf_q   <= b_le_buf;
    b_fill_q     <= b_fill;
    endb_ok_q    <= endb_ok;
    wreg_ok_q    <= wreg_ok;
    rreg_ok_q    <= rreg_ok;
  end

  // step 2: the NAK reason
  logic       range_ok;
  logic [2:0] nak, nak_q;      // the NAK reason of this request (0: none)
  always_comb begin
    case (cmd_q)
      C_WRITE_MEM: range_ok = a_small_q && endb_ok_q;
      C_READ_MEM:  range_ok = a_small_q && b_nz_q && b_le_buf_q && endb_ok_q;
      C_FILL_MEM:  range_ok = a_small_q && b_fill_q && endb_ok_q;
      C_WRITE_REG: range_ok = wreg_ok_q;
      C_READ_REG:  range_ok = rreg_ok_q;
      default:     range_ok = 1'b1;
    endcase
    nak = 3'd0;
    if (kind_q != K_OK)               nak = (kind_q == K_CRC) ? E_CRC : E_TIMEOUT;
    else if (dup_q)                   nak = last_status_q;
    else if (!known_q)                nak = E_COMMAND;
    else if (!len_ok_q)               nak = E_LENGTH;
    else if (!range_ok)               nak = E_RANGE;
    else if (needs_idle_q && running_q) nak = E_BUSY;
  end
  always_ff @(posedge clk_i) nak_q <= nak;

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

  assign cset   = {(state_q == S_DECIDE) && (kind_q == K_OK) && dup_q, rx_ferr,
                   (state_q == S_DECIDE) && (kind_q != K_OK), (state_q == S_DECIDE) && (kind_q == K_OK)};
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
  assign reg_we_o        = state_q == S_REGW;
  assign reg_addr_o      = (state_q == S_T_FETCH || state_q == S_REGW) ? addr_q[7:0] : 8'h04;
  assign reg_wdata_o     = w_q;
  // the memory request: a register, set with the moves into S_WMEM, S_FILL and a memory
  // S_T_FETCH (a short path into pb_host_mem, whose ready comes back to the FSM in the same cycle)
  assign mem_req_valid_o = mvalid_q;
  assign mem_req_we_o    = src_q != SRC_MEM;   // (SRC_NONE in S_WMEM, S_FILL)
  assign mem_req_addr_o  = 32'(addr_q[HB-1:0]);
  assign mem_req_wdata_o = rdata_q;   // WRITE_MEM: data byte bi_q - 4; FILL_MEM: V (bi_q = 8)
  assign core_rst_o      = core_rst_q;
  assign busy_o          = (rs_q != R_HUNT) || !idle || u_busy;

  // ---- the reply's bytes, straight to the UART: SOF, the body with its CRC computed on the way,
  // the CRC (high byte first); a body or CRC byte equal to SOF or ESC goes out as ESC, byte ^ 0x20 ----
  logic tsend, tstuff, tdone;
  always_comb begin
    tsend = 1'b1;
    tbyte = w_q[7:0];
    case (state_q)
      S_T_SOF:  tbyte = SOF;
      S_T_SEQ:  tbyte = seq_q;
      S_T_CMD:  tbyte = (status_q != 3'd0) ? R_NAK : (cmd_q | 8'h80);
      S_T_LEN0: tbyte = cnt_q[7:0];
      S_T_LEN1: tbyte = 8'(cnt_q >> 8);
      S_T_PUSH: ;
      S_T_CRC0: tbyte = crc_q[15:8];
      S_T_CRC1: tbyte = crc_q[7:0];
      default:  tsend = 1'b0;
    endcase
  end
  // A byte goes out from the second cycle of its state on (tok_q), so that whether it needs
  // escaping comes from a register.
  assign tstuff  = tneed_q && !tesc_q;   // ESC first
  assign u_valid = tsend && tok_q;
  assign u_data  = tstuff ? ESC : tesc_q ? (tbyte ^ 8'h20) : tbyte;
  assign tdone   = u_valid && u_ready && !tstuff;   // the state's byte is out
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      tok_q   <= 1'b0;
      tneed_q <= 1'b0;
    end else begin
      tok_q   <= tsend && !tdone;
      tneed_q <= (state_q != S_T_SOF) && ((tbyte == SOF) || (tbyte == ESC));
    end
  end

  // ---- the FSM ----
  logic [XW-1:0] addr_inc;
  assign addr_inc = addr_q + ((src_q == SRC_REG) ? XW'(4) : XW'(1));

  // next values (the FSM's combinational half)
  state_t        state_d;
  logic [2:0]    rs_d;
  logic          esc_d;
  logic [1:0]    hdr_d;
  logic [FW-1:0] j_d;
  logic [15:0]   left_d;
  logic [15:0]   crc_d;
  logic          tesc_d;
  logic [TW-1:0] tcnt_d;
  logic [1:0]    kind_d;
  logic          have_cmd_d;
  logic [7:0]    seq_d;
  logic [7:0]    cmd_d;
  logic          crchi_d;
  logic          match_d;
  logic          len_ok_d;
  logic          az_d;
  logic          bz_d;
  logic [XW-1:0] addr_d;
  logic [RW-1:0] cnt_d;
  logic [FW-1:0] bi_d;
  logic [1:0]    pi_d;
  logic [2:0]    status_d;
  logic [1:0]    src_d;
  logic [31:0]   w_d;
  logic          core_rst_d;
  logic          mvalid_d;
  logic          last_valid_d;
  logic [7:0]    last_seq_d;
  logic [2:0]    last_status_d;
  logic [15:0]   last_crc_d;
  always_comb begin
    state_d = state_q;
    rs_d = rs_q;
    esc_d = esc_q;
    hdr_d = hdr_q;
    j_d = j_q;
    left_d = left_q;
    crc_d = crc_q;
    tesc_d = tesc_q;
    tcnt_d = tcnt_q;
    kind_d = kind_q;
    have_cmd_d = have_cmd_q;
    seq_d = seq_q;
    cmd_d = cmd_q;
    crchi_d = crchi_q;
    match_d = match_q;
    len_ok_d = len_ok_q;
    az_d = az_q;
    bz_d = bz_q;
    addr_d = addr_q;
    cnt_d = cnt_q;
    bi_d = bi_q;
    pi_d = pi_q;
    status_d = status_q;
    src_d = src_q;
    w_d = w_q;
    core_rst_d = core_rst_q;
    mvalid_d = mvalid_q;
    last_valid_d = last_valid_q;
    last_seq_d = last_seq_q;
    last_status_d = last_status_q;
    last_crc_d = last_crc_q;
    if (u_valid && u_ready) tesc_d = tstuff;
    case (state_q)
      // ---- the request parser ----
      S_IDLE: begin
        bi_d = FW'(8);
        if (sof) begin
          rs_d       = R_HDR;
          esc_d      = 1'b0;
          have_cmd_d = 1'b0;
          hdr_d      = 2'd0;
          j_d        = '0;
          crc_d      = 16'hffff;
          tcnt_d     = '0;
          seq_d      = 8'd0;
        end else if (in_frame) begin
          if (rx_valid) begin
            tcnt_d = '0;
            esc_d  = (rx_data == ESC) && !esc_q;
          end else if (tcnt_q == TW'(TIMEOUT_CYCLES - 1)) begin
            kind_d  = K_TIMEOUT;
            rs_d    = R_HUNT;
            state_d = S_CHK1;
          end else begin
            tcnt_d = tcnt_q + TW'(1);
          end
          if (body) begin
            // the CRC of SEQ .. PAYLOAD; the CRC field must equal it (a CRC-good frame's CRC over
            // all of its body and field is 0), so the field is compared, not run through the CRC
            if (rs_q == R_HDR || rs_q == R_PAY) crc_d = crc_next;
            case (rs_q)
              R_HDR: begin
                hdr_d = hdr_q + 2'd1;
                case (hdr_q)
                  2'd0: begin
                    seq_d   = b;
                    match_d = b == last_seq_q;
                  end
                  2'd1: begin
                    cmd_d      = b;
                    have_cmd_d = 1'b1;
                  end
                  2'd2: left_d[7:0] = b;
                  default: begin
                    left_d[15:8] = b;
                    len_ok_d     = len_fits;
                    rs_d         = (len == 16'd0) ? R_CRC0 : R_PAY;
                  end
                endcase
              end
              R_PAY: begin
                j_d    = j_q + FW'(1);
                left_d = left_q - 16'd1;
                if (left_q == 16'd1) rs_d = R_CRC0;
                // A (payload bytes 0-3) and B (4-7), as far as addr_q and cnt_q are wide
                if (j_q[FW-1:2] == '0) begin
                  for (int i = 0; i < XW; i++) if (j_q[1:0] == 2'(i / 8)) addr_d[i] = b[i % 8];
                  az_d = ((j_q[1:0] == 2'd0) || az_q) && ((b & AHI[{j_q[1:0], 3'd0} +: 8]) == 8'd0);
                end
                if (j_q[FW-1:2] == (FW-2)'(1)) begin
                  for (int i = 0; i < RW; i++) if (j_q[1:0] == 2'(i / 8)) cnt_d[i] = b[i % 8];
                  bz_d = ((j_q[1:0] == 2'd0) || bz_q) && ((b & BHI[{j_q[1:0], 3'd0} +: 8]) == 8'd0);
                end
              end
              R_CRC0: begin
                crchi_d = b == crc_q[15:8];
                rs_d    = R_CRC1;
              end
              default: begin   // R_CRC1: the frame is complete
                match_d = match_q && (crc_q == last_crc_q);   // (for a CRC-good frame: its CRC field)
                rs_d    = R_HUNT;
                state_d = S_CHK1;
                if (crchi_q && (b == crc_q[7:0])) begin
                  kind_d     = K_OK;
                  last_seq_d = seq_q;
                  last_crc_d = crc_q;
                end else begin
                  kind_d = K_CRC;
                end
                if (cmd_q == C_WRITE_MEM) cnt_d = RW'(jdata);   // its data bytes
              end
            endcase
          end
        end
      end
      S_CHK1: state_d = S_CHK2;   // step 1 registered, then the NAK reason
      S_CHK2: state_d = S_DECIDE;

      S_DECIDE: begin
        // an ACK without data by default, remembered for duplicates when the CRC was good
        status_d = nak_q;
        cnt_d    = (nak_q != 3'd0) ? RW'(2) : RW'(0);
        pi_d     = 2'd0;
        src_d    = SRC_NONE;
        if (kind_q == K_OK && !dup_q) begin   // the cache: this request's status
          last_valid_d  = 1'b1;
          last_status_d = nak_q;
        end
        w_d[15:0] = {have_cmd_q ? cmd_q : 8'd0, 5'd0, nak_q};   // a NAK's payload
        state_d  = S_T_SOF;
        if (kind_q == K_OK && !dup_q && nak_q == 3'd0) begin   // (the counters: cset)
          case (cmd_q)
            C_WRITE_MEM: begin   // cnt_q: LEN - 4 data bytes
              cnt_d   = cnt_q;
              bi_d    = FW'(4);
              state_d = S_WBUF;
            end
            C_FILL_MEM: begin    // cnt_q = B; B = 0: nothing to write
              cnt_d    = cnt_q;
              mvalid_d = b_nz_q;
              if (b_nz_q) state_d = S_FILL;
              else state_d = S_T_SOF;
            end
            C_WRITE_REG: begin   // B from the buffer into w_q, then the write
              bi_d    = FW'(4);
              state_d = S_PRIME;
            end
            C_START: begin       // A -> 0x08, B -> 0x0c, 1 -> 0x00 (CTRL.start)
              bi_d    = FW'(0);
              addr_d  = XW'(8);
              state_d = S_PRIME;
            end
            C_RESET: begin
              core_rst_d = 1'b1;
              state_d    = S_RESET;
            end
            C_READ_MEM: begin
              cnt_d = cnt_q;
              src_d = SRC_MEM;
            end
            C_READ_REG: begin
              cnt_d = RW'({cnt_q[6:0], 2'b00});
              src_d = SRC_REG;
            end
            C_STATUS: begin
              cnt_d  = RW'(60);   // STATUS .. STALLS (0x04 .. 0x3c)
              src_d  = SRC_REG;
              addr_d = XW'(4);
            end
            default: ;
          endcase
        end
      end

      // WRITE_MEM: buffer byte (registered read) -> host memory, one byte at a time
      S_WBUF: begin
        mvalid_d = 1'b1;
        state_d  = S_WMEM;
      end
      S_WMEM: begin
        if (mem_req_ready_i) begin
          mvalid_d = 1'b0;
          addr_d  = addr_inc;
          bi_d    = bi_q + FW'(1);
          cnt_d   = cnt_q - RW'(1);
          if (cnt_q == RW'(1)) state_d = S_T_SOF;
          else state_d = S_WBUF;
        end
      end

      S_FILL: begin   // cnt_q >= 1
        if (mem_req_ready_i) begin
          addr_d = addr_inc;
          cnt_d  = cnt_q - RW'(1);
          if (cnt_q == RW'(1)) begin
            mvalid_d = 1'b0;
            state_d  = S_T_SOF;
          end
        end
      end

      // WRITE_REG, START: four buffer bytes (registered reads from bi_q) into w_q, then a write
      S_PRIME: begin
        bi_d    = bi_q + FW'(1);
        state_d = S_LD;
      end
      S_LD: begin
        w_d  = {rdata_q, w_q[31:8]};
        pi_d = pi_q + 2'd1;
        if (pi_q == 2'd3) state_d = S_REGW;   // bi_q stays at the next word's byte 0
        else bi_d = bi_q + FW'(1);
      end
      S_REGW: begin   // reg_we_o: register addr_q[7:0] gets w_q
        state_d = S_T_SOF;
        if (cmd_q == C_START) begin
          case (addr_q[3:2])
            2'd2: begin          // PROG_ADDR written: B next (its byte 0 read out, the next read)
              addr_d  = XW'(12);
              bi_d    = bi_q + FW'(1);
              state_d = S_LD;
            end
            2'd3: begin          // PROG_LEN written: CTRL.start
              addr_d  = XW'(0);
              w_d     = 32'd1;
              state_d = S_REGW;
            end
            default: ;
          endcase
        end
      end

      S_RESET: begin   // pi_q counts 0..3 and is 0 again for the reply
        pi_d = pi_q + 2'd1;
        if (pi_q == 2'd3) begin
          core_rst_d = 1'b0;
          state_d    = S_T_SOF;
        end
      end

      // ---- the reply: LEN is cnt_q, then cnt_q counts the payload bytes down ----
      S_T_SOF: begin
        crc_d = 16'hffff;
        if (tdone) state_d = S_T_SEQ;
      end
      S_T_SEQ: begin
        if (tdone) begin
          crc_d   = crc_next;
          state_d = S_T_CMD;
        end
      end
      S_T_CMD: begin
        if (tdone) begin
          crc_d   = crc_next;
          state_d = S_T_LEN0;
        end
      end
      S_T_LEN0: begin
        if (tdone) begin
          crc_d   = crc_next;
          state_d = S_T_LEN1;
        end
      end
      S_T_LEN1: begin
        if (tdone) begin
          crc_d   = crc_next;
          if (cnt_q == '0) state_d = S_T_CRC0;
          else begin
            mvalid_d = src_q == SRC_MEM;
            state_d  = S_T_FETCH;
          end
        end
      end
      S_T_FETCH: begin
        case (src_q)
          SRC_MEM: begin
            if (mem_req_ready_i) begin
              mvalid_d = 1'b0;
              state_d  = S_T_MEMWAIT;
            end
          end
          SRC_REG: begin   // a register word is read at its first byte
            if (pi_q != 2'd0) begin
              state_d = S_T_PUSH;
            end else if (is_cnt) begin
              if (bread) state_d = S_T_CNT;   // the counter's block-RAM read
            end else begin
              w_d     = rword;
              addr_d  = addr_inc;
              state_d = S_T_PUSH;
            end
          end
          default: state_d = S_T_PUSH;   // a NAK: reason, then the request's CMD, already in w_q
        endcase
      end
      S_T_MEMWAIT: begin
        if (mem_rsp_valid_i) begin
          w_d[7:0] = mem_rsp_data_i;
          addr_d   = addr_inc;
          state_d  = S_T_PUSH;
        end
      end
      S_T_CNT: begin
        w_d     = 32'(crd_q);
        addr_d  = addr_inc;
        state_d = S_T_PUSH;
      end
      S_T_PUSH: begin
        if (tdone) begin
          crc_d   = crc_next;
          w_d     = {rdata_q, w_q[31:8]};   // (the bytes above a payload's are not sent)
          pi_d    = pi_q + 2'd1;
          cnt_d   = cnt_q - RW'(1);
          if (cnt_q == RW'(1)) state_d = S_T_CRC0;
          else begin
            mvalid_d = src_q == SRC_MEM;
            state_d  = S_T_FETCH;
          end
        end
      end
      S_T_CRC0: if (tdone) state_d = S_T_CRC1;
      S_T_CRC1: begin
        if (tdone) begin
          state_d = S_IDLE;
        end
      end
      default: state_d = S_IDLE;
    endcase
  end

  // registers with a reset: the FSM's state and what must be known before the first request
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q       <= S_IDLE;
      mvalid_q      <= 1'b0;
      rs_q          <= R_HUNT;
      tesc_q        <= 1'b0;
      core_rst_q    <= 1'b0;
      last_valid_q  <= 1'b0;
    end else begin
      state_q       <= state_d;
      mvalid_q      <= mvalid_d;
      rs_q          <= rs_d;
      tesc_q        <= tesc_d;
      core_rst_q    <= core_rst_d;
      last_valid_q  <= last_valid_d;
    end
  end

  // the datapath: no reset (every register is written before it is used)
  always_ff @(posedge clk_i) begin
    esc_q         <= esc_d;
    hdr_q         <= hdr_d;
    j_q           <= j_d;
    left_q        <= left_d;
    crc_q         <= crc_d;
    tcnt_q        <= tcnt_d;
    kind_q        <= kind_d;
    have_cmd_q    <= have_cmd_d;
    seq_q         <= seq_d;
    cmd_q         <= cmd_d;
    crchi_q       <= crchi_d;
    match_q       <= match_d;
    len_ok_q      <= len_ok_d;
    az_q          <= az_d;
    bz_q          <= bz_d;
    addr_q        <= addr_d;
    cnt_q         <= cnt_d;
    bi_q          <= bi_d;
    pi_q          <= pi_d;
    status_q      <= status_d;
    src_q         <= src_d;
    w_q           <= w_d;
    last_seq_q    <= last_seq_d;
    last_status_q <= last_status_d;
    last_crc_q    <= last_crc_d;
  end
endmodule

`default_nettype wire
