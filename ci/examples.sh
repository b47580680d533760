#!/usr/bin/env bash
# The real-data examples (examples/real_data, docs/examples.md): each script
# trains its model (PyTorch, CPU, seeded) on data shipped in PyPI aeon 1.6.0
# and writes the float32 model, its int8-w and int8-wa versions and the held-
# out test data; then `mtsrnn eval` runs every model on the host and on each
# device board (default: the default board qemu-mps2-an386, the M55 board
# qemu-mps3-an547 and qemu-aarch64) and on MicroPython (the C module on the
# test port when ci/micropython.sh has built it, and the pure-Python module on
# the unix port), each sequence from a reset state.
# Fails when a float32 model's device predictions differ from the host's
# (mtsrnn eval's exit 1) or an int8 model's host accuracy is more than the
# documented bound below the float model's (examples/real_data/results.py).
# Prints the results as Markdown tables. Each model is uploaded to the QEMU
# boards' firmware over the serial line (`upload`, docs/protocol.md), as a
# user does with a flashed board; qemu-aarch64's mtsrnn-device is ci/aarch64.sh's build/aarch64-neon (built here if missing).
#
#   ci/examples.sh                                   # OUT build/examples
#   EXAMPLES_BOARDS="qemu-mps2-an386" ci/examples.sh # fewer boards
#   EXAMPLES_TASKS=basic_motions ci/examples.sh      # fewer tasks
#   EXAMPLES_BENCH=1 ci/examples.sh                  # also the cost per step at T = 1, 4, 16
#   EXAMPLES_TRAIN=0 ci/examples.sh                  # keep the models OUT holds
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
out=${EXAMPLES_OUT:-$root/build/examples}
boards=${EXAMPLES_BOARDS:-qemu-mps2-an386 qemu-mps3-an547 qemu-aarch64 micropython}
tasks=${EXAMPLES_TASKS:-japanese_vowels basic_motions ecg_stream}
schemes="float32 int8-w int8-wa"
# On the devices: float32 (identical predictions to the host) and int8-wa (the
# one whose activations are quantised too); int8-w runs on the host and in
# the docs run (EXAMPLES_DEVICE_SCHEMES="float32 int8-w int8-wa").
device_schemes=${EXAMPLES_DEVICE_SCHEMES:-float32 int8-wa}
export MTSRNN_FIRMWARE_DIR=${MTSRNN_FIRMWARE_DIR:-$root/build}
export TORCH_EXTENSIONS_DIR=${TORCH_EXTENSIONS_DIR:-$root/build/torch_extensions}
if ! python -c 'import mtsrnn, torch, sru' 2>/dev/null; then
  export MTSRNN_WITH_TORCH=1
  # shellcheck disable=SC1091
  . ci/setup.sh
fi
start=$SECONDS

echo "== examples: training (examples/real_data, aeon $(python -c 'import importlib.metadata as m; print(m.version("aeon"))') data)"
for task in $tasks; do
  if [ "${EXAMPLES_TRAIN:-1}" = 1 ] || [ ! -f "$out/$task/test.npz" ]; then
    python examples/real_data/$task.py "$out/$task" 2>&1 | tail -n 1
  fi
done
find "$out" -name '*.json' ! -name train.json -delete

echo "== examples: mtsrnn eval on the host"
for task in $tasks; do
  for scheme in $schemes; do
    mtsrnn eval --host --model "$out/$task/$task-$scheme.mts" --data "$out/$task/test.npz" \
      --json "$out/$task/host-$scheme.json"
  done
done

# One board's evals: the boards run side by side, each
# waiting on its emulator's replies most of the time (not on the CPU).
run_board() {
  local board=$1 target=(--board "$1") task scheme block=16 bench_blocks=1,4,16
  case $board in
    qemu-microbit)
      # 16 KB of RAM: its firmware holds T <= 8 (boards.py max_block).
      block=8 bench_blocks=1,4,8 ;;
    micropython)
      target=(--micropython) ;;
    qemu-aarch64)
      if [ ! -x build/aarch64-neon/firmware/linux/mtsrnn-device ]; then
        cmake -S . -B build/aarch64-neon -G Ninja -DCMAKE_BUILD_TYPE=Release \
          -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake -DMTSRNN_SIMD=auto \
          -DMTSRNN_FIRMWARE=ON -DPython_EXECUTABLE="$(command -v python)" >/dev/null
        cmake --build build/aarch64-neon -j "$(nproc)" --target mtsrnn-device >/dev/null
      fi ;;
  esac
  for task in $tasks; do
    for scheme in $device_schemes; do
      mtsrnn eval "${target[@]}" --model "$out/$task/$task-$scheme.mts" \
        --data "$out/$task/test.npz" --json "$out/$task/$board-$scheme.json" --no-progress \
        --block "$block" --timeout 60 | tail -n +2
      if [ "${EXAMPLES_BENCH:-0}" = 1 ] && [ "$board" != micropython ]; then
        mtsrnn bench device --board "$board" \
          --model "$out/$task/$task-$scheme.mts" --block "$bench_blocks" --no-progress \
          --json "$out/$task/bench-$board-$scheme.json" | grep -v '^wrote'
        echo
      fi
    done
  done
}

mkdir -p "$out/logs"
pids=()
for board in $boards; do
  run_board "$board" >"$out/logs/$board.log" 2>&1 &
  pids+=($!)
done
failed=0
set -- $boards
for pid in "${pids[@]}"; do
  status=0
  wait "$pid" || status=$?
  echo "== examples: mtsrnn eval on $1 (exit $status)"
  cat "$out/logs/$1.log"
  [ "$status" = 0 ] || failed=1
  shift
done
[ "$failed" = 0 ] || { echo "examples: a device eval failed (above)"; exit 1; }

echo "== examples: results (bounds: docs/examples.md)"
python examples/real_data/results.py "$out"
echo "examples: $((SECONDS - start)) s"
