#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Protocol tests of the board's UART bridge through the driver's link layer, against the simulated
# board (tests/fpga/test_uart_link.c: registers, memory, every NAK reason, resynchronization,
# duplicates, BUSY, RESET), and the simulator's own behaviour (clean exit on SIGTERM, its
# pseudo-terminal link file removed, --exit-on-hangup). Ends with "# fpga/test_uart_link: P passed, F failed".
cd "$(dirname "$0")/../.."
. tests/lib/check.sh
. tests/fpga/uart_sim.sh
trap 'sim_stop; rm -rf "$CHECK_TMP"' EXIT
LOG=build/fpga/logs

if sim_start link; then
  out=$(build/fpga/test_uart_link "$PORT" 2>&1); rc=$?
  echo "$out" > $LOG/test_uart_link.log
  echo "$out" | grep -E '^(FAIL|long program|link:|#)'
  line=$(grep -E '^# test_uart_link: [0-9]+ passed, [0-9]+ failed$' <<< "$out")
  if [ -n "$line" ]; then
    CHECK_PASS=$((CHECK_PASS + $(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<< "$line")))
    CHECK_FAIL=$((CHECK_FAIL + $(sed -E 's/.*, ([0-9]+) failed/\1/' <<< "$line")))
  fi
  [ "$rc" = 0 ] && [ -n "$line" ] || fail "test_uart_link exited with $rc"
  link=$CHECK_TMP/link.pty
  check "the simulator exits cleanly on SIGTERM" sim_stop
  check "... and removes its link file" test ! -e "$link"
  sim_stats
else
  fail "simulator start"
fi

# Byte-exact replies: 64 raw requests (every command; every NAK reason; lengths, ranges and odd
# addresses at their limits; stuffed bytes; duplicates of ACKed, NAKed and read requests; a
# damaged retransmission; SOF inside a frame; noise; timeouts before SEQ, after CMD, inside the
# payload and after an ESC; the board counters) must get exactly the reply bytes that the first
# bridge (commit 649689d, before the area work) sent, recorded below.
cat > "$CHECK_TMP/replies.py" << 'PYEOF'
import os, sys, time, termios, tty, select, struct
port = sys.argv[1]
fd = os.open(port, os.O_RDWR | os.O_NOCTTY)
tty.setraw(fd)
def crc16(b):
    c = 0xffff
    for x in b:
        c ^= x << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x1021) if c & 0x8000 else c << 1
            c &= 0xffff
    return c
def stuff(b):
    o = bytearray()
    for x in b:
        if x in (0x7e, 0x7d): o += bytes([0x7d, x ^ 0x20])
        else: o.append(x)
    return bytes(o)
def frame(seq, cmd, payload, badcrc=False, length=None):
    L = len(payload) if length is None else length
    body = bytes([seq, cmd]) + struct.pack('<H', L) + payload
    c = crc16(body) ^ (1 if badcrc else 0)
    return b'\x7e' + stuff(body + struct.pack('>H', c))
def reply(timeout=5.0):
    # one whole reply frame: SOF, then the unstuffed body until SEQ CMD LEN PAYLOAD CRC are complete
    raw_b = bytearray(); body = bytearray(); esc = False; started = False
    t_end = time.time() + timeout
    while True:
        if started and len(body) >= 4 and len(body) >= 4 + body[2] + 256 * body[3] + 2: return bytes(raw_b)
        r, _, _ = select.select([fd], [], [], max(0.0, t_end - time.time()))
        if not r: return bytes(raw_b)
        for x in os.read(fd, 1):
            raw_b.append(x)
            if x == 0x7e: started = True; body = bytearray(); esc = False
            elif not started: pass
            elif esc: body.append(x ^ 0x20); esc = False
            elif x == 0x7d: esc = True
            else: body.append(x)
def unstuff(b):
    o = bytearray(); esc = False
    for x in b:
        if esc: o.append(x ^ 0x20); esc = False
        elif x == 0x7d: esc = True
        else: o.append(x)
    return bytes(o)
seq = 0x10
def req(name, cmd, payload=b'', **kw):
    global seq
    seq = (seq + 1) & 0xff
    f = frame(seq, cmd, payload, **kw)
    os.write(fd, f)
    r = reply()
    print(name, r.hex())
    return r
def raw(name, data, wait=3.0):
    os.write(fd, data)
    r = reply(wait)
    print(name, r.hex())
A = lambda a, b=None, v=None: struct.pack('<I', a) + (struct.pack('<I', b) if b is not None else b'') + (bytes([v]) if v is not None else b'')
H = 131072
req('clear', 3, A(0, H, 0))
req('cnt0', 5, A(0x114, 4))
req('board', 5, A(0x100, 9))
req('hi', 5, A(0x124, 3))
req('r1fc', 5, A(0x1fc, 1))
req('r1fc2', 5, A(0x1fc, 2))
req('r1f0_4', 5, A(0x1f0, 4))
req('r1f0_5', 5, A(0x1f0, 5))
req('runal', 5, A(0x2, 1))
req('r0', 5, A(0x0, 0))
req('r65', 5, A(0x0, 65))
req('r200', 5, A(0x200, 1))
req('rlen', 5, A(0x0, 1) + b'\x00')
req('statuslen', 7, b'\x00')
req('wm_odd', 1, A(0x1001) + bytes(range(1)))
req('wm_stuff', 1, A(0x2000) + bytes([0x7e, 0x7d, 0x20, 0x5e, 0x5d] * 10))
req('wm256', 1, A(0x3003) + bytes((i * 7 + 3) & 0xff for i in range(256)))
req('wm257', 1, A(0x3003) + bytes(257))
req('wm_len4', 1, A(0x3003))
req('wm_end_ok', 1, A(H - 1) + b'\xaa')
req('wm_end_bad', 1, A(H - 1) + b'\xaa\xbb')
req('wm_hi', 1, A(0x80000000) + b'\xaa')
req('rm_odd', 2, A(0x1000, 3))
req('rm_stuff', 2, A(0x2000, 50))
req('rm256', 2, A(0x3003, 256))
req('rm257', 2, A(0x3003, 257))
req('rm0', 2, A(0x3003, 0))
req('rm_end', 2, A(H - 2, 2))
req('rm_end_bad', 2, A(H - 2, 3))
req('rm_hiB', 2, A(0, 0xffffffff))
req('fill0', 3, A(0x3010, 0, 0x55))
req('fill', 3, A(0x3011, 17, 0x7e))
req('rm_fill', 2, A(0x3000, 40))
req('fill_len', 3, A(0x3011, 17))
req('fill_big', 3, A(0, H + 1, 1))
req('fill_end', 3, A(1, H, 1))
req('wreg_bad', 4, A(0x100, 5))
req('wreg_unal', 4, A(0x0a, 5))
req('wreg', 4, A(0x08, 0x1230))
req('rreg', 5, A(0x08, 2))
req('cmd0', 0)
req('cmd9', 9, A(1, 2))
req('cmdff', 0xff)
req('badcrc', 7, badcrc=True)
req('badcrc_wm', 1, A(0x10) + b'\x01\x02', badcrc=True)
# duplicates: same SEQ and CRC
seq = (seq + 1) & 0xff; f = frame(seq, 3, A(0x3020, 4, 9))
os.write(fd, f); print('dup_a', reply().hex()); os.write(fd, f); print('dup_b', reply().hex())
seq = (seq + 1) & 0xff; f = frame(seq, 4, A(0x100, 1))
os.write(fd, f); print('dupnak_a', reply().hex()); os.write(fd, f); print('dupnak_b', reply().hex())
seq = (seq + 1) & 0xff; f = frame(seq, 5, A(0x114, 4))
os.write(fd, f); print('dupread_a', reply().hex()); os.write(fd, f); print('dupread_b', reply().hex())
# damaged duplicate keeps the cache; then same seq with other CRC is new
seq = (seq + 1) & 0xff; f = frame(seq, 3, A(0x3030, 2, 1))
os.write(fd, f); print('c_a', reply().hex())
os.write(fd, frame(seq, 3, A(0x3030, 2, 1), badcrc=True)); print('c_bad', reply().hex())
os.write(fd, f); print('c_dup', reply().hex())
os.write(fd, frame(seq, 3, A(0x3030, 2, 2))); print('c_new', reply().hex())
# resynchronization: a cut frame then a full one
raw('cut_sof', b'\x7e\x33\x05\x08' + frame(0x34, 5, A(0x104, 1)))
raw('noise', b'\x01\x02\x03' + frame(0x35, 5, A(0x104, 1)))
# timeouts: before SEQ, after CMD, inside the payload
raw('to_sof', b'\x7e', 3.0)
raw('to_seq', b'\x7e\x40', 3.0)
raw('to_cmd', b'\x7e\x41\x02', 3.0)
raw('to_pay', b'\x7e\x42\x01\x10\x00\x00\x10', 3.0)
raw('to_esc', b'\x7e\x43\x01\x10\x00\x7d', 3.0)
raw('len_big', b'\x7e\x44\x01\xff\xff\x00\x01', 3.0)
req('reset', 8)
req('reset_len', 8, b'\x00')
req('cnt1', 5, A(0x114, 4))
# c_new (same SEQ as c_a, another CRC) was executed: 0x3030 holds its value 2, not c_a's 1
req('c_new_rb', 2, A(0x3030, 2))
PYEOF
cat > "$CHECK_TMP/replies.expected" << 'EOF'
clear 7e118300008bd9
cnt0 7e128510000200000000000000000000000000000040d2
board 7e138524005042524401000000040000000001000060ea000003000000000000000000000000000000312b
hi 7e14850c00000000000000000000000000be40
r1fc 7e158504000000000090cb
r1fc2 7e16ff0200050581e2
r1f0_4 7e1785100000000000000000000000000000000000e3c4
r1f0_5 7e18ff020005050141
runal 7e19ff0200050544e1
r0 7e1aff020005058a01
r65 7e1bff02000505cfa1
r200 7e1cff0200050507e0
rlen 7e1dff02000305e8e6
statuslen 7e1eff020003070644
wm_odd 7e1f81000047e3
wm_stuff 7e20810000bfe4
wm256 7e21810000c950
wm257 7e22ff0200030142ed
wm_len4 7e23ff02000301074d
wm_end_ok 7e248100007515
wm_end_bad 7e25ff02000501200a
wm_hi 7e26ff02000501eeea
rm_odd 7e2782030000000037ce
rm_stuff 7e288232007d5e7d5d205e5d7d5e7d5d205e5d7d5e7d5d205e5d7d5e7d5d205e5d7d5e7d5d205e5d7d5e7d5d205e5d7d5e7d5d205e5d7d5e7d5d205e5d7d5e7d5d205e5d7d5e7d5d205e5db19d
rm256 7e29820001030a11181f262d343b424950575e656c737a81888f969da4abb2b9c0c7ced5dce3eaf1f8ff060d141b222930373e454c535a61686f767d5d848b9299a0a7aeb5bcc3cad1d8dfe6edf4fb020910171e252c333a41484f565d646b727980878e959ca3aab1b8bfc6cdd4dbe2e9f0f7fe050c131a21282f363d444b525960676e757c838a91989fa6adb4bbc2c9d0d7dee5ecf3fa01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3dae1e8eff6fd040b121920272e353c434a51585f666d747b828990979ea5acb3bac1c8cfd6dde4ebf2f900070e151c232a31383f464d545b626970777d5e858c939aa1a8afb6bdc4cbd2d9e0e7eef5fc7fa4
rm257 7e2aff02000502d56a
rm0 7e2bff0200050290ca
rm_end 7e2c82020000aaaf60
rm_end_bad 7e2dff020005021d2b
rm_hiB 7e2eff02000502d3cb
fill0 7e2f830000056a
fill 7e30830000ca23
rm_fill 7e31822800000000030a11181f262d343b424950575e7d5e7d5e7d5e7d5e7d5e7d5e7d5e7d5e7d5e7d5e7d5e7d5e7d5e7d5e7d5e7d5e7d5edce3eaf1f8ff7cc0
fill_len 7e32ff02000303782b
fill_big 7e33ff02000503972d
fill_end 7e34ff020005035f6c
wreg_bad 7e35ff020005046a2b
wreg_unal 7e36ff02000504a4cb
wreg 7e378400001e9e
rreg 7e3885080030120000000000009d0a
cmd0 7e39ff02000400127d5d
cmd9 7e3aff020004094db4
cmdff 7e3bff020004ff87cd
badcrc 7e3cff02000107de6e
badcrc_wm 7e3dff02000101fb08
dup_a 7e3e8300006879
dup_b 7e3e8300006879
dupnak_a 7e3fff02000504ec29
dupnak_b 7e3fff02000504ec29
dupread_a 7e4085100030000000020000000000000002000000337f
dupread_b 7e40851000310000000200000000000000020000009b5b
c_a 7e41830000fee2
c_bad 7e41ff020001039535
c_dup 7e41830000fee2
c_new 7e41830000fee2
cut_sof 7e3485040001000000dac4
noise 7e35850400010000009d17
to_sof 7e00ff02000200dfb5
to_seq 7e40ff02000200b5a5
to_cmd 7e41ff02000202d047
to_pay 7e42ff020002012ec4
to_esc 7e43ff020002016b64
len_big 7e44ff02000201a325
reset 7e4288000095cf
reset_len 7e43ff02000308c97c
cnt1 7e44851000390000000900000000000000030000003491
c_new_rb 7e458202000202ea1a
EOF
if sim_start replies; then
  ${PYTHON:-.venv/bin/python} "$CHECK_TMP/replies.py" "$PORT" > "$LOG/replies.txt" 2>&1
  if diff "$CHECK_TMP/replies.expected" "$LOG/replies.txt" > "$LOG/replies.diff"; then pass
  else fail "raw requests: replies differ from the recorded ones (first: $(grep -m1 '^>' "$LOG/replies.diff"))"; fi
  check "the simulator exits cleanly after the raw requests" sim_stop
fi

# --exit-on-hangup: the simulator ends when the host closes the port after using it
if sim_start hangup --exit-on-hangup; then
  printf '\x7e\x01\x07\x00\x00\xff\xff' > "$PORT"   # one (damaged) frame, then close
  for _ in $(seq 1 100); do kill -0 "$SIM_PID" 2> /dev/null || break; sleep 0.05; done
  if kill -0 "$SIM_PID" 2> /dev/null; then fail "--exit-on-hangup: still running after the host closed"; sim_stop
  else wait "$SIM_PID"; rc=$?; SIM_PID=; check "--exit-on-hangup: exits with status 0 when the host closes" test "$rc" = 0; fi
fi
check_fails "pb_board_sim refuses an unknown option" "unknown option" build/fpga/pb_board_sim --bogus
check_fails "pb_board_sim refuses a rate above 1" "probability" build/fpga/pb_board_sim --drop-h2b 2
check_done fpga/test_uart_link
