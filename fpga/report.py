#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write build/fpga/<board>/report.txt from the tools' own output (fpga/flow.sh calls it).

    report.py BOARD OUT FREQ_MHZ FAILURE [BITSTREAM SECONDS]

Utilization and Fmax come from nextpnr's JSON report (--report), or from its log when place and
route stopped early (the packer prints the utilization before placing); flip-flop and LUT counts
from Yosys's `stat`. Prints the report and exits 1 unless everything passed: FAILURE empty, every
resource within the device, Fmax at or above the target.
"""
import json
import os
import re
import sys

BOARDS = {
    "ice40": ("iCEBreaker", "iCE40UP5K-SG48",
              [("logic cells (LUT4 + FF)", "ICESTORM_LC"), ("block RAM (4 Kbit)", "ICESTORM_RAM"),
               ("DSP (SB_MAC16)", "ICESTORM_DSP"), ("SPRAM (256 Kbit)", "ICESTORM_SPRAM"),
               ("PLL", "ICESTORM_PLL"), ("I/O", "SB_IO")]),
    "ecp5": ("ULX3S", "LFE5U-85F-6BG381C",
             [("LUT4 / carry cells", "TRELLIS_COMB"), ("flip-flops", "TRELLIS_FF"), ("block RAM (18 Kbit DP16KD)", "DP16KD"),
              ("DSP (MULT18X18D)", "MULT18X18D"), ("PLL", "EHXPLLL"), ("I/O", "TRELLIS_IO")]),
}


def main():
    board, out, freq, failure = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
    bitstream = sys.argv[5] if len(sys.argv) > 5 else ""
    seconds = sys.argv[6] if len(sys.argv) > 6 else ""
    name, device, resources = BOARDS[board]
    env = {k: os.environ.get(k, "?") for k in ("N", "SP_ROWS", "ACC_ROWS", "HOST_BYTES", "RQ_LANES", "CNT_W",
                                               "RQ_MULS", "BUF_RAM", "SEED")}

    util, fmax = {}, {}
    rep = os.path.join(out, "nextpnr.json")
    if os.path.exists(rep):
        with open(rep) as f:
            j = json.load(f)
        for k, v in j.get("utilization", {}).items():
            util[k] = (int(v["used"]), int(v["available"]))
        for k, v in j.get("fmax", {}).items():
            fmax[k] = (float(v["achieved"]), float(v["constraint"]))
    log = os.path.join(out, "nextpnr.log")
    if not util and os.path.exists(log):
        for line in open(log, errors="replace"):
            m = re.match(r"Info:\s+(\w+):\s+(\d+)/\s*(\d+)\s+\d+%", line)
            if m:
                util[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    ffs = luts = None
    stat = os.path.join(out, "yosys_stat.txt")
    if os.path.exists(stat):
        text = open(stat).read()
        top = text[text.rfind("=== design hierarchy ==="):] if "=== design hierarchy ===" in text else text
        ffs = sum(int(n) for c, n in re.findall(r"^\s+((?:SB_DFF|TRELLIS_FF)\w*)\s+(\d+)", top, re.M))
        luts = sum(int(n) for c, n in re.findall(r"^\s+(SB_LUT4|LUT4)\s+(\d+)", top, re.M))

    lines = [f"Protobrain FPGA report: {board} ({name}, {device})",
             f"configuration: N={env['N']} SP_ROWS={env['SP_ROWS']} ACC_ROWS={env['ACC_ROWS']} "
             f"HOST_BYTES={env['HOST_BYTES']} RQ_LANES={env['RQ_LANES']} CNT_W={env['CNT_W']} "
             f"RQ_MULS={env['RQ_MULS']} BUF_RAM={env['BUF_RAM']}",
             f"target clock: {freq:g} MHz, nextpnr seed {env['SEED']}",
             "utilization (nextpnr):"]
    over = []
    for label, key in resources:
        if key in util:
            used, avail = util[key]
            pct = 100.0 * used / avail if avail else 0.0
            lines.append(f"  {label:28s} {key:15s} {used:6d} / {avail:6d}  ({pct:5.1f}%)")
            if used > avail:
                over.append(f"{key} {used} > {avail}")
    if ffs is not None:
        lines.append(f"synthesis (yosys stat): {luts} LUT4, {ffs} flip-flops")
    ok = not failure and not over
    if fmax:
        for clk, (ach, con) in sorted(fmax.items()):
            target = con if con > 0 else freq  # each clock against its own constraint
            verdict = "PASS" if ach >= target else "FAIL"
            lines.append(f"Fmax: {clk}: {ach:.2f} MHz (target {target:g} MHz): {verdict}")
            if ach < target:
                ok = False
                over.append(f"Fmax of {clk} {ach:.2f} MHz < {target:g} MHz")
    else:
        lines.append("Fmax: not reported (place and route did not finish)")
        ok = False
    try:
        n = int(env["N"])
        lines.append(f"peak: 2 N^2 f = {2 * n * n * freq / 1000:.3f} GOPS at {freq:g} MHz (int8 MACs x 2)")
    except ValueError:
        pass
    if bitstream:
        lines.append(f"bitstream: {bitstream}" + (f" (flow {seconds} s)" if seconds else ""))
    reasons = ([failure] if failure else []) + (["does not fit: " + ", ".join(o for o in over if "Fmax" not in o)]
                                                 if any("Fmax" not in o for o in over) else []) + \
              [o for o in over if "Fmax" in o]
    lines.append("result: PASS" if ok else "result: FAIL: " + "; ".join(reasons))
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "report.txt"), "w") as f:
        f.write(text)
    sys.stdout.write(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
