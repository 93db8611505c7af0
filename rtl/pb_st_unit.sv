// SPDX-License-Identifier: Apache-2.0
// Store unit: STORE (scratchpad rows -> host memory, cols bytes from column sp_col, 2-D strided).
`default_nettype none

module pb_st_unit #(
  parameter int N   = 16,
  parameter int PCW = 32
) (
  input  logic            clk_i,
  input  logic            rst_ni,
  input  logic            start_i,
  input  logic [PCW-1:0]  pc_i,
  input  logic [7:0]      sp_col_i,
  input  logic [7:0]      cols_i,
  input  logic [15:0]     sp_addr_i,
  input  logic [15:0]     rows_i,
  input  logic [23:0]     host_stride_i,
  input  logic [31:0]     host_addr_i,
  output logic            busy_o,
  // scratchpad read port (data one cycle after the address, held until the next read)
  output logic            sp_re_o,
  output logic [15:0]     sp_raddr_o,
  input  logic [N*8-1:0]  sp_rdata_i,
  // host write port: bytes 0..len-1 of data go to addr.. when valid & ready
  output logic            wr_req_valid_o,
  output logic [31:0]     wr_req_addr_o,
  output logic [7:0]      wr_req_len_o,
  output logic [N*8-1:0]  wr_req_data_o,
  input  logic            wr_req_ready_i,
  output logic            retire_o,
  output logic [PCW-1:0]  pc_o,
  output logic [31:0]     dma_bytes_o
);
  logic           busy_q, wv_q;
  logic [PCW-1:0] pc_q;
  logic [7:0]     sp_col_q, cols_q;
  logic [15:0]    sp_addr_q, rows_q, rd_cnt_q, wr_cnt_q;
  logic [23:0]    stride_q;
  logic [31:0]    waddr_q;

  logic wr_fire, rd_en, last_wr;
  assign wr_req_valid_o = busy_q && wv_q;
  assign wr_fire        = wr_req_valid_o && wr_req_ready_i;
  assign rd_en          = busy_q && (rd_cnt_q < rows_q) && (!wv_q || wr_fire);
  assign last_wr        = wr_fire && (wr_cnt_q + 16'd1 == rows_q);
  assign sp_re_o        = rd_en;
  assign sp_raddr_o     = sp_addr_q + rd_cnt_q;
  assign wr_req_addr_o  = waddr_q;
  assign wr_req_len_o   = cols_q;
  assign wr_req_data_o  = sp_rdata_i >> (sp_col_q * 8);
  assign busy_o         = busy_q;
  assign retire_o       = last_wr;
  assign pc_o           = pc_q;
  assign dma_bytes_o    = last_wr ? 32'(rows_q) * 32'(cols_q) : 32'd0;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      busy_q <= 1'b0;
      wv_q   <= 1'b0;
    end else begin
      if (start_i) busy_q <= 1'b1;
      else if (last_wr) busy_q <= 1'b0;
      // a row waits for the host port from the cycle after its read until accepted
      wv_q <= rd_en || (wv_q && !wr_fire);
    end
  end

  always_ff @(posedge clk_i) begin
    if (start_i) begin
      pc_q      <= pc_i;
      sp_col_q  <= sp_col_i;
      cols_q    <= cols_i;
      sp_addr_q <= sp_addr_i;
      rows_q    <= rows_i;
      stride_q  <= host_stride_i;
      waddr_q   <= host_addr_i;
      rd_cnt_q  <= 16'd0;
      wr_cnt_q  <= 16'd0;
    end else begin
      if (rd_en) rd_cnt_q <= rd_cnt_q + 16'd1;
      if (wr_fire) begin
        wr_cnt_q <= wr_cnt_q + 16'd1;
        waddr_q  <= waddr_q + 32'(stride_q);
      end
    end
  end
endmodule

`default_nettype wire
