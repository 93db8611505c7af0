// SPDX-License-Identifier: Apache-2.0
// Instruction fields: fixed bit slices of a word (instructions that share a field share its
// position, see isa.h), meaningful only for instructions that have the field. Used by pb_decode
// and, for the head whose checks are pre-decoded, by pb_core.
`default_nettype none

module pb_fields (
  /* verilator lint_off UNUSEDSIGNAL */  // the reserved bits and the fields' unused parts
  input  logic [127:0] instr_i,
  /* verilator lint_on UNUSEDSIGNAL */
  output logic [7:0]   op_o,
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
  output logic [7:0]   hi_o
);
`include "pb_isa.vh"

  assign op_o          = instr_i[7:0];
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
  assign acc_addr_o = (op_o == PB_OP_LOAD_ACC || op_o == PB_OP_STORE_ACC) ? instr_i[PB_LOAD_ACC_ACC_ADDR_LSB +: 16]
                                                                          : instr_i[PB_MATMUL_ACC_ADDR_LSB +: 16];
endmodule

`default_nettype wire
