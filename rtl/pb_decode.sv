// SPDX-License-Identifier: Apache-2.0
// Instruction decoder: fields, the checks of docs/isa.md in their order, unit and memory footprint.
`default_nettype none

// The range arithmetic is as narrow as the hardware parameters allow and still exact: a host
// address needs K = clog2(HOST_BYTES) bits, and anything at or above 2^K is out of range, so a
// wider sum only has to be recognised as too large, not computed. The row count of a host range
// is known to be at most max(SP_ROWS, ACC_ROWS) when its host check decides the error (the
// scratchpad or accumulator check comes first), so the row x stride product is RW x K bits,
// split at 16 bits for the DSPs. Footprints are FW bits wide; they are exact for every
// instruction that passes its checks (the only ones that issue).
module pb_decode #(
  parameter int N          = 16,
  parameter int SP_ROWS    = 4096,
  parameter int ACC_ROWS   = 1024,
  parameter longint HOST_BYTES = 64'd1048576,
  // footprint width: max(clog2(HOST_BYTES) + 1, clog2(SP_ROWS + 1), clog2(ACC_ROWS + 1))
  parameter int FW         = ($clog2(HOST_BYTES) + 1 > $clog2(SP_ROWS + 1))
                             ? (($clog2(HOST_BYTES) + 1 > $clog2(ACC_ROWS + 1)) ? $clog2(HOST_BYTES) + 1 : $clog2(ACC_ROWS + 1))
                             : (($clog2(SP_ROWS + 1) > $clog2(ACC_ROWS + 1)) ? $clog2(SP_ROWS + 1) : $clog2(ACC_ROWS + 1))
) (
  input  logic [127:0] instr_i,
  input  logic [31:0]  prog_addr_i,
  input  logic [31:0]  prog_len_i,
  output logic [7:0]   op_o,
  output logic [3:0]   err_o,        // PB_ERR_*
  output logic [1:0]   unit_o,       // PB_UNIT_*
  // fields: fixed bit slices of the word, meaningful only for instructions that have the field
  output logic [7:0]   sp_col_o,
  output logic [7:0]   cols_o,
  output logic [15:0]  sp_addr_o,
  output logic [15:0]  rows_o,
  output logic [23:0]  host_stride_o,
  output logic [31:0]  host_addr_o,
  output logic [15:0]  acc_addr_o,
  output logic         acc_flag_o,
  output logic [4:0]   pool_o,
  output logic [15:0]  pool_stride_o,
  output logic [7:0]   zp_o,
  output logic [7:0]   lo_o,
  output logic [7:0]   hi_o,
  // footprint: memory (PB_TM_*: 0 none, 1 host, 2 scratchpad, 3 accumulator) and [lo, hi)
  output logic [1:0]   rd_mem_o,
  output logic [FW-1:0] rd_lo_o,
  output logic [FW-1:0] rd_hi_o,
  output logic [1:0]   wr_mem_o,
  output logic [FW-1:0] wr_lo_o,
  output logic [FW-1:0] wr_hi_o,
  // the host range of the footprint (rd or wr, whichever is M_HOST; never both)
  output logic [FW-1:0] host_lo_o,
  output logic [FW-1:0] host_hi_o
);
`include "pb_isa.vh"

  localparam logic [1:0] M_NONE = 2'd0, M_HOST = 2'd1, M_SP = 2'd2, M_ACC = 2'd3;
  localparam int K    = $clog2(HOST_BYTES);                // host addresses below 2^K >= HOST_BYTES
  localparam int MAXR = (SP_ROWS > ACC_ROWS) ? SP_ROWS : ACC_ROWS;
  localparam int RW   = (MAXR > 2) ? $clog2(MAXR) : 1;     // rows - 1 of a range that reaches the host check
  localparam int HSW  = (K < 24) ? K : 24;                 // stride bits below 2^K
  localparam int HK   = K + 2;                             // host sums: < 2^K + 2^K + 1024
  localparam logic [16:0] NN   = 17'(N);
  localparam logic [16:0] SPR  = 17'(SP_ROWS);
  localparam logic [16:0] ACCR = 17'(ACC_ROWS);
  localparam logic [HK-1:0] HOST = HK'(HOST_BYTES);
  // a < b (unsigned) as logic, most significant bit first, for comparisons against a constant:
  // Yosys maps `<` to a carry chain (an iCE40 cell per bit, its sum LUT unused) also when one side
  // is a constant, where the logic is a few LUTs in all. (Two variables compare cheaper in the
  // carry chain: nextpnr packs the LUT that inverts an operand into the carry's cell.)
  function automatic logic lt(input logic [63:0] a, input logic [63:0] b);
    logic eq;
    lt = 1'b0;
    eq = 1'b1;
    for (int i = 63; i >= 0; i--) begin
      lt = lt | (eq & !a[i] & b[i]);
      eq = eq & (a[i] == b[i]);
    end
  endfunction
  logic [7:0] op;
  assign op = op_o;
  pb_fields u_fields (
    .instr_i(instr_i), .op_o(op_o), .sp_col_o(sp_col_o), .cols_o(cols_o), .sp_addr_o(sp_addr_o), .rows_o(rows_o),
    .host_stride_o(host_stride_o), .host_addr_o(host_addr_o), .acc_addr_o(acc_addr_o), .acc_flag_o(acc_flag_o),
    .pool_o(pool_o), .pool_stride_o(pool_stride_o), .zp_o(zp_o), .lo_o(lo_o), .hi_o(hi_o)
  );

  // On-chip ranges: one scratchpad end (rows, or N for WEIGHTS) and one accumulator end (rows, plus
  // (pool - 1) * pool_stride for ACTIVATE) serve every instruction.
  logic        is_act, is_w;
  logic [16:0] rows, cols, spa, acca, sp_end;
  assign is_act  = (op == PB_OP_ACTIVATE);
  assign is_w    = (op == PB_OP_WEIGHTS);
  assign rows    = 17'(rows_o);
  assign cols    = 17'(cols_o);
  assign spa     = 17'(sp_addr_o);
  assign acca    = 17'(acc_addr_o);
  assign sp_end  = spa + (is_w ? NN : rows);

  // ACTIVATE: acc_addr + (pool - 1) * pool_stride + rows, with pool - 1 <= 15 once pool passes
  // its field check; as shifted adds (a multiplier this small is not worth a DSP). Other
  // instructions: acc_addr + rows. Only the low PSW = clog2(ACC_ROWS) bits of pool_stride are
  // added: with a higher bit set and pool > 1 the range ends beyond ACC_ROWS (pool_big; rows >= 1
  // when this check decides).
  localparam int PSW = (ACC_ROWS > 1) ? (($clog2(ACC_ROWS) < 16) ? $clog2(ACC_ROWS) : 16) : 1;
  localparam int AEW = ((PSW + 4 > 17) ? PSW + 4 : 17) + 1;
  // The adds form a tree of depth 3 (the two pairs of pool terms and acc_addr + rows, then the
  // pairs, then the sum): the decoder's longest path (it runs in the cycle before the word is the
  // head, pb_core).
  logic [3:0]     pool_m1;
  logic [PSW+3:0] ps, span01, span23, pool_span;
  logic [AEW-1:0] acc_base, acc_end;
  logic           pool_big, acc_over;
  always_comb begin
    pool_m1   = is_act ? 4'(pool_o - 5'd1) : 4'd0;
    ps        = (PSW+4)'(pool_stride_o[PSW-1:0]);
    span01    = (pool_m1[0] ? ps : '0) + (pool_m1[1] ? ps << 1 : '0);
    span23    = (pool_m1[2] ? ps << 2 : '0) + (pool_m1[3] ? ps << 3 : '0);
    pool_span = span01 + span23;
    pool_big  = (PSW < 16) && (pool_m1 != 4'd0) && ((32'(pool_stride_o) >> PSW) != 32'd0);
    acc_base  = AEW'(acca) + AEW'(rows);
    acc_end   = acc_base + AEW'(pool_span);
    acc_over  = pool_big || lt(64'(ACCR), 64'(acc_end));
  end

  // Host ranges: host_addr + (rows - 1) * host_stride + bytes.
  logic [15:0]     rows_m1;
  logic [RW-1:0]   rm;
  logic [RW+HSW-1:0] prod;
  logic            host_big;         // the range certainly ends beyond 2^K >= HOST_BYTES
  logic [HK-1:0]   host_base, end_add, end_host;
  assign rows_m1 = rows_o - 16'd1;
  assign rm      = rows_m1[RW-1:0];
  if (HSW <= 16) begin : g_prod_one
    assign prod = (RW+HSW)'(rm) * (RW+HSW)'(host_stride_o[HSW-1:0]);
  end else begin : g_prod_split
    logic [RW+15:0]    prod_lo;
    logic [RW+HSW-17:0] prod_hi;
    assign prod_lo = (RW+16)'(rm) * (RW+16)'(host_stride_o[15:0]);
    assign prod_hi = (RW+HSW-16)'(rm) * (RW+HSW-16)'(host_stride_o[HSW-1:16]);
    assign prod    = (RW+HSW)'(prod_lo) + ((RW+HSW)'(prod_hi) << 16);
  end
  always_comb begin
    host_big = 1'b0;
    if (K < 32 && (64'(host_addr_o) >> K) != 64'd0) host_big = 1'b1;
    if (rows_m1 != 16'd0) begin
      if (K < 24 && (64'(host_stride_o) >> K) != 64'd0) host_big = 1'b1;
      if (RW < 16 && (64'(rows_m1) >> RW) != 64'd0) host_big = 1'b1;
    end
    if ((64'(prod) >> K) != 64'd0) host_big = 1'b1;
    // one end for every host range: CONFIG's rows and stride fields are reserved, so its product
    // is 0 whenever its reserved bits are (otherwise the reserved-bits error wins)
    host_base = HK'(host_addr_o[K-1:0]) + HK'(prod[K-1:0]);
    case (op)
      PB_OP_LOAD_ACC:  end_add = HK'(4 * N);
      PB_OP_STORE_ACC: end_add = HK'(cols_o) << 2;
      PB_OP_CONFIG:    end_add = HK'(8 * N);
      default:         end_add = HK'(cols_o);            // LOAD, STORE
    endcase
    end_host = host_base + end_add;
  end

  // The program range (a STORE must not write it), saturated at 2^(K+1): every host address a
  // store reaches is below 2^K.
  logic [HK-1:0] prog_lo, prog_hi;
  always_comb begin
    if ((64'(prog_addr_i) >> (K + 1)) != 64'd0) prog_lo = HK'(1) << (K + 1);
    else prog_lo = HK'(prog_addr_i[K:0]);
    if ((64'(prog_addr_i) >> (K + 1)) != 64'd0 || (64'(prog_len_i) >> (K - 3)) != 64'd0) prog_hi = HK'(1) << (K + 1);
    else prog_hi = HK'(prog_addr_i[K:0]) + (HK'(prog_len_i[K-4:0]) << 4);
  end
  logic [HK-1:0] ha;
  logic          prog_ov;            // the host range overlaps the program (STORE, STORE_ACC)
  assign ha      = HK'(host_addr_o[K-1:0]);
  assign prog_ov = (ha < prog_hi) && (prog_lo < end_host);
  assign host_lo_o = FW'(ha);
  assign host_hi_o = FW'(end_host);

  // Reserved bits: the word splits into runs of bits reserved by the same opcodes; each run is
  // OR-reduced once and shared by every opcode that reserves it (rsig: bit j-1 for opcode j).
  function automatic logic [9:0] rsig(input logic [6:0] b);   // bit b of each opcode's mask
    rsig = {PB_STORE_ACC_RSVD[b], PB_HALT_RSVD[b], PB_SYNC_RSVD[b], PB_CONFIG_RSVD[b], PB_STORE_RSVD[b],
            PB_ACTIVATE_RSVD[b], PB_MATMUL_RSVD[b], PB_WEIGHTS_RSVD[b], PB_LOAD_ACC_RSVD[b], PB_LOAD_RSVD[b]};
  endfunction
  logic       run_or;
  logic [9:0] rsvd_any;   // opcode j has a reserved bit set: bit j-1
  logic       reserved_set;
  always_comb begin
    run_or   = 1'b0;
    rsvd_any = '0;
    for (int b = 0; b < PB_INSTR_BITS; b++) begin
      if (b > 0 && rsig(7'(b)) != rsig(7'(b - 1))) run_or = 1'b0;
      run_or = run_or | instr_i[b];
      if (b == PB_INSTR_BITS - 1 || rsig(7'(b)) != rsig(7'(b + 1))) rsvd_any = rsvd_any | ({10{run_or}} & rsig(7'(b)));
    end
    reserved_set = (op >= PB_OP_LOAD && op <= PB_OP_STORE_ACC) ? rsvd_any[4'(op - 8'd1)] : 1'b0;
  end

  // the checks' comparisons against constants (lt: no carry chains)
  logic cols_big, spc_big, sp_over, host_over, pool_bad, lo_gt_hi;
  logic [16:0] spc;
  assign spc       = 17'(sp_col_o) + cols;
  assign cols_big  = lt(64'(NN), 64'(cols));
  assign spc_big   = lt(64'(NN), 64'(spc));
  assign sp_over   = lt(64'(SPR), 64'(sp_end));
  assign host_over = lt(64'(HOST), 64'(end_host));
  assign pool_bad  = (pool_o == 5'd0) || lt(64'd16, 64'(pool_o));
  assign lo_gt_hi  = $signed(lo_o) > $signed(hi_o);

  // Checks in the order of docs/isa.md: opcode, reserved bits, fields, scratchpad, accumulator, host.
  always_comb begin
    err_o    = PB_ERR_NONE;
    unit_o   = PB_UNIT_CTL;
    rd_mem_o = M_NONE;
    rd_lo_o  = '0;
    rd_hi_o  = '0;
    wr_mem_o = M_NONE;
    wr_lo_o  = '0;
    wr_hi_o  = '0;
    case (op)
      PB_OP_LOAD, PB_OP_STORE: begin
        unit_o = (op == PB_OP_LOAD) ? PB_UNIT_LD : PB_UNIT_ST;
        if (rows == 17'd0 || cols == 17'd0 || cols_big || spc_big) err_o = PB_ERR_FIELD_RANGE;
        else if (sp_over) err_o = PB_ERR_SP_RANGE;
        else if (host_big || host_over) err_o = PB_ERR_HOST_RANGE;
        else if (op == PB_OP_STORE && prog_ov) err_o = PB_ERR_HOST_RANGE;
        if (op == PB_OP_LOAD) begin
          rd_mem_o = M_HOST; rd_lo_o = FW'(ha);  rd_hi_o = FW'(end_host);
          wr_mem_o = M_SP;   wr_lo_o = FW'(spa); wr_hi_o = FW'(sp_end);
        end else begin
          rd_mem_o = M_SP;   rd_lo_o = FW'(spa); rd_hi_o = FW'(sp_end);
          wr_mem_o = M_HOST; wr_lo_o = FW'(ha);  wr_hi_o = FW'(end_host);
        end
      end
      PB_OP_LOAD_ACC: begin
        unit_o = PB_UNIT_LD;
        if (rows == 17'd0) err_o = PB_ERR_FIELD_RANGE;
        else if (acc_over) err_o = PB_ERR_ACC_RANGE;
        else if (host_big || host_over) err_o = PB_ERR_HOST_RANGE;
        rd_mem_o = M_HOST; rd_lo_o = FW'(ha);   rd_hi_o = FW'(end_host);
        wr_mem_o = M_ACC;  wr_lo_o = FW'(acca); wr_hi_o = FW'(acc_end);
      end
      PB_OP_STORE_ACC: begin
        unit_o = PB_UNIT_ST;
        if (rows == 17'd0 || cols == 17'd0 || cols_big) err_o = PB_ERR_FIELD_RANGE;
        else if (acc_over) err_o = PB_ERR_ACC_RANGE;
        else if (host_big || host_over) err_o = PB_ERR_HOST_RANGE;
        else if (prog_ov) err_o = PB_ERR_HOST_RANGE;
        rd_mem_o = M_ACC;  rd_lo_o = FW'(acca); rd_hi_o = FW'(acc_end);
        wr_mem_o = M_HOST; wr_lo_o = FW'(ha);   wr_hi_o = FW'(end_host);
      end
      PB_OP_WEIGHTS: begin
        unit_o = PB_UNIT_EX;
        if (sp_over) err_o = PB_ERR_SP_RANGE;
        rd_mem_o = M_SP; rd_lo_o = FW'(spa); rd_hi_o = FW'(sp_end);
      end
      PB_OP_MATMUL: begin
        unit_o = PB_UNIT_EX;
        if (rows == 17'd0) err_o = PB_ERR_FIELD_RANGE;
        else if (sp_over) err_o = PB_ERR_SP_RANGE;
        else if (acc_over) err_o = PB_ERR_ACC_RANGE;
        rd_mem_o = M_SP;  rd_lo_o = FW'(spa);  rd_hi_o = FW'(sp_end);
        wr_mem_o = M_ACC; wr_lo_o = FW'(acca); wr_hi_o = FW'(acc_end);
      end
      PB_OP_ACTIVATE: begin
        unit_o = PB_UNIT_LD;
        if (rows == 17'd0 || pool_bad) err_o = PB_ERR_FIELD_RANGE;
        else if (sp_over) err_o = PB_ERR_SP_RANGE;
        else if (acc_over) err_o = PB_ERR_ACC_RANGE;
        rd_mem_o = M_ACC; rd_lo_o = FW'(acca); rd_hi_o = FW'(acc_end);
        wr_mem_o = M_SP;  wr_lo_o = FW'(spa);  wr_hi_o = FW'(sp_end);
      end
      PB_OP_CONFIG: begin
        unit_o = PB_UNIT_LD;
        if (lo_gt_hi) err_o = PB_ERR_FIELD_RANGE;
        else if ((K < 32 && (64'(host_addr_o) >> K) != 64'd0) || host_over) err_o = PB_ERR_HOST_RANGE;
        rd_mem_o = M_HOST; rd_lo_o = FW'(ha); rd_hi_o = FW'(end_host);
      end
      PB_OP_SYNC, PB_OP_HALT: unit_o = PB_UNIT_CTL;
      default: err_o = PB_ERR_ILLEGAL_OPCODE;
    endcase
    // reserved bits are checked right after the opcode: they take precedence over field checks
    if (err_o != PB_ERR_ILLEGAL_OPCODE && reserved_set) err_o = PB_ERR_RESERVED_BITS;
  end
endmodule

`default_nettype wire
