#!/usr/bin/env bash
# The main job on the default board (QEMU mps2-an386, a Cortex-M4F): build
# the firmware, then benchmark the built-in demo SRU on the board through the
# serial harness (instructions per step against the block size T; under
# emulation these are instruction counts, not time), and the host benchmark
# of an SRU layer whose weights exceed the last-level cache (hidden 2048,
# 48 MiB): per-step time and speed-up against T = 1.
# Extra arguments go to `mtsrnn bench device` (see its --help), e.g.
#   bash ci/main.sh --board qemu-mps3-an547 --json out.json --plot out.png
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck disable=SC1091
. ci/setup.sh
bash ci/firmware.sh >/dev/null
echo "== device: the demo SRU on the default board"
MTSRNN_FIRMWARE_DIR="$root/build" mtsrnn bench device --board qemu-mps2-an386 "$@"
echo
echo "== host: one SRU layer, hidden 2048"
mtsrnn bench host --cell sru --hidden 2048
