// SPDX-License-Identifier: Apache-2.0
// Instruction fetcher: requests 128-bit words in order into a 4-entry queue (entries + requests in flight).
`default_nettype none

// Entry 0, the head, is a register, so the head needs no read multiplexer; on a pop it takes
// entry 1's word, and an arriving word goes to the first free entry (after the pop). Entries 1..3
// are a ring in a memory (below). Words arrive and leave in program order, so the PC of the head
// is a counter of the words issued (no PC stored per entry).
//
// Entries hold the word packed (docs/fpga.md): the opcode in 4 bits (every opcode at or above 16
// is illegal, as is 15), and the row address at [47:32] (sp_addr, or acc_addr of LOAD_ACC and
// STORE_ACC), rows and host_addr fields in AW, RCW and HAW bits plus one bit that
// says some higher bit was set. The head is unpacked into a word the decoder treats exactly as the
// original: a set flag sets every higher bit (the fields' runs of reserved bits are whole, so the
// reserved-bit check sees a set bit where it saw one; a host address at or above 2^HAW, a row
// address at or above 2^AW and a row count above max(SP_ROWS, ACC_ROWS) fail the same range
// check), and every instruction that issues has those bits 0.
module pb_fetch #(
  parameter int PCW = 32,
  parameter int HAW = 32,   // host address bits (clog2(HOST_BYTES))
  parameter int RCW = 16,   // row count bits of an instruction that can pass its checks
  parameter int AW  = 16,   // row address bits (max of clog2(SP_ROWS), clog2(ACC_ROWS))
  parameter int BUF_RAM = 0 // the tail of the queue in block RAM (1) or in flip-flops (0)
) (
  input  logic           clk_i,
  input  logic           rst_ni,
  input  logic           start_i,      // clear the queue, PC := 0
  input  logic           run_i,        // fetching allowed
  input  logic [31:0]    prog_addr_i,
  input  logic [PCW-1:0] limit_i,      // number of words that may be fetched
  input  logic           pop_i,        // the head was issued
  // instruction port: request accepted when valid & ready; the response returns in order
  output logic           if_req_valid_o,
  output logic [31:0]    if_req_addr_o,
  input  logic           if_req_ready_i,
  input  logic           if_rsp_valid_i,
  input  logic [127:0]   if_rsp_data_i,
  // queue head
  output logic           head_valid_o,
  output logic [127:0]   head_o,
  output logic [PCW-1:0] head_pc_o,
  output logic           head_load_o,  // the head register loads next_head_o at this clock edge
  output logic [127:0]   next_head_o,
  output logic           exhausted_o,  // every word up to the limit was fetched and issued
  output logic [PCW-1:0] fetch_pc_o
);
  localparam int DEPTH = 4;
  localparam int RQ    = (RCW < 16) ? RCW + 1 : 16;   // packed rows field
  localparam int HQ    = (HAW < 31) ? HAW + 1 : 32;   // packed host_addr field
  localparam int AQ    = (AW < 15) ? AW + 1 : 16;     // packed row address field
  localparam int SW    = 4 + 24 + AQ + RQ + 32 + HQ;  // packed word

  // pack: {host_addr, [95:64], rows, row address, [31:8], opcode}
  logic [SW-1:0] rsp_packed;
  logic [3:0]    rsp_op;
  logic [AQ-1:0] rsp_addr;
  logic [RQ-1:0] rsp_rows;
  logic [HQ-1:0] rsp_host;
  assign rsp_op = (if_rsp_data_i[7:4] == 4'd0) ? if_rsp_data_i[3:0] : 4'hf;
  if (AW < 15) begin : g_addr_packed
    assign rsp_addr = {|if_rsp_data_i[47:32+AW], if_rsp_data_i[32 +: AW]};
  end else begin : g_addr_full
    assign rsp_addr = if_rsp_data_i[47:32];
  end
  if (RCW < 16) begin : g_rows_packed
    assign rsp_rows = {|if_rsp_data_i[63:48+RCW], if_rsp_data_i[48 +: RCW]};
  end else begin : g_rows_full
    assign rsp_rows = if_rsp_data_i[63:48];
  end
  if (HAW < 31) begin : g_host_packed
    assign rsp_host = {|if_rsp_data_i[127:96+HAW], if_rsp_data_i[96 +: HAW]};
  end else begin : g_host_full
    assign rsp_host = if_rsp_data_i[127:96];
  end
  assign rsp_packed = {rsp_host, if_rsp_data_i[95:64], rsp_rows, rsp_addr, if_rsp_data_i[31:8], rsp_op};

  // unpack the head (u = 0) and the word that is the head after the next clock edge when
  // head_load_o is high (u = 1)
  logic [SW-1:0]  pk [0:1];
  logic [127:0]   up [0:1];
  for (genvar u = 0; u < 2; u++) begin : g_unpack
    logic [SW-1:0] hd;
    logic [15:0]   hd_addr, hd_rows;
    logic [31:0]   hd_host;
    assign hd = pk[u];
    if (AW < 15) begin : g_addr_unpack
      assign hd_addr = {{(16 - AW){hd[28 + AW]}}, hd[28 +: AW]};
    end else begin : g_addr_unpack_full
      assign hd_addr = hd[28 +: 16];
    end
    if (RCW < 16) begin : g_rows_unpack
      assign hd_rows = hd[28 + AQ + RCW] ? 16'hffff : 16'(hd[28 + AQ +: RCW]);
    end else begin : g_rows_unpack_full
      assign hd_rows = hd[28 + AQ +: 16];
    end
    if (HAW < 31) begin : g_host_unpack
      assign hd_host = {{(32 - HAW){hd[SW - 1]}}, hd[SW - HQ +: HAW]};
    end else begin : g_host_unpack_full
      assign hd_host = hd[SW - 32 +: 32];
    end
    assign up[u] = {hd_host, hd[28 + AQ + RQ +: 32], hd_rows, hd_addr, hd[4 +: 24], 4'd0, hd[3:0]};
  end

  logic [SW-1:0]  head_q, entry1;
  logic [2:0]     count_q, inflight_q;
  logic [PCW-1:0] fetch_pc_q, head_pc_q;

  logic req_fire, pop;
  assign if_req_valid_o = run_i && (fetch_pc_q < limit_i) && ((count_q + inflight_q) < 3'(DEPTH));
  assign if_req_addr_o  = prog_addr_i + 32'(fetch_pc_q) * 32'd16;
  assign req_fire       = if_req_valid_o && if_req_ready_i;
  assign pop            = pop_i && head_valid_o;

  assign head_valid_o = count_q != 3'd0;
  assign pk[0]        = head_q;
  assign head_o       = up[0];
  assign next_head_o  = up[1];
  assign head_pc_o    = head_pc_q;
  assign exhausted_o  = (fetch_pc_q >= limit_i) && (count_q == 3'd0) && (inflight_q == 3'd0);
  assign fetch_pc_o   = fetch_pc_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      count_q    <= 3'd0;
      inflight_q <= 3'd0;
      fetch_pc_q <= '0;
      head_pc_q  <= '0;
    end else if (start_i) begin
      count_q    <= 3'd0;
      inflight_q <= 3'd0;
      fetch_pc_q <= '0;
      head_pc_q  <= '0;
    end else begin
      if (req_fire) fetch_pc_q <= fetch_pc_q + 1'b1;
      inflight_q <= inflight_q + 3'(req_fire) - 3'(if_rsp_valid_i);
      count_q    <= count_q + 3'(if_rsp_valid_i) - 3'(pop);
      if (pop) head_pc_q <= head_pc_q + 1'b1;
    end
  end

  // The head (entry 0) is a register; entries 1..3 (the tail) are a ring of DEPTH words in a
  // memory: block RAM with BUF_RAM = 1 (on the iCE40, flip-flops loaded from the response port each
  // take a logic cell of their own), else flip-flops (a block RAM's clock-to-output, 5.8 ns on the
  // ECP5, would start the path through the pre-decoder; docs/fpga.md). Tail entry k (1 <= k <
  // count) is at ring index rp + k - 1; a pop advances rp. An arriving word that lands behind the
  // head goes to ring index rp + count - 1 (the same index with or without a pop in that cycle).
  // The ring's registered read port reads entry 1 of the next cycle (index rp + pop); when that
  // entry is the word arriving in this cycle (count - pop = 1 with a response) the read is skipped
  // and the word is taken from byp_q, which holds the response of the previous cycle (sel_q says
  // which). The memory is never read and written at one index in the same cycle.
  logic [1:0]    rp_q, rp_d, wa;
  logic          ring_we, sel_d, sel_q;
  logic [SW-1:0] ring_q, byp_q;
  /* verilator lint_off UNUSEDPARAM */  // used in an attribute (Yosys)
  localparam RING_STYLE = (BUF_RAM != 0) ? "block" : "logic";
  /* verilator lint_on UNUSEDPARAM */
  (* ram_style = RING_STYLE, no_rw_check *)
  logic [SW-1:0] ring [0:DEPTH-1];
  assign rp_d    = rp_q + 2'(pop);
  assign wa      = rp_q + 2'(count_q) - 2'd1;
  assign ring_we = if_rsp_valid_i && (count_q - 3'(pop) != 3'd0);
  assign sel_d   = if_rsp_valid_i && (count_q - 3'(pop) == 3'd1);
`ifdef PB_ZERO_INIT
  // Simulation only: start from zeros (the block RAM's undefined contents are never used)
  initial begin
    for (int i = 0; i < DEPTH; i++) ring[i] = '0;
  end
`endif
  always_ff @(posedge clk_i) begin
    if (ring_we) ring[wa] <= rsp_packed;
    if (!sel_d) ring_q <= ring[rp_d];
    byp_q <= rsp_packed;
    sel_q <= sel_d;
    rp_q  <= rp_d;
  end
  assign entry1 = sel_q ? byp_q : ring_q;

  // The head loads entry 1 on a pop when there is one (count > 1), the arriving word when it
  // lands in entry 0 (count = 0, or count = 1 with a pop). The multiplexer selects entry 1
  // whenever it exists, the arriving word otherwise: it depends on registers only, not on the pop
  // (the issue decision). Its output is next_head_o: the caller decodes it one cycle ahead
  // (head_load_o: the head loads).
  logic take_rsp, load;
  logic [SW-1:0] nxt;
  assign take_rsp    = if_rsp_valid_i && (pop ? (count_q == 3'd1) : (count_q == 3'd0));
  assign load        = take_rsp || pop;
  assign nxt         = (count_q > 3'd1) ? entry1 : rsp_packed;
  assign pk[1]       = nxt;
  assign head_load_o = load;
  always_ff @(posedge clk_i) begin
    if (load) head_q <= nxt;
  end
endmodule

`default_nettype wire
