// SPDX-License-Identifier: Apache-2.0
// Host-memory controller of the board: serves the core's instruction port (16 bytes), read port
// and write port (up to N bytes at any byte address) and the UART bridge's byte port from one
// 16-bit single-port RAM (pb_host_ram: the UP5K's SPRAM), one request at a time, with wait states.
//
// Requests are picked round-robin. A request of k words (k = ceil((addr[0] + len) / 2)) holds its
// port's ready low while the controller works on it: a read issues one word per cycle and is
// accepted (ready high) in the cycle after its last word was issued, so its response comes the
// next cycle, as the core's ports expect (docs/architecture.md); a write writes one word per
// cycle and is accepted with its last word. Reads thus wait k cycles and writes k - 1; the core
// counts these cycles in STALLS. A requester must hold its request until it is accepted; one
// whose valid drops (the core stopped or was reset) is abandoned.
`default_nettype none

module pb_host_mem #(
  parameter int N              = 4,
  parameter longint HOST_BYTES = 64'd131072,   // even; the RAM holds HOST_BYTES / 2 words
  parameter int AW             = $clog2(HOST_BYTES / 2)
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
  localparam int RB    = DB;                      // response bytes kept (the byte at addr first)
  localparam int CW    = $clog2(NSLOT + 2);
  localparam logic [1:0] P_IF = 2'd0, P_RD = 2'd1, P_WR = 2'd2, P_BR = 2'd3;

  logic          busy_q;
  logic [1:0]    port_q, last_q, rsp_port_q;
  logic [CW-1:0] c_q;
  logic          rsp_valid_q;
  logic [RB*8-1:0] buf_q;     // response byte k = memory byte addr + k
  logic          cap_q;       // a read was issued last cycle: capture word capslot_q of the request
  logic [CW-1:0] capslot_q;
  logic          capa0_q;     // ... whose address was odd (its word c holds response bytes 2c-1, 2c)

  // ---- pick a request (round-robin after the port served last) ----
  logic [3:0] v;
  assign v = {br_req_valid_i, wr_req_valid_i, rd_req_valid_i, if_req_valid_i};
  logic [1:0] sel;
  logic       any;
  always_comb begin
    sel = last_q;
    any = 1'b0;
    for (int k = 1; k <= 4; k++) begin
      if (!any && v[2'(32'(last_q) + k)]) begin
        sel = 2'(32'(last_q) + k);
        any = 1'b1;
      end
    end
  end

  logic [1:0]    cur;
  logic          active;
  logic [CW-1:0] c;
  assign cur    = busy_q ? port_q : sel;
  assign active = busy_q ? v[port_q] : any;
  assign c      = busy_q ? c_q : '0;

  // ---- the current request ----
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
    case (cur)
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

  logic [CW-1:0] nw;          // words the request touches
  logic          ready;       // accept the current request in this cycle
  logic [BUFW-1:0] ext;       // write data placed at its byte offset in the first word
  logic          last;        // word c is the request's last
  assign nw    = CW'((9'(addr[0]) + 9'(len) + 9'd1) >> 1);
  assign last  = c + CW'(1) == nw;
  assign ready = active && (we ? (last || c == nw || (nw == '0)) : (c == nw));
  assign ext   = BUFW'(wdata) << (addr[0] ? 8 : 0);

  // ---- the RAM port: word c of the request ----
  // Byte enables of word c < nw: all but the byte before an odd address (word 0) and the byte
  // after an odd end (the last word).
  logic [1:0] be;
  assign be[0] = !(c == '0 && addr[0]);
  assign be[1] = !(last && (addr[0] ^ len[0]));
  assign ram_en_o    = active && (c < nw);
  assign ram_we_o    = we;
  assign ram_be_o    = be;
  assign ram_addr_o  = addr[AW:1] + AW'(c);
  assign ram_wdata_o = ext[c*16 +: 16];

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      busy_q      <= 1'b0;
      port_q      <= P_IF;
      last_q      <= P_BR;
      c_q         <= '0;
      rsp_valid_q <= 1'b0;
      rsp_port_q  <= P_IF;
      cap_q       <= 1'b0;
      capslot_q   <= '0;
      capa0_q     <= 1'b0;
    end else begin
      rsp_valid_q <= 1'b0;
      cap_q       <= ram_en_o && !we;
      capslot_q   <= c;
      capa0_q     <= addr[0];
      if (!active) begin
        busy_q <= 1'b0;               // nothing, or the requester gave up
      end else if (ready) begin
        busy_q      <= 1'b0;
        last_q      <= cur;
        rsp_valid_q <= !we;
        rsp_port_q  <= cur;
      end else begin
        busy_q <= 1'b1;
        port_q <= cur;
        c_q    <= c + CW'(1);
      end
    end
  end

  // Response byte k comes from word (k + a0) / 2: its low byte when k + a0 is even, else its high
  // byte; so all even bytes take one source and all odd bytes the other.
  logic [7:0] even_b, odd_b;
  assign even_b = capa0_q ? ram_rdata_i[15:8] : ram_rdata_i[7:0];
  assign odd_b  = capa0_q ? ram_rdata_i[7:0] : ram_rdata_i[15:8];
  always_ff @(posedge clk_i) begin
    for (int k = 0; k < RB; k++)
      if (cap_q && capslot_q == CW'((k + 32'(capa0_q)) / 2)) buf_q[k*8 +: 8] <= (k % 2 == 0) ? even_b : odd_b;
  end

  assign if_req_ready_o = ready && (cur == P_IF);
  assign rd_req_ready_o = ready && (cur == P_RD);
  assign wr_req_ready_o = ready && (cur == P_WR);
  assign br_req_ready_o = ready && (cur == P_BR);

  logic [RB*8-1:0] rsp;
  assign rsp            = buf_q;
  assign if_rsp_valid_o = rsp_valid_q && (rsp_port_q == P_IF);
  assign rd_rsp_valid_o = rsp_valid_q && (rsp_port_q == P_RD);
  assign br_rsp_valid_o = rsp_valid_q && (rsp_port_q == P_BR);
  assign if_rsp_data_o  = rsp[127:0];
  assign rd_rsp_data_o  = rsp[N*8-1:0];
  assign br_rsp_data_o  = rsp[7:0];
endmodule

`default_nettype wire
