// SPDX-License-Identifier: Apache-2.0
// ULX3S (ECP5 LFE5U-85F, CABGA381) pin-level top: the 25 MHz oscillator through EHXPLLL to the
// core clock, a power-on/button reset, pb_board (core + block-RAM host memory + UART bridge) on
// the FT231X serial port, LEDs. Pins: ulx3s.lpf. Synthesized by fpga/flow.sh (docs/fpga.md).
`default_nettype none

module pb_ulx3s #(
  parameter int N              = 8,
  parameter int SP_ROWS        = 2048,
  parameter int ACC_ROWS       = 512,
  parameter longint HOST_BYTES = 64'd262144,
  parameter int CLKS_PER_BIT   = 25,        // core clock / baud rate (25 MHz / 1 Mbaud)
  parameter int TIMEOUT_CYCLES = 125000,    // bridge inter-byte timeout (5 ms at 25 MHz)
  // EHXPLLL: f = 25 MHz * CLKFB_DIV / CLKI_DIV, VCO = f * CLKOP_DIV (yowasp-ecppll; fpga/flow.sh
  // computes them)
  parameter int CLKI_DIV       = 1,
  parameter int CLKFB_DIV      = 1,
  parameter int CLKOP_DIV      = 24,
  parameter int CLKOP_CPHASE   = 11
) (
  input  logic       clk_25mhz,
  input  logic       ftdi_txd,     // FT231X TXD: host -> FPGA
  output logic       ftdi_rxd,     // FT231X RXD: FPGA -> host
  input  logic [1:0] btn,          // btn[0]: PWR (active low), btn[1]: FIRE1 (active high): reset
  output logic [7:0] led,          // 0: running, 1: DONE or ERROR, 2: busy, 7: PLL locked
  output logic       wifi_gpio0    // held high: keeps the ESP32 from resetting the FPGA
);
  logic clk, locked;
  (* FREQUENCY_PIN_CLKI = "25" *)
  EHXPLLL #(
    .PLLRST_ENA("DISABLED"),
    .INTFB_WAKE("DISABLED"),
    .STDBY_ENABLE("DISABLED"),
    .DPHASE_SOURCE("DISABLED"),
    .OUTDIVIDER_MUXA("DIVA"),
    .OUTDIVIDER_MUXB("DIVB"),
    .OUTDIVIDER_MUXC("DIVC"),
    .OUTDIVIDER_MUXD("DIVD"),
    .CLKI_DIV(CLKI_DIV),
    .CLKOP_ENABLE("ENABLED"),
    .CLKOP_DIV(CLKOP_DIV),
    .CLKOP_CPHASE(CLKOP_CPHASE),
    .CLKOP_FPHASE(0),
    .FEEDBK_PATH("CLKOP"),
    .CLKFB_DIV(CLKFB_DIV)
  ) u_pll (
    .RST(1'b0), .STDBY(1'b0), .CLKI(clk_25mhz), .CLKOP(clk), .CLKFB(clk), .CLKINTFB(),
    .PHASESEL0(1'b0), .PHASESEL1(1'b0), .PHASEDIR(1'b1), .PHASESTEP(1'b1), .PHASELOADREG(1'b1),
    .PLLWAKESYNC(1'b0), .ENCLKOP(1'b0), .LOCK(locked)
  );

  // Reset: asserted until the PLL has been locked for 255 cycles, and while FIRE1 is pressed.
  logic [1:0] btn_q;
  logic [7:0] por_q;
  logic       rst_n_q;
  always_ff @(posedge clk) begin
    btn_q <= {btn_q[0], btn[1]};
    if (!locked || btn_q[1]) por_q <= 8'd0;
    else if (por_q != 8'hff) por_q <= por_q + 8'd1;
    rst_n_q <= (por_q == 8'hff);
  end

  logic running, irq, busy;
  pb_board #(.N(N), .SP_ROWS(SP_ROWS), .ACC_ROWS(ACC_ROWS), .HOST_BYTES(HOST_BYTES),
             .CLKS_PER_BIT(CLKS_PER_BIT), .TIMEOUT_CYCLES(TIMEOUT_CYCLES)) u_board (
    .clk_i(clk), .rst_ni(rst_n_q), .uart_rx_i(ftdi_txd), .uart_tx_o(ftdi_rxd),
    .running_o(running), .irq_o(irq), .busy_o(busy)
  );
  assign led        = {locked, 4'd0, busy, irq, running};
  assign wifi_gpio0 = 1'b1;

  logic unused_btn;
  assign unused_btn = btn[0];
endmodule

`default_nettype wire
