#!/usr/bin/env bash
# The C tests of tests/c on Cortex-M cores under qemu-system-arm
# (tests/cortex-m: newlib + semihosting, the boards' startup and memory map):
#   build/cm-tests-m4f   mps2-an386, Cortex-M4F: m4f, tiled, reference products
#   build/cm-tests-m55   mps3-an547, Cortex-M55 + Helium: also the helium product
#   build/cm-tests-m0    mps2-an385 built for Armv6-M (soft float: the armv6m
#                        product); by default only quantized, i8_scale and
#                        kernel_library_rules, the tests of what is Armv6-M's
#                        own (its product and integer scaling bit for bit)
# Each runs ctest: model (every product variant vs a double product, T and
# streaming invariance), quantized (the int8 products), simd and simd_generic
# (4-lane activations bit for bit against the scalar ones; simd is skipped
# where the core has no backend), golden (the host's float64 golden data,
# every variant and T), new_cells (minGRU, minLSTM, IndRNN against their
# float64 golden data, every variant and T), kernel_library_rules, i8_scale
# (the Armv6-M product's integer scaling against the core's own float
# expression, ~1 s), and activation (error bounds: on the M55 only by
# default, as its dense sweeps take ~110 s emulated on the M4F;
# CORTEX_M_TESTS_FULL=1 runs it everywhere). Exits non-zero on any
# failure. Emulated timings are never performance.
#
#   ci/cortex-m-tests.sh                     # all three cores
#   CORTEX_M_BOARDS=mps3-an547 ci/cortex-m-tests.sh
#   CORTEX_M_TESTS_FULL=1 ci/cortex-m-tests.sh  # every test on every core (the
#     Armv6-M build's soft-float model, golden and new_cells take about 2.5 min)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck disable=SC1091
. ci/lib.sh
mtsrnn_ci_start

declare -A arch=([mps2-an386]=m4f [mps3-an547]=m55 [mps2-an385]=m0)
boards=${CORTEX_M_BOARDS:-mps2-an386 mps3-an547 mps2-an385}
for board in $boards; do
  dir="build/cm-tests-${arch[$board]}"
  echo "== $board: build (tests/cortex-m, cmake/toolchains/arm-none-eabi-${arch[$board]}.cmake)"
  cmake -S tests/cortex-m -B "$dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DMTSRNN_CM_BOARD="$board" -DPython_EXECUTABLE="$py" >/dev/null
  cmake --build "$dir" -j "$jobs"
  select=()
  if [ "${CORTEX_M_TESTS_FULL:-0}" != 1 ]; then
    if [ "$board" = mps2-an385 ]; then
      select=(-R '^(quantized|i8_scale|kernel_library_rules)$')
    elif [ "$board" != mps3-an547 ]; then
      select=(-E '^activation$')
    fi
  fi
  echo "== $board: ctest under qemu-system-arm"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 600 --no-tests=error \
    "${select[@]}"
done
echo "cortex-m-tests: all passed ($boards)"
