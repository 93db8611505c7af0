#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make install PREFIX=...` into a temporary prefix; the example (driver/examples/classify.c) built
# out of the tree against the installed copy with pkg-config, shared and fully static, run on ref
# and verilator, and its output compared with onnxruntime's (computed here, independently); the
# exported symbols are exactly the public header's functions.
cd "$(dirname "$0")/../.."
source tests/lib/check.sh
source tests/driver/driver_lib.sh
T=$CHECK_TMP
P=$T/prefix
PY=.venv/bin/python
[ -f build/data/test_x.npy ] || $PY models/make_data.py --out build/data > /dev/null

check "make install PREFIX=$P" make --no-print-directory install PREFIX=$P
for f in include/protobrain/protobrain.h lib/libprotobrain.a lib/libprotobrain.so lib/libprotobrain.so.0 \
         lib/pkgconfig/protobrain.pc; do
  check "installed $f" test -e "$P/$f"
done
check "libprotobrain.so.0 is the soname" bash -c "objdump -p $P/lib/libprotobrain.so | grep -q 'SONAME *libprotobrain.so.0'"
export PKG_CONFIG_PATH=$P/lib/pkgconfig
hv=$(sed -n 's/^#define PROTOBRAIN_VERSION "\(.*\)"/\1/p' include/protobrain/protobrain.h)
check "pkg-config --modversion = the header's version ($hv)" test "$(pkg-config --modversion protobrain)" = "$hv"
check "pkg-config --cflags points into the prefix" test "$(echo $(pkg-config --cflags protobrain))" = "-I$P/include"

# the example, out of the tree: only the installed header and libraries are visible
mkdir -p $T/ex && cp driver/examples/classify.c $T/ex/
check "the example is about 50 lines" test "$(wc -l < driver/examples/classify.c)" -le 70
check "build the example: cc classify.c \$(pkg-config --cflags --libs protobrain)" bash -c \
  "cd $T/ex && cc -std=c11 -Wall -Wextra -Werror -o classify classify.c \$(pkg-config --cflags --libs protobrain)"
check "it links the installed libprotobrain.so.0" bash -c \
  "LD_LIBRARY_PATH=$P/lib ldd $T/ex/classify | grep -q '$P/lib/libprotobrain.so.0'"
check "build it fully static: cc -static ... \$(pkg-config --cflags --static --libs protobrain)" bash -c \
  "cd $T/ex && cc -static -std=c11 -Wall -Wextra -Werror -o classify_static classify.c \$(pkg-config --cflags --static --libs protobrain)"
check "the static one needs no shared library" bash -c "file $T/ex/classify_static | grep -q 'statically linked'"
check "the installed header alone compiles as C99 (pedantic) and C++" bash -c \
  "printf '#include <protobrain/protobrain.h>\nint main(void) { pb_options_t o = PB_OPTIONS_INIT; return (int)o.size == 0; }\n' > $T/h.c && \
   cc -std=c99 -pedantic -Wall -Wextra -Werror \$(pkg-config --cflags protobrain) -c $T/h.c -o $T/h.o && \
   g++ -x c++ -Wall -Wextra -Werror \$(pkg-config --cflags protobrain) -c $T/h.c -o $T/h2.o"

# expected lines from onnxruntime's float logits (the example prints %.6g of each)
check "compile cnn_w1 N=16 batch 8" build/protobrain compile models/cnn_w1.qdq.onnx -o $T/cnn16.pbin --array 16 --batch 8
check "onnxruntime's answers for images 0..3" $PY -c "
import numpy as np, onnxruntime as ort
names = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']
x = np.load('build/data/test_x.npy')[:4]
y = ort.InferenceSession('models/cnn_w1.qdq.onnx', providers=['CPUExecutionProvider']).run(None, {'input': x})[0]
with open('$T/want.txt', 'w') as f:
    for v in y:
        c = int(v.argmax())
        f.write('class %d (%s); logits: %s\n' % (c, names[c], ' '.join('%.6g' % float(t) for t in v)))
"
for i in 0 1 2 3; do
  sed -n "$((i + 1))p" $T/want.txt > $T/want$i.txt
  check "image $i, shared library, ref: the example prints onnxruntime's class and logits" bash -c \
    "LD_LIBRARY_PATH=$P/lib $T/ex/classify $T/cnn16.pbin build/data/test_x.npy $i ref > $T/got.txt && diff $T/want$i.txt $T/got.txt"
  check "image $i, static, verilator: the same" bash -c \
    "$T/ex/classify_static $T/cnn16.pbin build/data/test_x.npy $i verilator > $T/got.txt && diff $T/want$i.txt $T/got.txt"
done
head -1 $T/want.txt | sed 's/^/    /'
check_fails "the example: a missing program" "pb_load_file: cannot open '$T/none.pbin'" \
  env LD_LIBRARY_PATH=$P/lib $T/ex/classify $T/none.pbin build/data/test_x.npy
check_fails "the example: an unknown backend" "unknown backend 'tpu' (available: ref, verilator)" \
  env LD_LIBRARY_PATH=$P/lib $T/ex/classify $T/cnn16.pbin build/data/test_x.npy 0 tpu

# the interface: exactly the header's functions, nothing internal
grep -E '^[a-z].*\bpb_[a-z_]+\(' include/protobrain/protobrain.h | grep -oE 'pb_[a-z_]+\(' | tr -d '(' | sort -u > $T/api.txt
nm -D --defined-only $P/lib/libprotobrain.so | awk '{print $3}' | grep -v '^PROTOBRAIN_' | sed 's/@.*//' | sort > $T/so.txt
nm -g --defined-only $P/lib/libprotobrain.a | awk 'NF == 3 && $2 ~ /^[TDBRW]$/ {print $3}' | sort > $T/a.txt
check "the header declares $(wc -l < $T/api.txt) functions" test "$(wc -l < $T/api.txt)" -ge 19
check "libprotobrain.so exports exactly them ($(wc -l < $T/so.txt) symbols)" diff $T/api.txt $T/so.txt
check "libprotobrain.a defines exactly them as globals ($(wc -l < $T/a.txt))" diff $T/api.txt $T/a.txt
echo "    sizes: $(stat -c '%n %s' $P/lib/libprotobrain.a $P/lib/libprotobrain.so.$hv | sed "s|$P/lib/||g" | tr '\n' ' ')"
check_done test_install
