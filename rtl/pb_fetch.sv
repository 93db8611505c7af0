// SPDX-License-Identifier: Apache-2.0
// Instruction fetcher: requests 128-bit words in order into a 4-entry queue (entries + requests in flight).
`default_nettype none

// The queue shifts: entry 0 is always the head, so the head needs no read multiplexer; on a pop
// every entry takes the next one's word, and an arriving word goes to the first free entry
// (after the shift). Words arrive and leave in program order, so the PC of the head is a counter
// of the words issued (no PC stored per entry).
module pb_fetch #(
  parameter int PCW = 32
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
  output logic           exhausted_o,  // every word up to the limit was fetched and issued
  output logic [PCW-1:0] fetch_pc_o
);
  localparam int DEPTH = 4;

  logic [127:0]   data_q [0:DEPTH-1] /* verilator split_var */;
  logic [2:0]     count_q, inflight_q;
  logic [PCW-1:0] fetch_pc_q, head_pc_q;

  logic req_fire, pop;
  assign if_req_valid_o = run_i && (fetch_pc_q < limit_i) && ((count_q + inflight_q) < 3'(DEPTH));
  assign if_req_addr_o  = prog_addr_i + 32'(fetch_pc_q) * 32'd16;
  assign req_fire       = if_req_valid_o && if_req_ready_i;
  assign pop            = pop_i && head_valid_o;

  assign head_valid_o = count_q != 3'd0;
  assign head_o       = data_q[0];
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

  // entry e: after a pop it holds the next entry's word, or the arriving word if e is the last
  // occupied entry after the shift (count - 1); without a pop it takes the arriving word if it is
  // the first free entry (count). One register per entry (not a memory): a 2:1 multiplexer and an
  // enable in front of each.
  for (genvar e = 0; e < DEPTH; e++) begin : g_entry
    logic take_rsp, load;
    assign take_rsp = if_rsp_valid_i && (pop ? (3'(e) + 3'd1 == count_q) : (3'(e) == count_q));
    assign load     = take_rsp || (pop && e + 1 < DEPTH);
    always_ff @(posedge clk_i) begin
      if (load) data_q[e] <= take_rsp ? if_rsp_data_i : data_q[(e + 1) % DEPTH];
    end
  end
endmodule

`default_nettype wire
