// SPDX-License-Identifier: Apache-2.0
// Load unit: LOAD (host->scratchpad), LOAD_ACC (host->accumulator), CONFIG (host->requant registers)
// and ACTIVATE (accumulator -> max-pool -> requantize -> scratchpad); the only scratchpad writer.
`default_nettype none

// ACTIVATE with RQ_LANES = L requantizer lanes (L divides N; G = N / L lane groups per row,
// docs/timing.md): row r reads its pool members in consecutive cycles and takes G - 1 more
// cycles before the next row's first read, so a row costs pool + G - 1 cycles. The max over the
// members (of acc + bias) is N lanes wide; when the last member arrives, its columns 0..L-1 go
// to the requantizer at once and the other groups (columns g*L..g*L+L-1) in the next G - 1 cycles
// from the held maximum. The results are collected into the row, written when its last group
// comes out of the requantizer. L = N (G = 1) is the full-rate unit: one row per pool cycles.
module pb_ld_unit #(
  parameter int N        = 16,
  parameter int PCW      = 32,
  parameter int RQ_LANES = N,
  parameter int HAW      = 32,  // host address bits that can be nonzero in a request (clog2(HOST_BYTES))
  // widths of what an instruction that issues can hold (the decoder's range checks): scratchpad
  // and accumulator row addresses (clog2 of SP_ROWS, ACC_ROWS) and row counts (<= max of both)
  parameter int SAW      = 16,
  parameter int AAW      = 16,
  parameter int RCW      = 16,
  // multipliers per requantizer lane (pb_requant MULS, 3..6; pb_core passes the board's choice)
  parameter int RQ_MULS  = 3,
  // 1: CONFIG's bias and multiplier entries in a block RAM (one word of N * 64 bits, read every
  // cycle) instead of N * 64 flip-flops (pb_core passes the board's choice)
  parameter int CFG_RAM  = 0
) (
  input  logic            clk_i,
  input  logic            rst_ni,
  input  logic            clear_i,       // program start: CONFIG registers to their reset values
  // issue
  input  logic            start_i,
  input  logic [7:0]      op_i,
  input  logic [PCW-1:0]  pc_i,
  /* verilator lint_off UNUSEDSIGNAL */  // bits above the widths above (and HAW) are 0 in every
  input  logic [7:0]      sp_col_i,       // instruction that issues (and pool_stride's when pool > 1)
  input  logic [7:0]      cols_i,
  input  logic [15:0]     sp_addr_i,
  input  logic [15:0]     rows_i,
  input  logic [23:0]     host_stride_i,
  input  logic [31:0]     host_addr_i,
  input  logic [15:0]     acc_addr_i,
  input  logic [4:0]      pool_i,
  input  logic [15:0]     pool_stride_i,
  /* verilator lint_on UNUSEDSIGNAL */
  input  logic [7:0]      zp_i,
  input  logic [7:0]      lo_i,
  input  logic [7:0]      hi_i,
  output logic            busy_o,
  output logic [7:0]      cur_op_o,
  // host read port (N bytes; byte 0 of the response is the byte at the request address)
  output logic            rd_req_valid_o,
  output logic [31:0]     rd_req_addr_o,
  output logic [7:0]      rd_req_len_o,
  input  logic            rd_req_ready_i,
  input  logic            rd_rsp_valid_i,
  input  logic [N*8-1:0]  rd_rsp_data_i,
  // scratchpad write port (byte lanes)
  output logic            sp_we_o,
  output logic [15:0]     sp_waddr_o,
  output logic [N-1:0]    sp_wmask_o,
  output logic [N*8-1:0]  sp_wdata_o,
  // accumulator write (LOAD_ACC) and read (ACTIVATE; data one cycle after the address)
  output logic            acc_we_o,
  output logic [15:0]     acc_waddr_o,
  output logic [N*32-1:0] acc_wdata_o,
  output logic            acc_re_o,
  output logic [15:0]     acc_raddr_o,
  input  logic [N*32-1:0] acc_rdata_i,
  // completion
  output logic            retire_o,      // the instruction completed (last write)
  output logic [PCW-1:0]  pc_o,          // PC of the instruction in the unit
  output logic            cfg_err_o,     // CONFIG found a bad multiplier (pulse with the last beat)
  output logic [31:0]     dma_bytes_o    // bytes committed this cycle
);
`include "pb_isa.vh"

  // ---- latched instruction ----
  logic           busy_q;
  logic [7:0]     op_q;
  logic [PCW-1:0] pc_q;
  localparam int CLW = $clog2(N + 1);   // sp_col < N, cols <= N
  localparam int CW  = (RCW + 2 > 4) ? RCW + 2 : 4;   // DMA beats: rows, 4 * rows or 8
  logic [CLW-1:0] sp_col_q, cols_q;
  logic [SAW-1:0] sp_addr_q;
  logic [RCW-1:0] rows_q;
  logic [AAW-1:0] acc_addr_q, pool_stride_q;   // pool_stride < ACC_ROWS when it is used (pool > 1)
  logic [HAW-1:0] stride_q;   // only used between the rows of a range that stays below 2^HAW
  logic [4:0]     pool_q;
  logic [7:0]     zp_q, lo_q, hi_q;

  assign busy_o   = busy_q;
  assign cur_op_o = op_q;
  assign pc_o     = pc_q;

  // ---- DMA requests (LOAD, LOAD_ACC, CONFIG) ----
  logic [CW-1:0] req_cnt_q, rsp_cnt_q, beats;
  logic [HAW-1:0] row_addr_q;   // host address of the current request's row
  logic [1:0]  part_q;       // LOAD_ACC: which N-byte quarter of a 4N-byte row
  logic        is_dma;
  assign is_dma = (op_q == PB_OP_LOAD) || (op_q == PB_OP_LOAD_ACC) || (op_q == PB_OP_CONFIG);
  always_comb begin
    case (op_q)
      PB_OP_LOAD:     beats = CW'(rows_q);
      PB_OP_LOAD_ACC: beats = CW'(rows_q) << 2;
      PB_OP_CONFIG:   beats = CW'(8);
      default:        beats = '0;
    endcase
  end
  assign rd_req_valid_o = busy_q && is_dma && (req_cnt_q < beats);
  logic [HAW-1:0] req_addr;
  assign req_addr       = (op_q == PB_OP_LOAD_ACC) ? row_addr_q + HAW'(part_q) * HAW'(N) : row_addr_q;
  assign rd_req_addr_o  = 32'(req_addr);
  assign rd_req_len_o   = (op_q == PB_OP_LOAD) ? 8'(cols_q) : 8'(N);
  logic req_fire;
  assign req_fire = rd_req_valid_o && rd_req_ready_i;
  logic rsp_last;
  assign rsp_last = rd_rsp_valid_i && (rsp_cnt_q + CW'(1) == beats);

  // ---- LOAD_ACC row assembly ----
  logic [N*24-1:0] accrow_q;   // the last three beats (the oldest is shifted out with the row's fourth)

  // ---- CONFIG registers: entry c = {mult[c], bias[c]} at cfg_q[c*64 +: 64] ----
  // CONFIG writes its eight beats straight into them (no staging copy): a CONFIG with a bad
  // multiplier stops the core (docs/timing.md), and nothing reads these registers again before
  // the next start clears them, so a partly written set is never used. While a CONFIG runs, no
  // ACTIVATE does (both are LD instructions, and the LD unit runs one at a time).
  // After the eighth beat, beat b is at cfg_q[b*N*8 +: N*8].
  logic [N*64-1:0] cfg_q;
  logic            cfg_beat;    // a CONFIG beat arrives
  logic            mults_ok;    // with the last beat (rsp_last): every multiplier is legal
  assign cfg_beat = busy_q && op_q == PB_OP_CONFIG && rd_rsp_valid_i;
  if (CFG_RAM != 0) begin : g_cfg_ram
    // Beat b is written into bytes b*N .. b*N+N-1 of the word, clear_i writes all of it 0. The
    // word is read in every cycle, so cfg_q shows a write two cycles later: the earliest ACTIVATE
    // after a CONFIG (or after clear_i) reads its first bias a cycle after that.
    (* ram_style = "block", no_rw_check *) logic [N*64-1:0] cfg_mem [0:1];
    logic           cfg_a;      // the word's address, 0
    logic [7:0]     cfg_be;     // beat lanes written
    logic [N*8-1:0] cfg_wd;
    assign cfg_a = 1'b0;
    always_comb begin
      cfg_wd = clear_i ? '0 : rd_rsp_data_i;
      for (int b = 0; b < 8; b++) cfg_be[b] = clear_i || (cfg_beat && rsp_cnt_q[2:0] == 3'(b));
    end
    always_ff @(posedge clk_i) begin
      for (int b = 0; b < 8; b++) begin
        if (cfg_be[b]) cfg_mem[cfg_a][b*N*8 +: N*8] <= cfg_wd;
      end
      cfg_q <= cfg_mem[cfg_a];
    end
    // The multipliers are checked as their bytes arrive: byte B = b*N + j of the set, when
    // B % 8 == 7 (sign, exponent[7:1]), with bit 7 of byte B - 1 (exponent[0]; the previous
    // beat's last bit when j == 0); bad_q collects the beats before the last.
    logic         bad_q, prev7_q, bad_now;
    logic [N*8:0] dext;         // the beat with the previous beat's bit 7 below it
    assign dext = {rd_rsp_data_i, prev7_q};
    always_comb begin
      bad_now = 1'b0;
      for (int j = 0; j < N; j++) begin
        if (3'(32'(rsp_cnt_q[2:0]) * N + j) == 3'd7 &&
            (rd_rsp_data_i[j*8 + 7] || (rd_rsp_data_i[j*8 +: 7] == 7'h7f && dext[j*8])))
          bad_now = 1'b1;
      end
    end
    assign mults_ok = !bad_q && !bad_now;
    always_ff @(posedge clk_i) begin
      if (start_i) bad_q <= 1'b0;
      else if (cfg_beat) bad_q <= bad_q || bad_now;
      if (cfg_beat) prev7_q <= rd_rsp_data_i[N*8-1];
    end
  end else begin : g_cfg_ff
    // CONFIG writes its eight beats straight into them (no staging copy): a CONFIG with a bad
    // multiplier stops the core (docs/timing.md), and nothing reads these registers again before
    // the next start clears them, so a partly written set is never used. While a CONFIG runs, no
    // ACTIVATE does (both are LD instructions, and the LD unit runs one at a time).
    // The beats shift in from the top (no multiplexer that places a beat by its number). Only
    // the last beat's cfg_full is used (rsp_last).
    logic [N*64-1:0] cfg_full;  // cfg_q with the arriving beat shifted in
    assign cfg_full = {rd_rsp_data_i, cfg_q[N*64-1 : N*8]};
    always_comb begin
      mults_ok = 1'b1;
      for (int c = 0; c < N; c++) begin
        // sign bit set, or exponent all ones (Inf/NaN): refused
        if (cfg_full[c*64 + 63] || (cfg_full[c*64 + 55 +: 8] == 8'hff)) mults_ok = 1'b0;
      end
    end
    always_ff @(posedge clk_i) begin
      if (clear_i) cfg_q <= '0;
      else if (cfg_beat) cfg_q <= cfg_full;
    end
  end
  logic [31:0] bias_q [0:N-1];
  logic [31:0] mult_q [0:N-1];
  always_comb begin
    for (int c = 0; c < N; c++) begin
      bias_q[c] = cfg_q[c*64 +: 32];
      mult_q[c] = cfg_q[c*64 + 32 +: 32];
    end
  end
  logic [7:0]  czp_q, clo_q, chi_q;

  // ---- ACTIVATE: acc reads (row r, member i), max over members, requantize ----
  localparam int L  = RQ_LANES;
  localparam int G  = N / RQ_LANES;            // lane groups per row
  localparam int GW = (G > 1) ? $clog2(G) : 1;
  logic [RCW-1:0] act_r_q;    // row of the next read
  logic [4:0]     act_i_q;    // member of the next read
  logic [AAW-1:0] act_row_q;  // accumulator row of member 0 of row act_r_q (acc_addr + r)
  logic [AAW-1:0] act_addr_q; // accumulator row of the next read (act_row + i * pool_stride)
  logic [RCW-1:0] act_out_q;  // rows written so far
  logic [GW-1:0] gap_q;      // cycles left before the next row's first read
  logic        act_reading, act_last_member;
  assign act_reading     = busy_q && (op_q == PB_OP_ACTIVATE) && (act_r_q < rows_q) && (gap_q == '0);
  assign act_last_member = act_i_q + 5'd1 == pool_q;
  assign acc_re_o        = act_reading;
  assign acc_raddr_o     = 16'(act_addr_q);

  logic rdv_q, rd_last_member_q;   // read data arrives this cycle; it is the last member of its row
  logic [31:0] vmax_q [0:N-1];     // running max of (acc + bias) over the members so far
  logic [31:0] vsum  [0:N-1];
  logic [31:0] vnext [0:N-1];
  always_comb begin
    for (int c = 0; c < N; c++) begin
      vsum[c]  = acc_rdata_i[c*32 +: 32] + bias_q[c];   // int32 wrapping add
      vnext[c] = (rd_first_q || $signed(vsum[c]) > $signed(vmax_q[c])) ? vsum[c] : vmax_q[c];
    end
  end
  logic rd_first_q;                // the arriving data is member 0

  // feeding the lanes: group 0 from vnext as the last member arrives, groups 1..G-1 from vmax_q
  logic          feed0, feed;
  logic [GW-1:0] fg_q;             // group fed from vmax_q in this cycle (0: none)
  assign feed0 = rdv_q && rd_last_member_q;
  assign feed  = feed0 || (fg_q != '0);
  logic [31:0] lane_acc  [0:L-1];
  logic [31:0] lane_mult [0:L-1];
  always_comb begin
    for (int l = 0; l < L; l++) begin
      lane_acc[l]  = vnext[l];
      lane_mult[l] = mult_q[l];
      for (int k = 1; k < G; k++) begin
        if (!feed0 && 32'(fg_q) == k) begin
          lane_acc[l]  = vmax_q[k * L + l];
          lane_mult[l] = mult_q[k * L + l];
        end
      end
    end
  end

  /* verilator lint_off UNUSEDSIGNAL */  // every lane has the same valid; lane 0's is used
  logic [L-1:0] rq_valid;
  /* verilator lint_on UNUSEDSIGNAL */
  logic [L*8-1:0] rq_y;
  genvar g;
  generate
    for (g = 0; g < L; g++) begin : g_rq
      // czp/clo/chi, and with a lane per column (G = 1) mult_q, do not change during an ACTIVATE
      pb_requant #(.HOLD_CFG(1), .HOLD_MULT(G == 1 ? 1 : 0), .MULS(RQ_MULS)) u_rq (
        .clk_i   (clk_i),
        .rst_ni  (rst_ni),
        .valid_i (feed),
        .acc_i   (lane_acc[g]),
        .bias_i  (32'd0),
        .mult_i  (lane_mult[g]),
        .zp_i    (czp_q),
        .lo_i    (clo_q),
        .hi_i    (chi_q),
        .valid_o (rq_valid[g]),
        .y_o     (rq_y[g*8 +: 8])
      );
    end
  endgenerate

  // collecting a row: the groups come out in order, G consecutive results per row
  logic [GW-1:0]  og_q;            // groups of the current row already out
  logic [N*8-1:0] act_row;         // the row when its last group is out (og_q == G-1)
  generate
    if (G > 1) begin : g_collect
      logic [(N-L)*8-1:0] out_q;   // groups so far, shifted down as each arrives
      assign act_row = {rq_y, out_q};
      always_ff @(posedge clk_i) begin
        if (rq_valid[0]) out_q <= act_row[N*8-1 : L*8];
      end
    end else begin : g_direct
      assign act_row = rq_y;
    end
  endgenerate

  // ---- scratchpad and accumulator writes ----
  logic [N-1:0]   load_mask;
  logic [N*8-1:0] load_data;
  always_comb begin
    for (int b = 0; b < N; b++) load_mask[b] = ((CLW+1)'(b) >= (CLW+1)'(sp_col_q)) && ((CLW+1)'(b) < (CLW+1)'(sp_col_q) + (CLW+1)'(cols_q));
    load_data = rd_rsp_data_i << (sp_col_q * 8);
  end
  logic load_wr, act_wr;
  assign load_wr = busy_q && (op_q == PB_OP_LOAD) && rd_rsp_valid_i;
  assign act_wr  = busy_q && (op_q == PB_OP_ACTIVATE) && rq_valid[0] && (32'(og_q) == G - 1);
  assign sp_we_o    = load_wr || act_wr;
  logic [SAW-1:0] sp_waddr;
  logic [AAW-1:0] acc_waddr;
  assign sp_waddr   = sp_addr_q + (load_wr ? SAW'(rsp_cnt_q) : SAW'(act_out_q));
  assign sp_waddr_o = 16'(sp_waddr);
  assign sp_wmask_o = load_wr ? load_mask : {N{1'b1}};
  assign sp_wdata_o = load_wr ? load_data : act_row;

  // the four beats of a row shift in from the top, like CONFIG's: with the fourth, the row is whole
  logic [N*32-1:0] accrow_full;
  assign accrow_full = {rd_rsp_data_i, accrow_q};
  assign acc_we_o    = busy_q && (op_q == PB_OP_LOAD_ACC) && rd_rsp_valid_i && (rsp_cnt_q[1:0] == 2'd3);
  assign acc_waddr   = acc_addr_q + AAW'(rsp_cnt_q >> 2);
  assign acc_waddr_o = 16'(acc_waddr);
  assign acc_wdata_o = accrow_full;

  logic act_done;
  assign act_done = act_wr && (act_out_q + RCW'(1) == rows_q);
  assign retire_o = busy_q && ((is_dma && rsp_last && !(op_q == PB_OP_CONFIG && !mults_ok)) || act_done);
  assign cfg_err_o = busy_q && (op_q == PB_OP_CONFIG) && rsp_last && !mults_ok;
  // Bytes are counted as they arrive (no rows x cols multiplier); CONFIG's with its last beat,
  // and only when it succeeds. The totals at the end of a program are those of the model.
  always_comb begin
    dma_bytes_o = 32'd0;
    if (busy_q && rd_rsp_valid_i && op_q == PB_OP_LOAD) dma_bytes_o = 32'(cols_q);
    if (busy_q && rd_rsp_valid_i && op_q == PB_OP_LOAD_ACC) dma_bytes_o = 32'(N);
    if (busy_q && rsp_last && op_q == PB_OP_CONFIG && mults_ok) dma_bytes_o = 32'(8 * N);
  end

  // ---- state ----
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      busy_q <= 1'b0;
      op_q   <= 8'd0;
      rdv_q  <= 1'b0;
      gap_q  <= '0;
      fg_q   <= '0;
      og_q   <= '0;
    end else begin
      rdv_q <= act_reading;
      // lane groups (G > 1): the gap after a row's reads, the group fed, the groups collected
      if (act_reading && act_last_member) gap_q <= GW'(G - 1);
      else if (gap_q != '0) gap_q <= gap_q - 1'b1;
      if (feed0) fg_q <= GW'(G > 1 ? 1 : 0);
      else if (fg_q != '0) fg_q <= (32'(fg_q) == G - 1) ? '0 : fg_q + 1'b1;
      if (rq_valid[0]) og_q <= (32'(og_q) == G - 1) ? '0 : og_q + 1'b1;
      if (start_i) begin
        busy_q <= 1'b1;
        op_q   <= op_i;
      end else if (busy_q && ((is_dma && rsp_last) || act_done)) begin
        busy_q <= 1'b0;
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (start_i) begin
      pc_q          <= pc_i;
      sp_col_q      <= CLW'(sp_col_i);
      cols_q        <= CLW'(cols_i);
      sp_addr_q     <= SAW'(sp_addr_i);
      rows_q        <= (op_i == PB_OP_ACTIVATE || op_i == PB_OP_LOAD || op_i == PB_OP_LOAD_ACC) ? RCW'(rows_i) : '0;
      stride_q      <= HAW'(host_stride_i);
      acc_addr_q    <= AAW'(acc_addr_i);
      pool_q        <= pool_i;
      pool_stride_q <= AAW'(pool_stride_i);
      zp_q          <= zp_i;
      lo_q          <= lo_i;
      hi_q          <= hi_i;
      req_cnt_q     <= '0;
      rsp_cnt_q     <= '0;
      row_addr_q    <= HAW'(host_addr_i);
      part_q        <= 2'd0;
      act_r_q       <= '0;
      act_i_q       <= 5'd0;
      act_row_q     <= AAW'(acc_addr_i);
      act_addr_q    <= AAW'(acc_addr_i);
      act_out_q     <= '0;
    end else if (busy_q) begin
      if (req_fire) begin
        req_cnt_q <= req_cnt_q + CW'(1);
        case (op_q)
          PB_OP_LOAD: row_addr_q <= row_addr_q + stride_q;
          PB_OP_LOAD_ACC: begin
            part_q <= part_q + 2'd1;
            if (part_q == 2'd3) row_addr_q <= row_addr_q + stride_q;
          end
          default: row_addr_q <= row_addr_q + HAW'(N);   // CONFIG: consecutive N-byte beats
        endcase
      end
      if (rd_rsp_valid_i) begin
        rsp_cnt_q <= rsp_cnt_q + CW'(1);
        if (op_q == PB_OP_LOAD_ACC) accrow_q <= accrow_full[N*32-1 : N*8];
      end
      if (act_reading) begin
        if (act_last_member) begin
          act_i_q    <= 5'd0;
          act_r_q    <= act_r_q + RCW'(1);
          act_row_q  <= act_row_q + AAW'(1);
          act_addr_q <= act_row_q + AAW'(1);
        end else begin
          act_i_q    <= act_i_q + 5'd1;
          act_addr_q <= act_addr_q + pool_stride_q;
        end
      end
      if (act_wr) act_out_q <= act_out_q + RCW'(1);
    end
    // read-data bookkeeping for ACTIVATE (one cycle behind the reads)
    rd_first_q       <= (act_i_q == 5'd0);
    rd_last_member_q <= act_last_member;
    if (rdv_q) for (int c = 0; c < N; c++) vmax_q[c] <= vnext[c];
  end

  // CONFIG registers: zp/lo/hi with the last beat when every multiplier is legal (the bias and
  // multiplier entries above)
  always_ff @(posedge clk_i) begin
    if (clear_i) begin
      czp_q <= 8'd0;
      clo_q <= 8'h80;
      chi_q <= 8'h7f;
    end else if (cfg_beat) begin
      if (rsp_last && mults_ok) begin
        czp_q <= zp_q;
        clo_q <= lo_q;
        chi_q <= hi_q;
      end
    end
  end
endmodule

`default_nettype wire
