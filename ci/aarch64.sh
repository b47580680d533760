#!/usr/bin/env bash
# Cortex-A: cross-builds the kernels, the C tests and mtsrnn-device with the
# toolchain files in cmake/toolchains, and runs their ctest under QEMU user
# mode (CMAKE_CROSSCOMPILING_EMULATOR):
#   build/aarch64-neon    aarch64, MTSRNN_SIMD=auto: NEON product and scans,
#                         SDOT chosen at run time (on -cpu max, not on cortex-a53)
#   build/aarch64-plain   aarch64, MTSRNN_SIMD=none: the plain C kernels
#   build/armv7-neon      armv7-a + NEON (VFPv4), MTSRNN_SIMD=auto: NEON product
#                         (its scans stay scalar: armv7 NEON flushes subnormals)
#   build/aarch64-dotprod aarch64 -march=armv8.2-a+dotprod (qemu -cpu max): the
#                         SDOT int8 product; builds and runs only the quantized
#                         and model tests
# The ctest of each: model (API, every gemm variant, invariance), activation
# (error bounds), simd (4-lane activations bit for bit; skipped where there
# is no backend), simd_generic, golden (the host's float64 golden data, every
# variant and T), kernel_library_rules (the target's nm/size) and
# device_protocol (tests/device against the emulated mtsrnn-device), quantized
# (every int8 product variant, bit-exact int8-wa), file (the model-file
# loader's detail of a rejection, on 32 and 64 bits). Then the
# harness drives the qemu-aarch64 board once: selftest (the float demo models
# and their int8 versions, each through every product of its scheme) and a
# short bench of the float and the int8-wa demo SRU.
# Exits non-zero on any failure. Emulated timings are never performance.
#
#   ci/aarch64.sh                 # all four builds
#   AARCH64_BUILDS="aarch64-neon" ci/aarch64.sh
#   AARCH64_BUILD_ROOT=build/mine ci/aarch64.sh   # build dirs under build/mine
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck disable=SC1091
. ci/lib.sh
mtsrnn_ci_start

# name: toolchain file, MTSRNN_SIMD, emulator, first gemm variant expected,
# first int8-w and int8-wa variants expected
declare -A toolchain=([aarch64-neon]=aarch64-linux-gnu [aarch64-plain]=aarch64-linux-gnu
                      [armv7-neon]=arm-linux-gnueabihf [aarch64-dotprod]=aarch64-linux-gnu)
declare -A simd=([aarch64-neon]=auto [aarch64-plain]=none [armv7-neon]=auto
                 [aarch64-dotprod]=auto)
declare -A emulator=([aarch64-neon]=qemu-aarch64 [aarch64-plain]=qemu-aarch64
                     [armv7-neon]=qemu-arm [aarch64-dotprod]=qemu-aarch64)
declare -A default_gemm=([aarch64-neon]=neon [aarch64-plain]=tiled [armv7-neon]=neon
                         [aarch64-dotprod]=neon)
declare -A default_i8f32=([aarch64-neon]=neon [aarch64-plain]=tiled [armv7-neon]=neon
                          [aarch64-dotprod]=neon)
declare -A default_i8i8=([aarch64-neon]=neon-sdot [aarch64-plain]=tiled [armv7-neon]=neon
                         [aarch64-dotprod]=neon-sdot)
builds=${AARCH64_BUILDS:-aarch64-neon aarch64-plain armv7-neon aarch64-dotprod}
build_root=${AARCH64_BUILD_ROOT:-build}
# The emulated CPU: QEMU's "max" has every extension it emulates (SDOT
# included); the armv8.0 builds run on it too.
export QEMU_CPU=max

for name in $builds; do
  dir="$build_root/$name"
  # The dotprod build: the kernels and the two tests that enumerate the
  # product tables (the others run in aarch64-neon), to keep CI short.
  cpu_flags=() targets=() only_tests=() firmware=ON
  if [ "$name" = aarch64-dotprod ]; then
    cpu_flags=(-DCMAKE_C_FLAGS=-march=armv8.2-a+dotprod)
    targets=(--target test_model test_quantized)
    only_tests=(-R '^(model|quantized)$')
    firmware=OFF
  fi
  echo "== $name: build (cmake/toolchains/${toolchain[$name]}.cmake, MTSRNN_SIMD=${simd[$name]})"
  cmake -S . -B "$dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_TOOLCHAIN_FILE="cmake/toolchains/${toolchain[$name]}.cmake" "${cpu_flags[@]}" \
    -DMTSRNN_SIMD="${simd[$name]}" -DMTSRNN_FIRMWARE=$firmware -DPython_EXECUTABLE="$py" \
    >/dev/null
  cmake --build "$dir" -j "$jobs" "${targets[@]}"

  echo "== $name: ctest under ${emulator[$name]}"
  log="$dir/ctest.log"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" --no-tests=error "${only_tests[@]}" \
    | tee "$log"
  # The int8 tables' defaults: NEON (SDOT where built) or the portable C products.
  variants=$("${emulator[$name]}" "$dir/tests/c/test_quantized" | grep variant:)
  first_i8f32=$(awk '/^i8f32 variant:/ {print $3; exit}' <<<"$variants")
  first_i8i8=$(awk '/^i8i8 variant:/ {print $3; exit}' <<<"$variants")
  if [ "$first_i8f32" != "${default_i8f32[$name]}" ] ||
     [ "$first_i8i8" != "${default_i8i8[$name]}" ]; then
    echo "aarch64.sh: $name: default int8 variants are '$first_i8f32' (int8-w) and" \
         "'$first_i8i8' (int8-wa), expected '${default_i8f32[$name]}' and '${default_i8i8[$name]}'"
    exit 1
  fi
  if [ "$name" = aarch64-dotprod ]; then
    for test in model quantized; do
      grep -Eq "Test +#[0-9]+: $test \.+ +Passed" "$log" || {
        echo "aarch64.sh: $name: test $test did not pass"; exit 1; }
    done
    continue
  fi
  # Every test must have run; only `simd` may skip, and only without a backend.
  for test in model quantized activation simd_generic golden new_cells kernel_library_rules \
              device_protocol file; do
    grep -Eq "Test +#[0-9]+: $test \.+ +Passed" "$log" || {
      echo "aarch64.sh: $name: test $test did not pass"; exit 1; }
  done
  if [ "$name" = aarch64-neon ]; then
    grep -Eq "Test +#[0-9]+: simd \.+ +Passed" "$log" || {
      echo "aarch64.sh: $name: the NEON scan test did not run"; exit 1; }
    # The armv8.0 build picks SDOT at run time (kernels/src/isa.h): the
    # int8-wa default on a CPU with SDOT (max) and on one without (the
    # Cortex-A53 of a Raspberry Pi 3), whose run must pass without it (~20 s).
    for cpu in max:neon-sdot cortex-a53:neon; do
      out=$(QEMU_CPU=${cpu%%:*} qemu-aarch64 "$dir/tests/c/test_quantized")
      chosen=$(awk '/^i8i8 default:/ {print $3}' <<<"$out")
      if [ "$chosen" != "${cpu##*:}" ] || ! grep -q "0 failed" <<<"$out"; then
        echo "aarch64.sh: $name on -cpu ${cpu%%:*}: int8-wa default '$chosen'," \
             "expected '${cpu##*:}'; $(tail -n 1 <<<"$out")"
        exit 1
      fi
      echo "aarch64.sh: $name on -cpu ${cpu%%:*}: int8-wa default $chosen"
    done
  fi
  # The variant table's default: NEON where built, the portable C product otherwise.
  first=$("${emulator[$name]}" "$dir/tests/c/test_golden" | awk '/^# gemm/ {print $3; exit}')
  if [ "$first" != "${default_gemm[$name]}" ]; then
    echo "aarch64.sh: $name: default gemm variant is '$first', expected '${default_gemm[$name]}'"
    exit 1
  fi
done

if [[ " $builds " == *" aarch64-neon "* ]]; then
  echo "== qemu-aarch64 board through the harness"
  MTSRNN_FIRMWARE_DIR=$(cd "$build_root" && pwd)
  export MTSRNN_FIRMWARE_DIR
  "$py" -m mtsrnn selftest --board qemu-aarch64
  "$py" -m mtsrnn bench --board qemu-aarch64 --block 1,8,32 --steps 32 --repeat 1 --no-progress
  "$py" -m mtsrnn bench --board qemu-aarch64 --index demo_sru_i8wa --block 1,8,32 --steps 32 \
    --repeat 1 --no-progress
fi
echo "aarch64.sh: all passed"
