#!/usr/bin/env bash
# Fuzz the .mts loader: libFuzzer with ASan + UBSan (clang from Debian), from
# a seed corpus of valid files, for a bounded time (default 60 s; CI uses
# that). Longer runs: `bash ci/fuzz.sh 3600`; the corpus grows in
# build/fuzz/corpus and is reused; crashes land in build/fuzz/artifacts.
# Exits non-zero on any crash, leak or sanitizer report.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
seconds=${1:-60}

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
mkdir -p "$out/corpus" "$out/artifacts"
python tests/fuzz/make_corpus.py "$out/seeds"
clang -std=c99 -g -O1 -Wall -Wextra -Werror -fsanitize=fuzzer,address,undefined \
  -fno-sanitize-recover=undefined -Ikernels/include \
  tests/fuzz/fuzz_model_file.c kernels/src/*.c kernels/src/gemm/*.c -o "$out/fuzz_model_file"
"$out/fuzz_model_file" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$out/artifacts/" -print_final_stats=1 "$out/corpus" "$out/seeds" \
  2>"$out/fuzz.log" || { tail -60 "$out/fuzz.log"; echo "fuzz: 0 passed, 1 failed"; exit 1; }
grep -E '^(Done|stat::number_of_executed_units|stat::new_units_added)' "$out/fuzz.log" || true
echo "fuzz: no crash in ${seconds} s, $(ls "$out/seeds" | wc -l) seed files, corpus $(ls "$out/corpus" | wc -l) files"
