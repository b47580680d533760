#!/usr/bin/env bash
# Fuzz the .mts loader and the device protocol loop: libFuzzer with ASan +
# UBSan (clang from Debian), each from a seed corpus (valid files; whole
# host sessions), for a bounded total time (default 75 s, CI uses that: 3/5
# for the loader, the rest for the device loop, whose target checks that
# every line the device sends is well formed and checked). Longer runs:
# `bash ci/fuzz.sh 3600`; the corpora grow in build/fuzz/corpus and
# build/fuzz/device-corpus and are reused; crashes land in
# build/fuzz/artifacts. Exits non-zero on any crash, leak, sanitizer report
# or malformed device line.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
seconds=${1:-75}
loader_seconds=$((seconds * 3 / 5))
device_seconds=$((seconds - loader_seconds))

fuzzer_ok() {
  command -v clang >/dev/null &&
    echo 'int LLVMFuzzerTestOneInput(const char *d, long n){(void)d;(void)n;return 0;}' |
      clang -x c -fsanitize=fuzzer - -o /tmp/mtsrnn-fuzz-probe 2>/dev/null
}
if ! fuzzer_ok; then
  echo "fuzz: installing clang and its runtime (libFuzzer) with apt-get"
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    clang libclang-rt-14-dev
fi
# shellcheck disable=SC1091
[ -n "${VIRTUAL_ENV:-}" ] || . ci/setup.sh

out=build/fuzz
rm -rf "$out/obj"
mkdir -p "$out/corpus" "$out/artifacts" "$out/obj"
python tests/fuzz/make_corpus.py "$out/seeds"
# The kernel and device sources, instrumented once and in parallel, then
# linked into both targets. MTS_X86_NO_DISPATCH (and no -m flags) builds
# the portable products only: the targets fuzz the loader and the device
# loop, which never depend on the product, and instrumenting the x86
# intrinsics files took over 9 minutes of CPU. The x86 products run under
# ASan + UBSan in the sanitized C tests (ci/test.sh).
export FUZZ_CFLAGS="-std=c99 -g -O1 -Wall -Wextra -Werror -fsanitize=address,undefined
  -fno-sanitize-recover=undefined -DMTS_X86_NO_DISPATCH -Ikernels/include -Ifirmware/common"
export FUZZ_OBJ="$out/obj"
# shellcheck disable=SC2016
printf '%s\n' kernels/src/*.c kernels/src/gemm/*.c firmware/common/mts_device*.c |
  xargs -P "$(nproc 2>/dev/null || echo 2)" -n 1 sh -c \
    'clang $FUZZ_CFLAGS -fsanitize=fuzzer-no-link -c "$0" -o "$FUZZ_OBJ/$(echo "$0" | tr / _).o"'
kernel_objs=("$out"/obj/kernels_src_*.o)
device_objs=("$out"/obj/firmware_common_*.o)
# shellcheck disable=SC2086
clang $FUZZ_CFLAGS -fsanitize=fuzzer tests/fuzz/fuzz_model_file.c "${kernel_objs[@]}" \
  -o "$out/fuzz_model_file"
"$out/fuzz_model_file" -max_total_time="$loader_seconds" -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$out/artifacts/" -print_final_stats=1 "$out/corpus" "$out/seeds" \
  2>"$out/fuzz.log" || { tail -60 "$out/fuzz.log"; echo "fuzz: 0 passed, 1 failed"; exit 1; }
grep -E '^(Done|stat::number_of_executed_units|stat::new_units_added)' "$out/fuzz.log" || true
echo "fuzz: loader: no crash in ${loader_seconds} s, $(ls "$out/seeds" | wc -l) seed files, corpus $(ls "$out/corpus" | wc -l) files"

# The device's command/line/payload loop (firmware/common) on a fake board.
mkdir -p "$out/device-corpus"
python tests/fuzz/make_device_corpus.py "$out/device" >/dev/null
# shellcheck disable=SC2086
clang $FUZZ_CFLAGS -fsanitize=fuzzer tests/fuzz/fuzz_device.c "${device_objs[@]}" \
  "${kernel_objs[@]}" -o "$out/fuzz_device"
FUZZ_DEVICE_MODELS="$out/device/models/sru.mts:$out/device/models/qrnn_i8wa.mts" \
  "$out/fuzz_device" -max_total_time="$device_seconds" -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$out/artifacts/device-" -print_final_stats=1 "$out/device-corpus" \
  "$out/device/seeds" 2>"$out/fuzz-device.log" ||
  { tail -60 "$out/fuzz-device.log"; echo "fuzz: 0 passed, 1 failed"; exit 1; }
grep -E '^(Done|stat::number_of_executed_units|stat::new_units_added)' "$out/fuzz-device.log" || true
echo "fuzz: device loop: every line well formed in ${device_seconds} s, corpus $(ls "$out/device-corpus" | wc -l) inputs"
