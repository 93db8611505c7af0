# SPDX-License-Identifier: Apache-2.0
# The UART path of the FPGA board (docs/uart.md): the board top fpga/rtl/pb_board.sv Verilated for
# a board configuration behind a pseudo-terminal (build/fpga/pb_board_sim), and the link
# test program. The `uart` backend itself (driver/backend_uart.c, uart_link.c, uart_proto.c) is
# plain C in libpbcore.a. Included by the top Makefile before its rules.

FPGA_RTL      := $(wildcard fpga/rtl/*.sv)
# the simulated board's configuration: N=4, 128 KiB host memory (the UP5K's four SPRAMs), 4 clocks a
# bit: large enough for the Fashion-MNIST networks. Not the iCEBreaker build's (mk/fpga.mk ICE40_HW:
# N=1, 256 rows, 64 KiB, the largest that fits its device; its netlist runs behind a pseudo-terminal
# in tests/fpga/test_board_netsim.sh); the bridge and the backend are the same
BOARD_N       := 4
BOARD_SP      := 1024
BOARD_ACC     := 256
BOARD_HOST    := 131072
BOARD_CPB     := 4
BOARD_TIMEOUT := 60000
BOARD_DIR     := $(BUILD)/fpga/sim
BOARD_VL_FLAGS := --cc --build -j 2 --top-module pb_board --prefix Vpb_board --x-assign unique --x-initial unique \
                  --trace-fst -Irtl -Ifpga/rtl -GN=$(BOARD_N) -GSP_ROWS=$(BOARD_SP) -GACC_ROWS=$(BOARD_ACC) \
                  "-GHOST_BYTES=64'd$(BOARD_HOST)" -GCLKS_PER_BIT=$(BOARD_CPB) -GTIMEOUT_CYCLES=$(BOARD_TIMEOUT) \
                  -MAKEFLAGS "OPT_FAST=-O2 OPT_GLOBAL=-O2 OPT_SLOW=-O1"
BOARD_DEFS    := -DBOARD_N=$(BOARD_N) -DBOARD_SP=$(BOARD_SP) -DBOARD_ACC=$(BOARD_ACC) -DBOARD_HOST=$(BOARD_HOST) \
                 -DBOARD_CPB=$(BOARD_CPB) -DBOARD_TIMEOUT=$(BOARD_TIMEOUT)
BOARD_SIM     := $(BUILD)/fpga/pb_board_sim

TEST_EXTRA += $(BOARD_SIM) $(BUILD)/fpga/test_uart_link $(BUILD)/fpga/test_uart_progs

.PHONY: board-sim
board-sim: $(BOARD_SIM) ## build the simulated board behind a pseudo-terminal (build/fpga/pb_board_sim, docs/uart.md)

$(BOARD_DIR)/Vpb_board__ALL.a: $(RTL_ALL) $(FPGA_RTL) mk/uart.mk
	@mkdir -p $(BOARD_DIR)
	$(VERILATOR) $(BOARD_VL_FLAGS) -Mdir $(BOARD_DIR) $(RTL_SV) $(FPGA_RTL) > $(BOARD_DIR)/verilator.log 2>&1 || \
	  (cat $(BOARD_DIR)/verilator.log; exit 1)

$(BOARD_DIR)/board_vl.o: fpga/sim/board_vl.cpp fpga/sim/board_vl.h $(BOARD_DIR)/Vpb_board__ALL.a
	$(CXX) $(VL_CXXFLAGS) -I$(BOARD_DIR) -Ifpga/sim $(BOARD_DEFS) -c $< -o $@

$(BOARD_SIM): fpga/sim/pb_board_sim.c fpga/sim/board_vl.h $(BOARD_DIR)/board_vl.o $(BOARD_DIR)/Vpb_board__ALL.a $(VL_RT_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ifpga/sim -c $< -o $@.o
	$(CXX) -o $@ $@.o $(BOARD_DIR)/board_vl.o $(BOARD_DIR)/Vpb_board__ALL.a $(VL_RT_OBJ) -lz -pthread -latomic

# protocol-level tests of the bridge through the link layer (tests/fpga/test_uart_link.c)
$(BUILD)/fpga/test_uart_link: tests/fpga/test_uart_link.c $(BUILD)/libpbcore.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/lib -o $@ $< $(BUILD)/libpbcore.a $(LDLIBS)

# hand-checkable and error programs against the reference model (tests/fpga/test_uart_progs.c)
# (the backend table links the Verilated cores: linked like the RTL tests)
$(BUILD)/fpga/test_uart_progs: tests/fpga/test_uart_progs.c $(BUILD)/libpbcore.a $(VSIM_OBJ) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/lib -c $< -o $@.o
	$(CXX) -o $@ $@.o $(BUILD)/libpbcore.a $(VSIM_OBJ) $(LDLIBS) $(VSIM_LIBS)
