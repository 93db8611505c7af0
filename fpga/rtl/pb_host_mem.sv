// SPDX-License-Identifier: Apache-2.0
// Host-memory controller of the board: serves the core's instruction port (16 bytes), read port
// and write port (up to N bytes at any byte address) and the UART bridge's byte port from one
// 16-bit single-port RAM (pb_host_ram: the UP5K's SPRAM), one request at a time, with wait states.
//
// Requests are picked round-robin. Pipelined for timing: a cycle registers the chosen port (the
// requester holds its request; a port that waits is picked in the cycle that accepts the previous
// request, so queued requests lose no cycle), then word 0 of the request is prepared from the port into
// registers in front of the RAM (address, enables, write data), then one word per cycle; the RAM
// does a word the cycle after it was prepared. A request of k words (k = ceil((addr[0] + len) / 2))
// holds its port's ready low while the controller works on it: a read is accepted (ready high)
// in the cycle after the RAM read its last word, so its response comes the next cycle, as the
// core's ports expect (docs/architecture.md); a write is accepted while its last word is
// prepared. Reads thus wait k + 2 cycles and writes k; the core counts these cycles
// in STALLS. A requester must hold its request until it is accepted; one whose valid drops (the
// core stopped or was reset) is abandoned (a word already prepared is still done).
`default_nettype none

module pb_host_mem #(
  parameter int N              = 4,
  parameter longint HOST_BYTES = 64'd131072,   // even; the RAM holds HOST_BYTES / 2 words
  parameter int AW             = $clog2(HOST_BYTES / 2),
  // the response buffer in block RAM (1) or flip-flops (0); board builds set it with the core's
  // BUF_RAM (fpga/flow.sh, mk/fpga.mk)
`ifdef PB_BUF_RAM
  parameter int BUF_RAM        = `PB_BUF_RAM
`else
  parameter int BUF_RAM        = 0
`endif
) (
  input  logic            clk_i,
  input  logic            rst_ni,
  // instruction port of the core (16 bytes)
  input  logic            if_req_valid_i,
  input  logic [31:0]     if_req_addr_i,
  output logic            if_req_ready_o,
  output logic            if_rsp_valid_o,
  output logic [127:0]    if_rsp_data_o,
  // read port of the core (len <= N bytes; byte 0 of the response is the byte at addr)
  input  logic            rd_req_valid_i,
  input  logic [31:0]     rd_req_addr_i,
  input  logic [7:0]      rd_req_len_i,
  output logic            rd_req_ready_o,
  output logic            rd_rsp_valid_o,
  output logic [N*8-1:0]  rd_rsp_data_o,
  // write port of the core (bytes 0..len-1 of data to addr..)
  input  logic            wr_req_valid_i,
  input  logic [31:0]     wr_req_addr_i,
  input  logic [7:0]      wr_req_len_i,
  input  logic [N*8-1:0]  wr_req_data_i,
  output logic            wr_req_ready_o,
  // the bridge: one byte
  input  logic            br_req_valid_i,
  input  logic            br_req_we_i,
  input  logic [31:0]     br_req_addr_i,
  input  logic [7:0]      br_req_wdata_i,
  output logic            br_req_ready_o,
  output logic            br_rsp_valid_o,
  output logic [7:0]      br_rsp_data_o,
  // the RAM
  output logic            ram_en_o,
  output logic            ram_we_o,
  output logic [1:0]      ram_be_o,
  output logic [AW-1:0]   ram_addr_o,
  output logic [15:0]     ram_wdata_o,
  input  logic [15:0]     ram_rdata_i
);
  localparam int DB    = (N > 16) ? N : 16;       // longest request, bytes
  localparam int NSLOT = DB / 2 + 1;              // most words one request touches
  localparam int BUFW  = NSLOT * 16;
  localparam int CW    = $clog2(NSLOT + 2);
  localparam logic [1:0] P_IF = 2'd0, P_RD = 2'd1, P_WR = 2'd2, P_BR = 2'd3;
  localparam logic [1:0] ST_IDLE = 2'd0, ST_SETUP = 2'd1, ST_RUN = 2'd2;

  logic [1:0]      st_q;        // IDLE: pick a request; SETUP: its word 0; RUN: words 1.., then accept
  logic [1:0]      port_q, last_q, rsp_port_q;
  logic            rdy_q;       // a read: the request of port_q is accepted in this cycle (if still valid)
  logic            one_q;       // the request of port_q is a write of at most one word
  logic            we_q, a0_q, oddend_q;   // the request writes, starts at an odd address, ends at an odd one
  logic [CW-1:0]   left_q;      // words still to put into the RAM registers
  logic [CW-1:0]   widx_q;      // index of the next word
  logic            rsp_valid_q;
  // the RAM's inputs, registered: word idx_q of the request
  logic            en_q, rwe_q;
  logic [1:0]      be_q;
  logic [AW-1:0]   addr_q;
  logic [15:0]     wd_q;
  logic [CW-1:0]   idx_q;
  logic            cap_q;       // the RAM read word capslot_q of the request last cycle: capture it
  logic [CW-1:0]   capslot_q;
  logic            capa0_q;     // ... whose address was odd (its word c holds response bytes 2c-1, 2c)

  // ---- pick a request (round-robin after the port served last); only the port is registered ----
  logic [3:0] v;
  assign v = {br_req_valid_i, wr_req_valid_i, rd_req_valid_i, if_req_valid_i};
  logic [1:0] sel;
  logic       any;
  // In ST_IDLE after the port served last; while a request is being accepted, among the other
  // ports after it (the next request's ST_SETUP follows at once).
  logic [1:0] base;
  logic [3:0] cand;
  assign base = (st_q == ST_IDLE) ? last_q : port_q;
  assign cand = (st_q == ST_IDLE) ? v : v & ~(4'd1 << port_q);
  always_comb begin
    sel = base;
    any = 1'b0;
    for (int k = 1; k <= 4; k++) begin
      if (!any && cand[2'(32'(base) + k)]) begin
        sel = 2'(32'(base) + k);
        any = 1'b1;
      end
    end
  end

  // A write of at most one word (for the port picked: its write is accepted in ST_SETUP)
  logic [3:0] one;
  assign one[P_IF] = 1'b0;
  assign one[P_RD] = 1'b0;
  assign one[P_WR] = wr_req_addr_i[0] ? (wr_req_len_i[7:1] == 7'd0)
                                      : (wr_req_len_i[7:2] == 6'd0) && !(wr_req_len_i[1] && wr_req_len_i[0]);
  assign one[P_BR] = br_req_we_i;

  // ---- the request of port_q (its requester holds it until it is accepted) ----
  logic active;
  assign active = v[port_q];
  /* verilator lint_off UNUSEDSIGNAL */  // address bits above the memory: the core and the bridge check ranges
  logic [31:0]     addr;
  /* verilator lint_on UNUSEDSIGNAL */
  logic [7:0]      len;
  logic            we;
  logic [DB*8-1:0] wdata;
  always_comb begin
    addr  = if_req_addr_i;
    len   = 8'd16;
    we    = 1'b0;
    wdata = '0;
    case (port_q)
      P_RD: begin
        addr = rd_req_addr_i;
        len  = rd_req_len_i;
      end
      P_WR: begin
        addr  = wr_req_addr_i;
        len   = wr_req_len_i;
        we    = 1'b1;
        wdata = (DB*8)'(wr_req_data_i);
      end
      P_BR: begin
        addr  = br_req_addr_i;
        len   = 8'd1;
        we    = br_req_we_i;
        wdata = (DB*8)'(br_req_wdata_i);
      end
      default: ;
    endcase
  end

  // accept: a read once rdy_q, a write while its last word is prepared
  logic ready;
  assign ready = rdy_q || (st_q == ST_SETUP && one_q) || (st_q == ST_RUN && we_q && left_q == CW'(1));

  logic [CW-1:0]   nw;          // words the request touches (SETUP)
  logic [15:0]     ext0;        // word 0 of the write data placed at its byte offset (SETUP)
  logic [BUFW-1:0] ext;         // all of it (RUN)
  assign nw   = CW'((9'(addr[0]) + 9'(len) + 9'd1) >> 1);
  assign ext0 = addr[0] ? {wdata[7:0], 8'h00} : wdata[15:0];
  assign ext  = BUFW'(wdata) << (a0_q ? 8 : 0);

  // Byte enables of a word: all but the byte before an odd address (word 0) and the byte after
  // an odd end (the last word).
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      st_q        <= ST_IDLE;
      port_q      <= P_IF;
      last_q      <= P_BR;
      rdy_q       <= 1'b0;
      one_q       <= 1'b0;
      we_q        <= 1'b0;
      a0_q        <= 1'b0;
      oddend_q    <= 1'b0;
      left_q      <= '0;
      widx_q      <= '0;
      rsp_valid_q <= 1'b0;
      rsp_port_q  <= P_IF;
      en_q        <= 1'b0;
      rwe_q       <= 1'b0;
      be_q        <= 2'b00;
      addr_q      <= '0;
      wd_q        <= 16'd0;
      idx_q       <= '0;
      cap_q       <= 1'b0;
      capslot_q   <= '0;
      capa0_q     <= 1'b0;
    end else begin
      rsp_valid_q <= 1'b0;
      en_q        <= 1'b0;
      cap_q       <= en_q && !rwe_q;
      capslot_q   <= idx_q;
      capa0_q     <= a0_q;
      if (ready && active) begin        // accepted
        last_q      <= port_q;
        rsp_valid_q <= rdy_q;           // a read (a write is accepted without rdy_q)
        rsp_port_q  <= port_q;
      end
      case (st_q)
        ST_IDLE: begin
          if (any) begin
            port_q <= sel;
            one_q  <= one[sel];
            st_q   <= ST_SETUP;
          end
        end
        // The RAM registers load whether or not the requester still holds its request (only en_q,
        // rdy_q and st_q look at its valid: a short path from the requester).
        ST_SETUP: begin   // word 0 into the RAM registers
          en_q     <= active && (nw != '0);
          rwe_q    <= we;
          be_q     <= {!(nw == CW'(1) && (addr[0] ^ len[0])), !addr[0]};
          addr_q   <= addr[AW:1];
          wd_q     <= ext0;
          idx_q    <= '0;
          we_q     <= we;
          a0_q     <= addr[0];
          oddend_q <= addr[0] ^ len[0];
          left_q   <= (nw == '0) ? '0 : nw - CW'(1);
          widx_q   <= CW'(1);
          st_q     <= (active && !one_q) ? ST_RUN : ST_IDLE;   // (or accepted, or the requester gave up)
        end
        default: begin    // ST_RUN
          if (ready || !active) st_q <= ST_IDLE;       // accepted, or the requester gave up
          if (rdy_q) begin
            rdy_q <= 1'b0;
          end else if (left_q != '0) begin
            en_q   <= active;
            rwe_q  <= we_q;
            be_q   <= {!(left_q == CW'(1) && oddend_q), 1'b1};
            addr_q <= addr_q + AW'(1);
            wd_q   <= ext[widx_q*16 +: 16];
            idx_q  <= widx_q;
            widx_q <= widx_q + CW'(1);
            left_q <= left_q - CW'(1);
          end else begin
            rdy_q <= active && !we_q;                   // a read: its last word is in the RAM in this cycle
          end
        end
      endcase
      if (ready && active && any) begin   // accepted, and another port waits: its setup next
        port_q <= sel;
        one_q  <= one[sel];
        st_q   <= ST_SETUP;
      end
    end
  end

  assign ram_en_o    = en_q;
  assign ram_we_o    = rwe_q;
  assign ram_be_o    = be_q;
  assign ram_addr_o  = addr_q;
  assign ram_wdata_o = wd_q;

  // Response byte k comes from word (k + a0) / 2: its low byte when k + a0 is even, else its high
  // byte; so all even bytes take one source and all odd bytes the other.
  logic [7:0] even_b, odd_b;
  assign even_b = capa0_q ? ram_rdata_i[15:8] : ram_rdata_i[7:0];
  assign odd_b  = capa0_q ? ram_rdata_i[7:0] : ram_rdata_i[15:8];

  // The response is valid in the cycle after the RAM's last word was captured (cap_q); capa0_q and
  // capslot_q still describe that word then. The last word is kept in a register (lastw_q); the
  // bytes of the other words in a memory (block RAM with BUF_RAM = 1, else flip-flops: its read
  // data, read every cycle, shows in the response cycle every byte written up to the cycle before).
  // The last word's capture (rdy_q: the cycle before the response) writes nothing to the memory, so
  // the read that the response uses never meets a write to its address (a block RAM's read of an
  // address written in the same cycle is undefined; no_rw_check says no used read does). Only the
  // bytes that can come from an earlier word are used: of a 16-byte instruction read (its last word
  // is word 7 + a0), bytes 0-13, and byte 14 when a0 = 1 (byte 15 is always in the last word); of a
  // read, bytes 0..N-1 (a byte in the last word when capslot_q = (k + a0) / 2). The bridge reads
  // one byte: word 0 is its last. (The response comes from registers and that memory, not from the
  // host RAM's read path.)
  localparam int MB = (N > 15) ? N : 15;   // bytes kept
  /* verilator lint_off UNUSEDPARAM */  // used in an attribute (Yosys)
  localparam RBUF_STYLE = (BUF_RAM != 0) ? "block" : "logic";
  /* verilator lint_on UNUSEDPARAM */
  (* ram_style = RBUF_STYLE, no_rw_check, nomem2reg *)
  logic [MB*8-1:0] rbuf_m [0:1];
  logic [MB*8-1:0] rbuf_q;
  logic [15:0]     lastw_q;   // {odd, even} byte of the last word captured
  always_ff @(posedge clk_i) begin
    if (cap_q) lastw_q <= {odd_b, even_b};
    for (int k = 0; k < MB; k++)
      if (cap_q && !rdy_q && capslot_q == CW'((k + 32'(capa0_q)) / 2)) rbuf_m[capa0_q][k*8 +: 8] <= (k % 2 == 0) ? even_b : odd_b;
    rbuf_q <= rbuf_m[capa0_q];
  end

  assign if_req_ready_o = ready && (port_q == P_IF) && if_req_valid_i;
  assign rd_req_ready_o = ready && (port_q == P_RD) && rd_req_valid_i;
  assign wr_req_ready_o = ready && (port_q == P_WR) && wr_req_valid_i;
  assign br_req_ready_o = ready && (port_q == P_BR) && br_req_valid_i;

  assign if_rsp_valid_o = rsp_valid_q && (rsp_port_q == P_IF);
  assign rd_rsp_valid_o = rsp_valid_q && (rsp_port_q == P_RD);
  assign br_rsp_valid_o = rsp_valid_q && (rsp_port_q == P_BR);
  assign if_rsp_data_o  = {lastw_q[15:8], capa0_q ? rbuf_q[14*8 +: 8] : lastw_q[7:0], rbuf_q[14*8-1:0]};
  always_comb begin
    for (int k = 0; k < N; k++)
      rd_rsp_data_o[k*8 +: 8] = (capslot_q == CW'((k + 32'(capa0_q)) / 2)) ? ((k % 2 == 0) ? lastw_q[7:0] : lastw_q[15:8])
                                                                           : rbuf_q[k*8 +: 8];
  end
  assign br_rsp_data_o  = lastw_q[7:0];
endmodule

`default_nettype wire
