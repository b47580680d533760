#!/usr/bin/env bash
# The main job on the default board (QEMU mps2-an386, a Cortex-M4F): build
# the firmware, then benchmark the built-in demo SRU and its int8 versions
# (int8-w, int8-wa) on the board through the
# serial harness (instructions per step against the block size T; under
# emulation these are instruction counts, not time), then the host
# benchmarks (docs/performance.md): SRU and QRNN layers of hidden 256 to 2048
# against NumPy/OpenBLAS, CMSIS-DSP per step, PyPI sru and the measured
# roofline (a few minutes), and cachegrind's last-level misses per step in an
# embedded-sized cache model (about two minutes). Between them, the memory
# traffic per step measured on the ARM binaries by the project's QEMU plugin
# (ci/qemu-plugin.sh) with cycles and energy MODELLED for an STM32F446 (the
# default board's firmware) and a Cortex-A72 (mtsrnn-device under qemu-aarch64,
# an SRU of hidden 1024). Results: build/bench/. Last, one real-data example
# (ci/examples.sh: BasicMotions) trained and evaluated on the default board,
# float32 and int8, with its instructions per step against T.
# Extra arguments go to each of the three `mtsrnn bench device` runs (see its
# --help), e.g.
#   bash ci/main.sh --board qemu-mps3-an547 --block 1,4,16
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# The host benchmark compares against PyPI sru: setup installs torch and sru.
export MTSRNN_WITH_TORCH=1
export TORCH_EXTENSIONS_DIR="$root/build/torch_extensions"
# shellcheck disable=SC1091
. ci/setup.sh
bash ci/firmware.sh >/dev/null
echo "== device: the demo SRU on the default board, float32 and int8 weights"
for name in demo_sru demo_sru_i8w demo_sru_i8wa; do
  MTSRNN_FIRMWARE_DIR="$root/build" mtsrnn bench device --board qemu-mps2-an386 \
    --index "$name" "$@"
  echo
done
mkdir -p build/bench
echo "== device: memory traffic per step, measured on the binaries (QEMU plugin), and"
echo "   time and energy per step MODELLED for named parts (docs/performance.md)"
bash ci/qemu-plugin.sh >/dev/null
# The default m4f (weights once per 4-step tile: the F446's 128-byte ART holds
# no 4-row group) beside the weight-stationary m4f-wstat (once per block).
MTSRNN_FIRMWARE_DIR="$root/build" mtsrnn bench device --board qemu-mps2-an386 \
  --index demo_sru --variant m4f,m4f-wstat --block 1,4,16 --memory stm32f446 --no-progress \
  --json build/bench/memory-stm32f446.json --plot build/bench/memory-stm32f446.png
echo
# mtsrnn-device for aarch64 (the one target of ci/aarch64.sh's NEON build), and an
# SRU the size of a speech model (hidden 1024: 12 MB of weights, far beyond the L2).
cmake -S . -B build/aarch64-neon -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake -DMTSRNN_SIMD=auto \
  -DMTSRNN_FIRMWARE=ON -DPython_EXECUTABLE="$(command -v python)" >/dev/null
cmake --build build/aarch64-neon -j "$(nproc)" --target mtsrnn-device >/dev/null
python -c 'import mtsrnn, sys; mtsrnn.random_sru(1024, 1024, seed=3).save(sys.argv[1])' \
  build/bench/sru1024.mts
MTSRNN_FIRMWARE_DIR="$root/build" mtsrnn bench device --board qemu-aarch64 \
  --model build/bench/sru1024.mts --variant neon --block 1,4,16 --steps 16 \
  --memory cortex-a72 --no-progress \
  --json build/bench/memory-cortex-a72.json --plot build/bench/memory-cortex-a72.png
echo
echo "== host: SRU and QRNN layers against peers and the roofline (wall-clock, one thread)"
mtsrnn bench host --json build/bench/host.json --plot build/bench/host.png
echo
echo "== host: memory traffic in an embedded-sized cache model (cachegrind)"
mtsrnn bench dram --json build/bench/dram.json
echo
echo "== example: a trained model on the default board (BasicMotions, docs/examples.md):"
echo "   accuracy on the emulated Cortex-M4F, float32 and both int8 schemes, against the"
echo "   host, then instructions per step against T (about a minute and a half)"
EXAMPLES_TASKS=basic_motions EXAMPLES_BOARDS=qemu-mps2-an386 EXAMPLES_BENCH=1 \
  EXAMPLES_DEVICE_SCHEMES="float32 int8-w int8-wa" bash ci/examples.sh
