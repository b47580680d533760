#!/usr/bin/env bash
# Builds the Cortex-M firmware for every board (mps2-an386 and nucleo-f446re
# with the Cortex-M4F toolchain, mps3-an547 with the Cortex-M55 one), prints
# each board's flash/RAM use and workspace, then boots each QEMU board through
# the host harness: `mtsrnn selftest` (every built-in model must pass against
# its golden vectors) and a short `mtsrnn bench device` whose instruction
# counts are printed. The Nucleo image is only compiled: there is no board
# here. Exits non-zero on any failure; the harness always stops QEMU.
#
#   ci/firmware.sh                 # build dirs build/fw-m4f, build/fw-m55
#   FW_BUILD_ROOT=/tmp/fw ci/firmware.sh
#   FW_CMAKE_ARGS="-DMTSRNN_FW_MODEL=my.mts" ci/firmware.sh
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build_root=${FW_BUILD_ROOT:-$root/build}
jobs=$(nproc 2>/dev/null || echo 2)

bash ci/install-toolchains.sh
# The models are exported to C by the mtsrnn package.
py=${PYTHON:-$(command -v python || command -v python3 || true)}
if [ -z "$py" ] || ! "$py" -c 'import mtsrnn' 2>/dev/null; then
  # shellcheck disable=SC1091
  . ci/setup.sh
  py=$(command -v python)
fi
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi

echo "== firmware: build"
for arch in m4f m55; do
  dir="$build_root/fw-$arch"
  # shellcheck disable=SC2086
  cmake -S firmware/boards -B "$dir" "${generator[@]}" -DMTSRNN_FW_ARCH=$arch \
    -DMTSRNN_FW_PYTHON="$py" ${FW_CMAKE_ARGS:-} >/dev/null
  cmake --build "$dir" -j "$jobs"
done
echo "== firmware: sizes"
cat "$build_root"/fw-m4f/*/size.txt "$build_root"/fw-m55/*/size.txt
test -s "$build_root/fw-m4f/nucleo-f446re/mtsrnn-nucleo-f446re.elf"
echo "(nucleo-f446re: compiled only, never run here: no board attached)"

echo "== firmware: boot the QEMU boards (the harness: mtsrnn selftest / bench device)"
export MTSRNN_FIRMWARE_DIR=$build_root
fail=0
for board in qemu-mps2-an386 qemu-mps3-an547; do
  timeout -s TERM 300 "$py" -m mtsrnn selftest --board "$board" || fail=1
  timeout -s TERM 300 "$py" -m mtsrnn bench device --board "$board" --block 1,8,32 \
    --no-progress || fail=1
done
if [ "$fail" != 0 ]; then
  echo "firmware: FAILED" >&2
  exit 1
fi
echo "firmware: all boards built, QEMU boards passed their selftest"
