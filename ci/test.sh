#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run): setup, lint, the C tests
# natively and under ASan+UBSan (with the device program and its protocol
# tests), the Cortex-M firmware on QEMU boards, the model-file fuzzer, then
# the kernels in outside projects, the package built as a wheel and an sdist
# and installed into fresh environments (the wheel also under older x86
# CPUs), then the Python tests against the installed wheel, then the
# real-data examples (ci/examples.sh). Exits non-zero
# on the first failure.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export MTSRNN_WITH_TORCH=1
# sru compiles its C++ kernel on first import; keep it with the build.
export TORCH_EXTENSIONS_DIR="$root/build/torch_extensions"
# shellcheck disable=SC1091
. ci/setup.sh
jobs=$(nproc 2>/dev/null || echo 2)

echo "== ruff"
ruff check host tests firmware examples

echo "== C tests (Release: every x86 product built, the CPU's chosen at run time)"
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DMTSRNN_FIRMWARE=ON >/dev/null
cmake --build build/release -j "$jobs"
ctest --test-dir build/release --output-on-failure -j "$jobs"

echo "== C tests (ASan + UBSan; the AVX-512 and VNNI products run sanitized too: this CPU has them)"
cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMTSRNN_SANITIZE=ON \
  -DMTSRNN_FIRMWARE=ON >/dev/null
cmake --build build/asan -j "$jobs"
ctest --test-dir build/asan --output-on-failure -j "$jobs"

echo "== Cortex-M firmware: build every board, boot the QEMU boards"
bash ci/firmware.sh

echo "== Fuzzing the .mts loader and the device loop (libFuzzer + ASan + UBSan, 75 s)"
bash ci/fuzz.sh 75

echo "== C tests on Cortex-M4F and M55 under qemu-system-arm (semihosting)"
bash ci/cortex-m-tests.sh

echo "== Cortex-A: aarch64 NEON and plain C, armv7-a NEON, under qemu user mode"
bash ci/aarch64.sh

echo "== MicroPython module (test port, native-module compile check, fallback)"
bash ci/micropython.sh
bash ci/micropython_packaging.sh

echo "== The kernels in outside projects (find_package, Make, add_subdirectory on Cortex-M4F)"
bash ci/embedding.sh

echo "== Python package: wheel and sdist in fresh environments, the wheel on older CPUs"
wheel_python=$(bash ci/package.sh | tail -n 1)

echo "== Python tests (against the wheel installed in a fresh environment)"
# The harness tests drive the real device program and the QEMU boards built above.
export MTSRNN_DEVICE="$root/build/release/firmware/linux/mtsrnn-device"
export MTSRNN_FIRMWARE_DIR="$root/build"
"$wheel_python" -m pytest tests/python -q -p no:cacheprovider

echo "== Real-data examples: trained, then mtsrnn eval on the host, two QEMU boards, qemu-aarch64, MicroPython"
bash ci/examples.sh
