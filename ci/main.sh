#!/usr/bin/env bash
# The main job on the default board (QEMU mps2-an386, a Cortex-M4F): build
# the firmware, then benchmark the built-in demo SRU and its int8 versions
# (int8-w, int8-wa) on the board through the
# serial harness (instructions per step against the block size T; under
# emulation these are instruction counts, not time), then the host
# benchmarks (docs/performance.md): SRU and QRNN layers of hidden 256 to 2048
# against NumPy/OpenBLAS, CMSIS-DSP per step, PyPI sru and the measured
# roofline (a few minutes), and cachegrind's last-level misses per step in an
# embedded-sized cache model (about two minutes). Results: build/bench/.
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
echo
echo "== host: SRU and QRNN layers against peers and the roofline (wall-clock, one thread)"
mkdir -p build/bench
mtsrnn bench host --json build/bench/host.json --plot build/bench/host.png
echo
echo "== host: memory traffic in an embedded-sized cache model (cachegrind)"
mtsrnn bench dram --json build/bench/dram.json
