// SPDX-License-Identifier: Apache-2.0
// iCEBreaker (iCE40 UP5K, SG48) pin-level top: the 12 MHz oscillator through SB_PLL40_PAD (or
// directly, USE_PLL = 0: the PLL makes 16 MHz and more) to the core clock, a power-on/button reset, pb_board (core + SPRAM host memory + UART bridge) on the
// FTDI serial port, two LEDs. Pins: icebreaker.pcf. Synthesized by fpga/flow.sh (docs/fpga.md).
`default_nettype none

module pb_icebreaker #(
  parameter int N              = 2,
  parameter int SP_ROWS        = 1024,
  parameter int ACC_ROWS       = 256,
  parameter longint HOST_BYTES = 64'd131072,
  parameter int CLKS_PER_BIT   = 10,        // core clock / baud rate (30 MHz / 3 Mbaud)
  parameter int TIMEOUT_CYCLES = 150000,    // bridge inter-byte timeout (5 ms at 30 MHz)
  parameter int USE_PLL        = 1,         // 0: the core runs at the oscillator's 12 MHz
  // SB_PLL40_PAD: f = 12 MHz * (DIVF + 1) / (2^DIVQ * (DIVR + 1)) (icepll; fpga/flow.sh computes them)
  parameter int DIVR           = 0,
  parameter int DIVF           = 79,
  parameter int DIVQ           = 5,
  parameter int FILTER_RANGE   = 1
) (
  input  logic CLK,       // 12 MHz oscillator
  input  logic RX,        // FTDI -> FPGA
  output logic TX,        // FPGA -> FTDI
  input  logic BTN_N,     // user button: reset while pressed
  output logic LEDR_N,    // red: the core stopped (DONE or ERROR)
  output logic LEDG_N     // green: the core runs a program
);
  logic clk, locked;
  if (USE_PLL != 0) begin : g_pll
    SB_PLL40_PAD #(
      .FEEDBACK_PATH("SIMPLE"),
      .DIVR(4'(DIVR)),
      .DIVF(7'(DIVF)),
      .DIVQ(3'(DIVQ)),
      .FILTER_RANGE(3'(FILTER_RANGE))
    ) u_pll (
      .PACKAGEPIN(CLK),
      .PLLOUTGLOBAL(clk),
      .PLLOUTCORE(),
      .LOCK(locked),
      .RESETB(1'b1),
      .BYPASS(1'b0),
      .EXTFEEDBACK(1'b0),
      .DYNAMICDELAY(8'd0),
      .LATCHINPUTVALUE(1'b0),
      .SDI(1'b0),
      .SCLK(1'b0),
      .SDO()
    );
  end else begin : g_osc
    assign clk    = CLK;     // nextpnr puts it on a global buffer
    assign locked = 1'b1;
  end

  // Reset: asserted until the PLL has been locked for 255 cycles (without it: 255 cycles), and while the button is pressed
  // (both sampled in the core clock domain; registers power up 0 on the iCE40).
  logic [1:0] btn_q;
  logic [7:0] por_q;
  logic       rst_n_q;
  always_ff @(posedge clk) begin
    btn_q <= {btn_q[0], BTN_N};
    if (!locked || !btn_q[1]) por_q <= 8'd0;
    else if (por_q != 8'hff) por_q <= por_q + 8'd1;
    rst_n_q <= (por_q == 8'hff);
  end

  logic running, irq, busy;
  pb_board #(.N(N), .SP_ROWS(SP_ROWS), .ACC_ROWS(ACC_ROWS), .HOST_BYTES(HOST_BYTES),
             .CLKS_PER_BIT(CLKS_PER_BIT), .TIMEOUT_CYCLES(TIMEOUT_CYCLES)) u_board (
    .clk_i(clk), .rst_ni(rst_n_q), .uart_rx_i(RX), .uart_tx_o(TX),
    .running_o(running), .irq_o(irq), .busy_o(busy)
  );
  assign LEDG_N = !running;
  assign LEDR_N = !irq;

  logic unused_busy;
  assign unused_busy = busy;
endmodule

`default_nettype wire
