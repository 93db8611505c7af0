// SPDX-License-Identifier: Apache-2.0
// Protobrain core: fetch, decode, in-order issue with range interlocks (docs/timing.md), the load,
// array and store units, scratchpad and accumulator SRAMs, control/status registers, perf counters.
`default_nettype none

module pb_core #(
  parameter int N          = 16,
  parameter int SP_ROWS    = 4096,
  parameter int ACC_ROWS   = 1024,
  parameter longint HOST_BYTES = 64'd1048576,
  // requantizer lanes (a divisor of N; hw.rq_lanes of the program header, 0 there meaning N):
  // fewer lanes make ACTIVATE rows longer (docs/timing.md) and the core smaller
`ifdef PB_RQ_LANES
  parameter int RQ_LANES   = `PB_RQ_LANES,   // board builds: the top that instantiates the core
`else                                        // does not pass it (fpga/flow.sh defines the macro)
  parameter int RQ_LANES   = N,
`endif
  // width of the five performance counters (33..64; the registers read as 64-bit values, which
  // wrap after 2^CNT_W): an area option for small FPGAs, not a timing parameter
`ifdef PB_CNT_W
  parameter int CNT_W      = `PB_CNT_W,
`else
  parameter int CNT_W      = 64,
`endif
  // area options for one FPGA, no byte or cycle of behaviour depends on them (board builds set
  // them like RQ_LANES; mk/fpga.mk ICE40_HW, docs/fpga.md): multipliers per requantizer lane
  // (pb_requant MULS, 3..6), and the small buffers (the load unit's CONFIG entries, the fetch
  // queue's tail; the board's host-memory response buffer) in block RAM (1) or flip-flops (0)
`ifdef PB_RQ_MULS
  parameter int RQ_MULS    = `PB_RQ_MULS,
`else
  parameter int RQ_MULS    = 3,
`endif
`ifdef PB_BUF_RAM
  parameter int BUF_RAM    = `PB_BUF_RAM
`else
  parameter int BUF_RAM    = 0
`endif
) (
  input  logic            clk_i,
  input  logic            rst_ni,
  // control/status registers (docs/architecture.md, "Register map")
  input  logic            reg_we_i,
  input  logic [7:0]      reg_addr_i,
  input  logic [31:0]     reg_wdata_i,
  output logic [31:0]     reg_rdata_o,
  output logic            irq_o,          // DONE or ERROR
  // instruction port (16 bytes per request, response in order)
  output logic            if_req_valid_o,
  output logic [31:0]     if_req_addr_o,
  input  logic            if_req_ready_i,
  input  logic            if_rsp_valid_i,
  input  logic [127:0]    if_rsp_data_i,
  // host read port (LOAD, LOAD_ACC, CONFIG)
  output logic            rd_req_valid_o,
  output logic [31:0]     rd_req_addr_o,
  output logic [7:0]      rd_req_len_o,
  input  logic            rd_req_ready_i,
  input  logic            rd_rsp_valid_i,
  input  logic [N*8-1:0]  rd_rsp_data_i,
  // host write port (STORE)
  output logic            wr_req_valid_o,
  output logic [31:0]     wr_req_addr_o,
  output logic [7:0]      wr_req_len_o,
  output logic [N*8-1:0]  wr_req_data_o,
  input  logic            wr_req_ready_i,
  // debug/trace: issue, retirement and every on-chip write, with the PC that caused it
  output logic            dbg_issue_o,
  output logic [31:0]     dbg_issue_pc_o,
  output logic [4:0]      dbg_retire_o,   // {ctl, st, ex-matmul, ex-weights, ld}
  output logic [159:0]    dbg_retire_pc_o,
  output logic            dbg_sp_we_o,
  output logic [15:0]     dbg_sp_waddr_o,
  output logic [N-1:0]    dbg_sp_wmask_o,
  output logic [N*8-1:0]  dbg_sp_wdata_o,
  output logic            dbg_acc_we_o,
  output logic [15:0]     dbg_acc_waddr_o,
  output logic [N*32-1:0] dbg_acc_wdata_o,
  output logic [31:0]     dbg_acc_wpc_o,
  output logic [31:0]     dbg_ld_pc_o,
  output logic [31:0]     dbg_st_pc_o
);
`include "pb_isa.vh"

  // Parameters that the hardware cannot be built with stop elaboration by instantiating a module
  // that does not exist and whose name says why. CNT_W, RQ_MULS and BUF_RAM in every tool.
  // RQ_LANES not in Yosys (SYNTHESIS): the FPGA flows read the RTL with the board's lane count as
  // RQ_LANES's default (PB_RQ_LANES) and set N on the board's top, and Yosys checks every module it
  // holds, pb_core at its default N = 16 too, which the board's lane count need not divide;
  // fpga/flow.sh checks RQ_LANES against the board's N before Yosys runs.
  if (CNT_W < 33 || CNT_W > 64) begin : g_bad_cnt_w
    pb_error_CNT_W_is_not_in_33_to_64 u_error ();
  end
  if (RQ_MULS < 3 || RQ_MULS > 6) begin : g_bad_rq_muls
    pb_error_RQ_MULS_is_not_in_3_to_6 u_error ();
  end
  if (BUF_RAM != 0 && BUF_RAM != 1) begin : g_bad_buf_ram
    pb_error_BUF_RAM_is_not_0_or_1 u_error ();
  end
`ifndef SYNTHESIS
  if (RQ_LANES < 1 || RQ_LANES > N || N % RQ_LANES != 0) begin : g_bad_rq_lanes
    pb_error_RQ_LANES_is_not_a_divisor_of_N u_error ();
  end
`endif

  // PCs: every PC the core handles is at most HOST_BYTES / 16 (the fetch limit)
  localparam int PCW = $clog2(32'(HOST_BYTES / 64'd16) + 1);
  // host addresses below 2^K; footprints FW bits (pb_decode)
  localparam int K   = $clog2(HOST_BYTES);
  localparam int FW  = (K + 1 > $clog2(SP_ROWS + 1))
                       ? ((K + 1 > $clog2(ACC_ROWS + 1)) ? K + 1 : $clog2(ACC_ROWS + 1))
                       : (($clog2(SP_ROWS + 1) > $clog2(ACC_ROWS + 1)) ? $clog2(SP_ROWS + 1) : $clog2(ACC_ROWS + 1));
  // DMA bytes a unit reports in one cycle: at most 8N (a CONFIG)
  localparam int BW  = $clog2(8 * N + 1);
  // widths of what an instruction that issues holds: scratchpad and accumulator row addresses,
  // row counts (at most max(SP_ROWS, ACC_ROWS), and a 16-bit field)
  localparam int SAW = (SP_ROWS > 1) ? $clog2(SP_ROWS) : 1;
  localparam int AAW = (ACC_ROWS > 1) ? $clog2(ACC_ROWS) : 1;
  localparam int RCW = ($clog2(((SP_ROWS > ACC_ROWS) ? SP_ROWS : ACC_ROWS) + 1) < 16)
                       ? $clog2(((SP_ROWS > ACC_ROWS) ? SP_ROWS : ACC_ROWS) + 1) : 16;
  localparam logic [1:0] S_IDLE = 2'd0, S_RUN = 2'd1, S_DONE = 2'd2, S_ERROR = 2'd3;
  localparam logic [1:0] M_NONE = 2'd0, M_HOST = 2'd1, M_SP = 2'd2, M_ACC = 2'd3;  // footprint memories (pb_decode)

  // ---- registers ----
  logic [1:0]  state_q;
  logic [3:0]  err_q;
  logic [31:0] prog_addr_q, prog_len_q;
  logic [PCW-1:0] fault_pc_q;
  logic [CNT_W-1:0] cyc_q, busy_cnt_q, instr_q, bytes_q, stall_q;
  logic [63:0] cyc, busy_cnt, instrs, bytes, stalls;   // as read: zero-extended
  assign cyc      = 64'(cyc_q);
  assign busy_cnt = 64'(busy_cnt_q);
  assign instrs   = 64'(instr_q);
  assign bytes    = 64'(bytes_q);
  assign stalls   = 64'(stall_q);
  logic        start;
  assign start = reg_we_i && (reg_addr_i == 8'h00) && reg_wdata_i[0] && (state_q != S_RUN);
  assign irq_o = (state_q == S_DONE) || (state_q == S_ERROR);

  always_comb begin
    case (reg_addr_i)
      8'h04: reg_rdata_o = {24'd0, err_q, 2'd0, state_q};
      8'h08: reg_rdata_o = prog_addr_q;
      8'h0c: reg_rdata_o = prog_len_q;
      8'h10: reg_rdata_o = 32'(fault_pc_q);
      8'h18: reg_rdata_o = cyc[31:0];
      8'h1c: reg_rdata_o = cyc[63:32];
      8'h20: reg_rdata_o = busy_cnt[31:0];
      8'h24: reg_rdata_o = busy_cnt[63:32];
      8'h28: reg_rdata_o = instrs[31:0];
      8'h2c: reg_rdata_o = instrs[63:32];
      8'h30: reg_rdata_o = bytes[31:0];
      8'h34: reg_rdata_o = bytes[63:32];
      8'h38: reg_rdata_o = stalls[31:0];
      8'h3c: reg_rdata_o = stalls[63:32];
      8'h40: reg_rdata_o = 32'(N);
      8'h44: reg_rdata_o = 32'(SP_ROWS);
      8'h48: reg_rdata_o = 32'(ACC_ROWS);
      8'h4c: reg_rdata_o = 32'(HOST_BYTES);
      8'h50: reg_rdata_o = 32'(PB_ISA_VERSION);
      8'h54: reg_rdata_o = 32'(RQ_LANES);
      default: reg_rdata_o = 32'd0;
    endcase
  end

  // ---- fetch ----
  // limit: the words that lie wholly inside host memory, at most the program length. PROG_ADDR and
  // PROG_LEN do not change while the core runs and are written at least one cycle before the
  // start, so the limit is computed one cycle late (a register, not a path into the fetcher).
  logic [PCW-1:0] limit_q, limit_d, avail;
  logic           head_valid, exhausted, pop, head_load;
  logic [127:0]   head, next_head;
  logic [PCW-1:0] head_pc, fetch_pc;
  // (as constant comparisons and PCW-bit arithmetic: a program length at or above 2^PCW exceeds
  // every avail)
  logic len_big;
  always_comb begin
    avail   = PCW'((HOST_BYTES - 64'(prog_addr_q[K-1:0])) >> 4);
    len_big = (PCW < 32) && ((64'(prog_len_q) >> PCW) != 64'd0);
    if (HOST_BYTES < 64'd16 || 64'(prog_addr_q) > HOST_BYTES - 64'd16) limit_d = '0;
    else if (len_big || prog_len_q[PCW-1:0] > avail) limit_d = avail;
    else limit_d = prog_len_q[PCW-1:0];
  end
  always_ff @(posedge clk_i) limit_q <= limit_d;

  pb_fetch #(.PCW(PCW), .HAW(K), .RCW(RCW), .AW((SAW > AAW) ? SAW : AAW), .BUF_RAM(BUF_RAM)) u_fetch (
    .clk_i(clk_i), .rst_ni(rst_ni), .start_i(start), .run_i(state_q == S_RUN),
    .prog_addr_i(prog_addr_q), .limit_i(limit_q), .pop_i(pop),
    .if_req_valid_o(if_req_valid_o), .if_req_addr_o(if_req_addr_o), .if_req_ready_i(if_req_ready_i),
    .if_rsp_valid_i(if_rsp_valid_i), .if_rsp_data_i(if_rsp_data_i),
    .head_valid_o(head_valid), .head_o(head), .head_pc_o(head_pc), .head_load_o(head_load),
    .next_head_o(next_head), .exhausted_o(exhausted),
    .fetch_pc_o(fetch_pc)
  );

  // ---- decode ----
  // on-chip footprints (scratchpad, accumulator rows) need OW bits (see the interlocks)
  localparam int SPW = $clog2(SP_ROWS + 1);
  localparam int ACW = $clog2(ACC_ROWS + 1);
  localparam int OW  = (SPW > ACW) ? SPW : ACW;
  // Pre-decode: the checks and the footprints (the adders of the range ends) of the word that
  // becomes the head are computed in the cycle before and registered next to the head (u_dec_nx
  // on the fetcher's next_head, loaded with the head), so the issue decision starts from
  // registers. The decode depends only on the word and on PROG_ADDR/PROG_LEN, which do not change
  // while the core runs. The fields the units take at the start are slices of the head (u_fields).
  logic [7:0]  op, sp_col, cols, zp, lo, hi;
  logic [3:0]  derr, derr_d;
  logic [1:0]  unit, rd_mem, wr_mem, unit_d, rd_mem_d, wr_mem_d;
  logic [OW-1:0] rd_lo, rd_hi, wr_lo, wr_hi;
  logic [15:0] sp_addr, rows, acc_addr, pool_stride;
  logic [23:0] host_stride;
  logic [31:0] host_addr;
  logic        acc_flag;
  logic [4:0]  pool;
  logic [FW-1:0] host_lo, host_hi, host_hi_d;
  /* verilator lint_off UNUSEDSIGNAL */  // u_fields gives the fields, u_dec_nx the checks and footprints
  logic [7:0]  nx_op, nx_sp_col, nx_cols, nx_zp, nx_lo, nx_hi;
  logic [15:0] nx_sp_addr, nx_rows, nx_acc_addr, nx_pool_stride;
  logic [23:0] nx_host_stride;
  logic [31:0] nx_host_addr;
  logic        nx_acc_flag;
  logic [4:0]  nx_pool;
  logic [FW-1:0] rd_lo_d, rd_hi_d, wr_lo_d, wr_hi_d, host_lo_d;   // on-chip ranges: the low OW bits
  /* verilator lint_on UNUSEDSIGNAL */
  pb_decode #(.N(N), .SP_ROWS(SP_ROWS), .ACC_ROWS(ACC_ROWS), .HOST_BYTES(HOST_BYTES), .FW(FW)) u_dec_nx (
    .instr_i(next_head), .prog_addr_i(prog_addr_q), .prog_len_i(prog_len_q),
    .op_o(nx_op), .err_o(derr_d), .unit_o(unit_d),
    .sp_col_o(nx_sp_col), .cols_o(nx_cols), .sp_addr_o(nx_sp_addr), .rows_o(nx_rows),
    .host_stride_o(nx_host_stride), .host_addr_o(nx_host_addr), .acc_addr_o(nx_acc_addr),
    .acc_flag_o(nx_acc_flag), .pool_o(nx_pool), .pool_stride_o(nx_pool_stride), .zp_o(nx_zp), .lo_o(nx_lo),
    .hi_o(nx_hi),
    .rd_mem_o(rd_mem_d), .rd_lo_o(rd_lo_d), .rd_hi_o(rd_hi_d), .wr_mem_o(wr_mem_d), .wr_lo_o(wr_lo_d),
    .wr_hi_o(wr_hi_d), .host_lo_o(host_lo_d), .host_hi_o(host_hi_d)
  );
  // Registered next to the head: the error code, the unit, the footprint memories, the host
  // range's end (host_hi, FW bits) and the on-chip ranges in OW bits (rd_lo .. wr_hi: meaningful
  // when their memory is the scratchpad or the accumulator; a host range is host_lo .. host_hi).
  // host_lo is the head's host address, a slice of the head.
  always_ff @(posedge clk_i) begin
    if (head_load) begin
      derr    <= derr_d;
      unit    <= unit_d;
      rd_mem  <= rd_mem_d; rd_lo <= rd_lo_d[OW-1:0]; rd_hi <= rd_hi_d[OW-1:0];
      wr_mem  <= wr_mem_d; wr_lo <= wr_lo_d[OW-1:0]; wr_hi <= wr_hi_d[OW-1:0];
      host_hi <= host_hi_d;
    end
  end
  assign host_lo = FW'(host_addr[K-1:0]);
  pb_fields u_fields (
    .instr_i(head), .op_o(op), .sp_col_o(sp_col), .cols_o(cols), .sp_addr_o(sp_addr), .rows_o(rows),
    .host_stride_o(host_stride), .host_addr_o(host_addr), .acc_addr_o(acc_addr), .acc_flag_o(acc_flag),
    .pool_o(pool), .pool_stride_o(pool_stride), .zp_o(zp), .lo_o(lo), .hi_o(hi)
  );

  // ---- units ----
  logic        ld_busy, ex_busy, ex_busy_mm, ex_inflight, st_busy, st_busy_acc, wsel, cfg_err;
  logic [1:0]  buf_busy;
  logic [7:0]  ld_op;
  logic        ld_start, ex_start, st_start;
  logic        ld_retire, w_retire, mm_retire, st_retire, row_in;
  logic [PCW-1:0] ld_pc, w_pc, mm_pc, st_pc;
  /* verilator lint_off UNUSEDSIGNAL */  // at most 8N bytes per cycle: the low BW bits are counted
  logic [31:0] ld_bytes, st_bytes;
  /* verilator lint_on UNUSEDSIGNAL */

  // scratchpad: one write port (LD), read ports A (EX) and B (ST): two copies
  logic            sp_we;
  logic [15:0]     sp_waddr;
  logic [N-1:0]    sp_wmask;
  logic [N*8-1:0]  sp_wdata;
  logic            spa_re, spb_re;
  logic [15:0]     spa_raddr, spb_raddr;
  logic [N*8-1:0]  spa_rdata, spb_rdata;
  // accumulator: one write port (EX, or LD's LOAD_ACC), read ports A (EX) and B (LD's ACTIVATE or ST's
  // STORE_ACC, never both at once: docs/timing.md): two copies
  logic            ex_acc_we, ld_acc_we, acc_we;
  logic [15:0]     ex_acc_waddr, ld_acc_waddr, acc_waddr;
  logic [N*32-1:0] ex_acc_wdata, ld_acc_wdata, acc_wdata;
  logic [PCW-1:0]  ex_acc_wpc;
  logic            acca_re, accb_re;
  logic [15:0]     acca_raddr, accb_raddr;
  logic [N*32-1:0] acca_rdata, accb_rdata;
  logic            ld_acc_re, st_acc_re;
  logic [15:0]     ld_acc_raddr, st_acc_raddr;
  assign accb_re    = ld_acc_re || st_acc_re;
  assign accb_raddr = st_acc_re ? st_acc_raddr : ld_acc_raddr;
  assign acc_we    = ex_acc_we || ld_acc_we;   // never both: LOAD_ACC waits for an idle array
  assign acc_waddr = ld_acc_we ? ld_acc_waddr : ex_acc_waddr;
  assign acc_wdata = ld_acc_we ? ld_acc_wdata : ex_acc_wdata;

  pb_sram #(.WIDTH(N*8), .DEPTH(SP_ROWS), .LANES(N)) u_sp_a (
    .clk_i(clk_i), .we_i(sp_we), .waddr_i(sp_waddr), .wmask_i(sp_wmask), .wdata_i(sp_wdata),
    .re_i(spa_re), .raddr_i(spa_raddr), .rdata_o(spa_rdata));
  pb_sram #(.WIDTH(N*8), .DEPTH(SP_ROWS), .LANES(N)) u_sp_b (
    .clk_i(clk_i), .we_i(sp_we), .waddr_i(sp_waddr), .wmask_i(sp_wmask), .wdata_i(sp_wdata),
    .re_i(spb_re), .raddr_i(spb_raddr), .rdata_o(spb_rdata));
  pb_sram #(.WIDTH(N*32), .DEPTH(ACC_ROWS), .LANES(1)) u_acc_a (
    .clk_i(clk_i), .we_i(acc_we), .waddr_i(acc_waddr), .wmask_i(1'b1), .wdata_i(acc_wdata),
    .re_i(acca_re), .raddr_i(acca_raddr), .rdata_o(acca_rdata));
  pb_sram #(.WIDTH(N*32), .DEPTH(ACC_ROWS), .LANES(1)) u_acc_b (
    .clk_i(clk_i), .we_i(acc_we), .waddr_i(acc_waddr), .wmask_i(1'b1), .wdata_i(acc_wdata),
    .re_i(accb_re), .raddr_i(accb_raddr), .rdata_o(accb_rdata));

  pb_ld_unit #(.N(N), .PCW(PCW), .RQ_LANES(RQ_LANES), .HAW(K), .SAW(SAW), .AAW(AAW), .RCW(RCW),
               .RQ_MULS(RQ_MULS), .CFG_RAM(BUF_RAM)) u_ld (
    .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(start), .start_i(ld_start), .op_i(op), .pc_i(head_pc),
    .sp_col_i(sp_col), .cols_i(cols), .sp_addr_i(sp_addr), .rows_i(rows), .host_stride_i(host_stride),
    .host_addr_i(host_addr), .acc_addr_i(acc_addr), .pool_i(pool), .pool_stride_i(pool_stride),
    .zp_i(zp), .lo_i(lo), .hi_i(hi), .busy_o(ld_busy), .cur_op_o(ld_op),
    .rd_req_valid_o(rd_req_valid_o), .rd_req_addr_o(rd_req_addr_o), .rd_req_len_o(rd_req_len_o),
    .rd_req_ready_i(rd_req_ready_i), .rd_rsp_valid_i(rd_rsp_valid_i), .rd_rsp_data_i(rd_rsp_data_i),
    .sp_we_o(sp_we), .sp_waddr_o(sp_waddr), .sp_wmask_o(sp_wmask), .sp_wdata_o(sp_wdata),
    .acc_we_o(ld_acc_we), .acc_waddr_o(ld_acc_waddr), .acc_wdata_o(ld_acc_wdata),
    .acc_re_o(ld_acc_re), .acc_raddr_o(ld_acc_raddr), .acc_rdata_i(accb_rdata),
    .retire_o(ld_retire), .pc_o(ld_pc), .cfg_err_o(cfg_err), .dma_bytes_o(ld_bytes)
  );

  pb_ex_unit #(.N(N), .PCW(PCW), .AAW(AAW), .SAW(SAW), .RCW(RCW)) u_ex (
    .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(start), .start_i(ex_start), .op_i(op), .pc_i(head_pc),
    .sp_addr_i(sp_addr), .rows_i(rows), .acc_addr_i(acc_addr), .acc_flag_i(acc_flag),
    .busy_o(ex_busy), .busy_mm_o(ex_busy_mm), .inflight_o(ex_inflight), .wsel_o(wsel), .buf_busy_o(buf_busy),
    .sp_re_o(spa_re), .sp_raddr_o(spa_raddr), .sp_rdata_i(spa_rdata),
    .acc_re_o(acca_re), .acc_raddr_o(acca_raddr), .acc_rdata_i(acca_rdata),
    .acc_we_o(ex_acc_we), .acc_waddr_o(ex_acc_waddr), .acc_wdata_o(ex_acc_wdata), .acc_wpc_o(ex_acc_wpc),
    .retire_w_o(w_retire), .retire_w_pc_o(w_pc), .retire_mm_o(mm_retire), .retire_mm_pc_o(mm_pc),
    .row_in_o(row_in)
  );

  pb_st_unit #(.N(N), .PCW(PCW), .HAW(K), .SAW(SAW), .AAW(AAW), .RCW(RCW)) u_st (
    .clk_i(clk_i), .rst_ni(rst_ni), .start_i(st_start), .op_i(op), .pc_i(head_pc), .sp_col_i(sp_col),
    .cols_i(cols), .sp_addr_i(sp_addr), .acc_addr_i(acc_addr), .rows_i(rows), .host_stride_i(host_stride),
    .host_addr_i(host_addr), .busy_o(st_busy), .busy_acc_o(st_busy_acc),
    .sp_re_o(spb_re), .sp_raddr_o(spb_raddr), .sp_rdata_i(spb_rdata),
    .acc_re_o(st_acc_re), .acc_raddr_o(st_acc_raddr), .acc_rdata_i(accb_rdata),
    .wr_req_valid_o(wr_req_valid_o), .wr_req_addr_o(wr_req_addr_o), .wr_req_len_o(wr_req_len_o),
    .wr_req_data_o(wr_req_data_o), .wr_req_ready_i(wr_req_ready_i),
    .retire_o(st_retire), .pc_o(st_pc), .dma_bytes_o(st_bytes)
  );

  // ---- interlocks (docs/timing.md): footprints of the instruction in each unit ----
  // Only footprints that can be host ranges need FW bits. Scratchpad and accumulator footprints
  // (rows <= SP_ROWS, ACC_ROWS for every instruction that issues, and for the head when it can)
  // need OW bits; a footprint kept for a unit whose instructions never touch the host in that
  // direction (LD writes, ST reads, EX reads, the MATMUL box) is stored and compared in OW bits
  // (SPW, ACW): a comparison only matters when both memories are equal, hence both on-chip. The
  // head's host range (host_lo .. host_hi) is compared with the two unit footprints that can be
  // host ranges (LD reads, ST writes), its on-chip ranges in OW bits with the others.
  logic [1:0]  ld_rd_mem_q, ld_wr_mem_q, st_rd_mem_q, st_wr_mem_q;
  logic [FW-1:0] ld_rd_lo_q, ld_rd_hi_q, st_wr_lo_q, st_wr_hi_q;
  logic [OW-1:0] ld_wr_lo_q, ld_wr_hi_q, st_rd_lo_q, st_rd_hi_q;
  logic [SPW-1:0] ex_rd_lo_q, ex_rd_hi_q;
  logic [ACW-1:0] box_lo_q, box_hi_q;

  // on-chip ranges (OW bits): the head's footprint am against a unit's bm
  function automatic logic ov_on(input logic [1:0] am, input logic [OW-1:0] alo, input logic [OW-1:0] ahi,
                                 input logic [1:0] bm, input logic [OW-1:0] blo, input logic [OW-1:0] bhi);
    ov_on = (am != M_NONE) && (am != M_HOST) && (am == bm) && (alo < bhi) && (blo < ahi);
  endfunction

  logic box_valid, confl_ld, confl_st, confl_ex, confl_box, all_idle, can_issue, head_bad, stopping;
  assign box_valid = ex_busy_mm || ex_inflight;   // MATMUL rows not yet written to the accumulator
  assign confl_ld  = ld_busy && (((wr_mem == M_HOST) && (ld_rd_mem_q == M_HOST) &&
                                  (host_lo < ld_rd_hi_q) && (ld_rd_lo_q < host_hi)) ||
                                 ov_on(wr_mem, wr_lo, wr_hi, ld_rd_mem_q, ld_rd_lo_q[OW-1:0], ld_rd_hi_q[OW-1:0]) ||
                                 ov_on(wr_mem, wr_lo, wr_hi, ld_wr_mem_q, ld_wr_lo_q, ld_wr_hi_q) ||
                                 ov_on(rd_mem, rd_lo, rd_hi, ld_wr_mem_q, ld_wr_lo_q, ld_wr_hi_q));
  // ST writes host memory: the head's host range (read or written) against it, one comparison
  assign confl_st  = st_busy && (ov_on(wr_mem, wr_lo, wr_hi, st_rd_mem_q, st_rd_lo_q, st_rd_hi_q) ||
                                 ((rd_mem == M_HOST || wr_mem == M_HOST) && st_wr_mem_q == M_HOST &&
                                  (host_lo < st_wr_hi_q) && (st_wr_lo_q < host_hi)));
  assign confl_ex  = ex_busy && (wr_mem == M_SP) && (wr_lo[SPW-1:0] < ex_rd_hi_q) && (ex_rd_lo_q < wr_hi[SPW-1:0]);
  assign confl_box = box_valid && (((wr_mem == M_ACC) && (wr_lo[ACW-1:0] < box_hi_q) && (box_lo_q < wr_hi[ACW-1:0])) ||
                                   ((rd_mem == M_ACC) && (rd_lo[ACW-1:0] < box_hi_q) && (box_lo_q < rd_hi[ACW-1:0])));
  assign all_idle  = !ld_busy && !ex_busy && !st_busy && !ex_inflight;

  always_comb begin
    can_issue = 1'b0;
    case (unit)
      PB_UNIT_CTL: can_issue = all_idle;
      PB_UNIT_LD:  can_issue = !ld_busy && !confl_ex && !confl_st && !confl_box &&
                               (op != PB_OP_LOAD_ACC || (!ex_busy && !ex_inflight)) &&
                               (op != PB_OP_ACTIVATE || !st_busy_acc);
      PB_UNIT_EX:  can_issue = !ex_busy && !confl_ld && !confl_st &&
                               (op != PB_OP_MATMUL || !(ld_busy && ld_op == PB_OP_LOAD_ACC)) &&
                               (op != PB_OP_WEIGHTS || !buf_busy[~wsel]);
      PB_UNIT_ST:  can_issue = !st_busy && !confl_ld && !confl_box &&
                               (op != PB_OP_STORE_ACC || !(ld_busy && ld_op == PB_OP_ACTIVATE));
      default:     can_issue = 1'b0;
    endcase
  end

  // stop conditions: a CONFIG faulted, the head fails its checks, or the program ran out
  // The PC of a CONFIG that faulted is the load unit's (ld_pc): it changes only when an instruction
  // starts in the unit, and none issues from the fault (while the CONFIG is in the unit, serialize)
  // until the core stops (cfg_err_q, stopping).
  logic           cfg_err_q;
  assign head_bad = head_valid && (derr != PB_ERR_NONE);
  assign stopping = cfg_err_q || head_bad || exhausted;
  logic serialize;
  assign serialize = ld_busy && (ld_op == PB_OP_CONFIG);
  logic issue;
  assign issue = (state_q == S_RUN) && head_valid && !stopping && !serialize && can_issue;
  assign pop      = issue;
  assign ld_start = issue && (unit == PB_UNIT_LD);
  assign ex_start = issue && (unit == PB_UNIT_EX);
  assign st_start = issue && (unit == PB_UNIT_ST);
  logic halt_issue;
  assign halt_issue = issue && (op == PB_OP_HALT);

  always_ff @(posedge clk_i) begin
    if (ld_start) begin
      ld_rd_mem_q <= rd_mem;
      ld_rd_lo_q  <= (rd_mem == M_HOST) ? host_lo : FW'(rd_lo);
      ld_rd_hi_q  <= (rd_mem == M_HOST) ? host_hi : FW'(rd_hi);
      ld_wr_mem_q <= wr_mem; ld_wr_lo_q <= wr_lo; ld_wr_hi_q <= wr_hi;
    end
    if (st_start) begin
      st_rd_mem_q <= rd_mem; st_rd_lo_q <= rd_lo;   st_rd_hi_q <= rd_hi;     // on-chip
      st_wr_mem_q <= wr_mem; st_wr_lo_q <= host_lo; st_wr_hi_q <= host_hi;   // the host
    end
    if (ex_start) begin
      ex_rd_lo_q <= rd_lo[SPW-1:0];
      ex_rd_hi_q <= rd_hi[SPW-1:0];
      if (op == PB_OP_MATMUL) begin
        if (!box_valid) begin
          box_lo_q <= wr_lo[ACW-1:0];
          box_hi_q <= wr_hi[ACW-1:0];
        end else begin
          if (wr_lo[ACW-1:0] < box_lo_q) box_lo_q <= wr_lo[ACW-1:0];
          if (wr_hi[ACW-1:0] > box_hi_q) box_hi_q <= wr_hi[ACW-1:0];
        end
      end
    end
  end

  // ---- control state and counters ----
  // The counters add each cycle's increments one cycle late (registered: the issue logic and the
  // units' outputs do not reach the wide adders in the same cycle). inc_q says the registers hold
  // the increments of a RUN cycle: set in every RUN cycle, so the last one (HALT issue or the
  // cycle the core stops in ERROR) is added in the first DONE/ERROR cycle, before any register
  // read can see the counters (a read needs the status first); start clears the counters and drops
  // a pending increment (start is never in a RUN cycle, so there is none to drop). The cycle
  // counter needs no increment register (+1 in every RUN cycle).
  logic [4:0]  retire_now, retire_q;     // {ctl, st, ex-matmul, ex-weights, ld} retired in the cycle
  logic [2:0]  retired;                  // instructions retired in the cycle (at most one per unit)
  logic [BW:0] bytes_now, bytes_q_inc;   // DMA bytes of this cycle
  logic        stall_now, stall_q_inc, row_in_q, inc_q;
  assign retired     = 3'(retire_q[0]) + 3'(retire_q[1]) + 3'(retire_q[2]) + 3'(retire_q[3]) + 3'(retire_q[4]);
  assign bytes_now   = (BW+1)'(ld_bytes[BW-1:0]) + (BW+1)'(st_bytes[BW-1:0]);
  assign stall_now   = (if_req_valid_o && !if_req_ready_i) || (rd_req_valid_o && !rd_req_ready_i) ||
                       (wr_req_valid_o && !wr_req_ready_i);
  assign retire_now = {issue && unit == PB_UNIT_CTL, st_retire, mm_retire, w_retire, ld_retire};
  always_ff @(posedge clk_i) begin
    retire_q    <= retire_now;
    bytes_q_inc <= bytes_now;
    stall_q_inc <= stall_now;
    row_in_q    <= row_in;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q     <= S_IDLE;
      err_q       <= PB_ERR_NONE;
      prog_addr_q <= 32'd0;
      prog_len_q  <= 32'd0;
      fault_pc_q  <= '0;
      cyc_q       <= '0;
      busy_cnt_q  <= '0;
      instr_q     <= '0;
      bytes_q     <= '0;
      stall_q     <= '0;
      inc_q       <= 1'b0;
      cfg_err_q   <= 1'b0;
    end else begin
      inc_q <= (state_q == S_RUN);
      if (inc_q) begin   // (a start below clears the counters instead)
        busy_cnt_q <= busy_cnt_q + CNT_W'(row_in_q);
        instr_q    <= instr_q + CNT_W'(retired);
        bytes_q    <= bytes_q + CNT_W'(bytes_q_inc);
        stall_q    <= stall_q + CNT_W'(stall_q_inc);
      end
      if (reg_we_i && state_q != S_RUN) begin
        if (reg_addr_i == 8'h08) prog_addr_q <= reg_wdata_i;
        if (reg_addr_i == 8'h0c) prog_len_q <= reg_wdata_i;
      end
      if (start) begin
        state_q    <= S_RUN;
        err_q      <= PB_ERR_NONE;
        fault_pc_q <= '0;
        cyc_q      <= '0;
        busy_cnt_q <= '0;
        instr_q    <= '0;
        bytes_q    <= '0;
        stall_q    <= '0;
        cfg_err_q  <= 1'b0;
      end else if (state_q == S_RUN) begin
        cyc_q      <= cyc_q + 1'b1;
        if (cfg_err) cfg_err_q <= 1'b1;
        if (halt_issue) begin
          state_q    <= S_DONE;
          fault_pc_q <= head_pc;
        end else if (stopping && all_idle && !cfg_err) begin
          state_q <= S_ERROR;
          if (cfg_err_q) begin
            err_q      <= PB_ERR_CONFIG_VALUE;
            fault_pc_q <= ld_pc;
          end else if (head_bad) begin
            err_q      <= derr;
            fault_pc_q <= head_pc;
          end else begin
            err_q      <= PB_ERR_PC_RANGE;
            fault_pc_q <= fetch_pc;
          end
        end
      end
    end
  end

  // ---- debug/trace ----
  assign dbg_issue_o     = issue;
  assign dbg_issue_pc_o  = 32'(head_pc);
  assign dbg_retire_o    = retire_now;
  assign dbg_retire_pc_o = {32'(head_pc), 32'(st_pc), 32'(mm_pc), 32'(w_pc), 32'(ld_pc)};
  assign dbg_sp_we_o     = sp_we;
  assign dbg_sp_waddr_o  = sp_waddr;
  assign dbg_sp_wmask_o  = sp_wmask;
  assign dbg_sp_wdata_o  = sp_wdata;
  assign dbg_acc_we_o    = acc_we;
  assign dbg_acc_waddr_o = acc_waddr;
  assign dbg_acc_wdata_o = acc_wdata;
  assign dbg_acc_wpc_o   = ld_acc_we ? 32'(ld_pc) : 32'(ex_acc_wpc);
  assign dbg_ld_pc_o     = 32'(ld_pc);
  assign dbg_st_pc_o     = 32'(st_pc);
endmodule

`default_nettype wire
