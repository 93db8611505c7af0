// SPDX-License-Identifier: Apache-2.0
// Instruction decoder: fields, the checks of docs/isa.md in their order, unit and memory footprint.
`default_nettype none

module pb_decode #(
  parameter int N          = 16,
  parameter int SP_ROWS    = 4096,
  parameter int ACC_ROWS   = 1024,
  parameter longint HOST_BYTES = 64'd1048576
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
  output logic [47:0]  rd_lo_o,
  output logic [47:0]  rd_hi_o,
  output logic [1:0]   wr_mem_o,
  output logic [47:0]  wr_lo_o,
  output logic [47:0]  wr_hi_o
);
`include "pb_isa.vh"

  localparam logic [1:0] M_NONE = 2'd0, M_HOST = 2'd1, M_SP = 2'd2, M_ACC = 2'd3;
  localparam logic [47:0] NN   = 48'(N);
  localparam logic [47:0] SPR  = 48'(SP_ROWS);
  localparam logic [47:0] ACCR = 48'(ACC_ROWS);
  localparam logic [47:0] HOST = 48'(HOST_BYTES);

  logic [7:0] op;
  assign op   = instr_i[7:0];
  assign op_o = op;

  // Field extraction: instructions that share a field share its position (see isa.h).
  assign sp_col_o      = instr_i[PB_LOAD_SP_COL_LSB +: PB_LOAD_SP_COL_W];
  assign cols_o        = instr_i[PB_LOAD_COLS_LSB +: PB_LOAD_COLS_W];
  assign sp_addr_o     = instr_i[PB_LOAD_SP_ADDR_LSB +: PB_LOAD_SP_ADDR_W];
  assign rows_o        = instr_i[PB_LOAD_ROWS_LSB +: PB_LOAD_ROWS_W];
  assign host_stride_o = instr_i[PB_LOAD_HOST_STRIDE_LSB +: PB_LOAD_HOST_STRIDE_W];
  assign host_addr_o   = instr_i[PB_LOAD_HOST_ADDR_LSB +: PB_LOAD_HOST_ADDR_W];
  assign acc_flag_o    = instr_i[PB_MATMUL_ACC_LSB];
  assign pool_o        = instr_i[PB_ACTIVATE_POOL_LSB +: PB_ACTIVATE_POOL_W];
  assign pool_stride_o = instr_i[PB_ACTIVATE_POOL_STRIDE_LSB +: PB_ACTIVATE_POOL_STRIDE_W];
  assign zp_o          = instr_i[PB_CONFIG_ZP_LSB +: PB_CONFIG_ZP_W];
  assign lo_o          = instr_i[PB_CONFIG_LO_LSB +: PB_CONFIG_LO_W];
  assign hi_o          = instr_i[PB_CONFIG_HI_LSB +: PB_CONFIG_HI_W];
  // acc_addr lives at [47:32] in LOAD_ACC and STORE_ACC, at [79:64] in MATMUL and ACTIVATE
  assign acc_addr_o = (op == PB_OP_LOAD_ACC || op == PB_OP_STORE_ACC) ? instr_i[PB_LOAD_ACC_ACC_ADDR_LSB +: 16]
                                                                      : instr_i[PB_MATMUL_ACC_ADDR_LSB +: 16];

  // Shared arithmetic (48 bits: no overflow for any field values)
  logic [47:0] rows, cols, spa, acca, ha, hs, pool, ps, rows_m1;
  assign rows    = 48'(rows_o);
  assign cols    = 48'(cols_o);
  assign spa     = 48'(sp_addr_o);
  assign acca    = 48'(acc_addr_o);
  assign ha      = 48'(host_addr_o);
  assign hs      = 48'(host_stride_o);
  assign pool    = 48'(pool_o);
  assign ps      = 48'(pool_stride_o);
  assign rows_m1 = rows - 48'd1;

  logic [47:0] host_end_bytes, host_end_acc, prog_lo, prog_hi, pool_end;
  assign host_end_bytes = ha + rows_m1 * hs + cols;        // LOAD, STORE
  assign host_end_acc   = ha + rows_m1 * hs + 48'd4 * NN;  // LOAD_ACC
  logic [47:0] host_end_sacc;
  assign host_end_sacc  = ha + rows_m1 * hs + 48'd4 * cols;  // STORE_ACC
  assign prog_lo        = 48'(prog_addr_i);
  assign prog_hi        = prog_lo + 48'(prog_len_i) * 48'd16;
  assign pool_end       = acca + (pool - 48'd1) * ps + rows;

  logic reserved_set;
  always_comb begin
    case (op)
      PB_OP_LOAD:     reserved_set = |(instr_i & PB_LOAD_RSVD);
      PB_OP_LOAD_ACC: reserved_set = |(instr_i & PB_LOAD_ACC_RSVD);
      PB_OP_WEIGHTS:  reserved_set = |(instr_i & PB_WEIGHTS_RSVD);
      PB_OP_MATMUL:   reserved_set = |(instr_i & PB_MATMUL_RSVD);
      PB_OP_ACTIVATE: reserved_set = |(instr_i & PB_ACTIVATE_RSVD);
      PB_OP_STORE:    reserved_set = |(instr_i & PB_STORE_RSVD);
      PB_OP_CONFIG:   reserved_set = |(instr_i & PB_CONFIG_RSVD);
      PB_OP_SYNC:     reserved_set = |(instr_i & PB_SYNC_RSVD);
      PB_OP_HALT:     reserved_set = |(instr_i & PB_HALT_RSVD);
      PB_OP_STORE_ACC: reserved_set = |(instr_i & PB_STORE_ACC_RSVD);
      default:        reserved_set = 1'b0;
    endcase
  end

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
        if (rows == 48'd0 || cols == 48'd0 || cols > NN || 48'(sp_col_o) + cols > NN) err_o = PB_ERR_FIELD_RANGE;
        else if (spa + rows > SPR) err_o = PB_ERR_SP_RANGE;
        else if (host_end_bytes > HOST) err_o = PB_ERR_HOST_RANGE;
        else if (op == PB_OP_STORE && ha < prog_hi && prog_lo < host_end_bytes) err_o = PB_ERR_HOST_RANGE;
        if (op == PB_OP_LOAD) begin
          rd_mem_o = M_HOST; rd_lo_o = ha;  rd_hi_o = host_end_bytes;
          wr_mem_o = M_SP;   wr_lo_o = spa; wr_hi_o = spa + rows;
        end else begin
          rd_mem_o = M_SP;   rd_lo_o = spa; rd_hi_o = spa + rows;
          wr_mem_o = M_HOST; wr_lo_o = ha;  wr_hi_o = host_end_bytes;
        end
      end
      PB_OP_LOAD_ACC: begin
        unit_o = PB_UNIT_LD;
        if (rows == 48'd0) err_o = PB_ERR_FIELD_RANGE;
        else if (acca + rows > ACCR) err_o = PB_ERR_ACC_RANGE;
        else if (host_end_acc > HOST) err_o = PB_ERR_HOST_RANGE;
        rd_mem_o = M_HOST; rd_lo_o = ha;   rd_hi_o = host_end_acc;
        wr_mem_o = M_ACC;  wr_lo_o = acca; wr_hi_o = acca + rows;
      end
      PB_OP_STORE_ACC: begin
        unit_o = PB_UNIT_ST;
        if (rows == 48'd0 || cols == 48'd0 || cols > NN) err_o = PB_ERR_FIELD_RANGE;
        else if (acca + rows > ACCR) err_o = PB_ERR_ACC_RANGE;
        else if (host_end_sacc > HOST) err_o = PB_ERR_HOST_RANGE;
        else if (ha < prog_hi && prog_lo < host_end_sacc) err_o = PB_ERR_HOST_RANGE;
        rd_mem_o = M_ACC;  rd_lo_o = acca; rd_hi_o = acca + rows;
        wr_mem_o = M_HOST; wr_lo_o = ha;   wr_hi_o = host_end_sacc;
      end
      PB_OP_WEIGHTS: begin
        unit_o = PB_UNIT_EX;
        if (spa + NN > SPR) err_o = PB_ERR_SP_RANGE;
        rd_mem_o = M_SP; rd_lo_o = spa; rd_hi_o = spa + NN;
      end
      PB_OP_MATMUL: begin
        unit_o = PB_UNIT_EX;
        if (rows == 48'd0) err_o = PB_ERR_FIELD_RANGE;
        else if (spa + rows > SPR) err_o = PB_ERR_SP_RANGE;
        else if (acca + rows > ACCR) err_o = PB_ERR_ACC_RANGE;
        rd_mem_o = M_SP;  rd_lo_o = spa;  rd_hi_o = spa + rows;
        wr_mem_o = M_ACC; wr_lo_o = acca; wr_hi_o = acca + rows;
      end
      PB_OP_ACTIVATE: begin
        unit_o = PB_UNIT_LD;
        if (rows == 48'd0 || pool == 48'd0 || pool > 48'd16) err_o = PB_ERR_FIELD_RANGE;
        else if (spa + rows > SPR) err_o = PB_ERR_SP_RANGE;
        else if (pool_end > ACCR) err_o = PB_ERR_ACC_RANGE;
        rd_mem_o = M_ACC; rd_lo_o = acca; rd_hi_o = pool_end;
        wr_mem_o = M_SP;  wr_lo_o = spa;  wr_hi_o = spa + rows;
      end
      PB_OP_CONFIG: begin
        unit_o = PB_UNIT_LD;
        if ($signed(lo_o) > $signed(hi_o)) err_o = PB_ERR_FIELD_RANGE;
        else if (ha + 48'd8 * NN > HOST) err_o = PB_ERR_HOST_RANGE;
        rd_mem_o = M_HOST; rd_lo_o = ha; rd_hi_o = ha + 48'd8 * NN;
      end
      PB_OP_SYNC, PB_OP_HALT: unit_o = PB_UNIT_CTL;
      default: err_o = PB_ERR_ILLEGAL_OPCODE;
    endcase
    // reserved bits are checked right after the opcode: they take precedence over field checks
    if (err_o != PB_ERR_ILLEGAL_OPCODE && reserved_set) err_o = PB_ERR_RESERVED_BITS;
  end
endmodule

`default_nettype wire
