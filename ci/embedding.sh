#!/usr/bin/env bash
# The kernels in two outside projects (examples/embedding, docs/embedding.md),
# as a user builds them:
#  - host: the kernels built and `cmake --install`ed, found by
#    find_package(mtsrnn), linked as mtsrnn::kernels; the program runs an
#    `mtsrnn export-c` model and checks its golden output;
#  - make: the same program built by a plain Makefile with kernels/mtsrnn.mk;
#  - cortex-m4f: add_subdirectory() of the repository with the Cortex-M4F
#    toolchain and no build type, linked only; checks that the kernels were
#    compiled with -O2 and without -fPIC, and that the image has no .got.
# Needs the mtsrnn package (export-c), cmake, gcc, arm-none-eabi-gcc.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$root/build/embedding}
jobs=${JOBS:-2}
rm -rf "$out"
mkdir -p "$out"

python -c "import mtsrnn, sys; mtsrnn.random_sru(48, 40, num_layers=2, seed=3).save(sys.argv[1])" \
  "$out/model.mts"
mtsrnn export-c "$out/model.mts" -o "$out/model" --name demo >/dev/null

echo "== embedding: kernels installed, found by find_package(mtsrnn) (host)"
cmake -S "$root" -B "$out/kernels" -DMTSRNN_TESTS=OFF >/dev/null
cmake --build "$out/kernels" -j "$jobs" --target mtsrnn_kernels >/dev/null
cmake --install "$out/kernels" --prefix "$out/prefix" >/dev/null
cmake -S "$root/examples/embedding/host" -B "$out/host" -DCMAKE_PREFIX_PATH="$out/prefix" \
  -DMODEL_DIR="$out/model" >/dev/null
cmake --build "$out/host" -j "$jobs" >/dev/null
"$out/host/app"

echo "== embedding: the same program built by Make with kernels/mtsrnn.mk"
make -s -C "$root/examples/embedding/make" -j "$jobs" MODEL_DIR="$out/model" \
  BUILD="$out/make" >/dev/null
"$out/make/app"

echo "== embedding: add_subdirectory() with the Cortex-M4F toolchain, no build type (link only)"
cmake -S "$root/examples/embedding/cortex-m4f" -B "$out/m4f" \
  -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchains/arm-none-eabi-m4f.cmake" \
  -DMTSRNN_DIR="$root" -DMODEL_DIR="$out/model" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
cmake --build "$out/m4f" -j "$jobs" >"$out/m4f.log" 2>&1 || { cat "$out/m4f.log"; exit 1; }
commands=$out/m4f/compile_commands.json
if grep -q -- '-fPIC\|-fpic' "$commands"; then
  echo "embedding: a Cortex-M4F object was compiled with -fPIC"; exit 1
fi
kernel_objects=$(grep -c '"file": ".*kernels/src/' "$commands" || true)
with_o2=$(grep '"command"' "$commands" | grep 'kernels/src/' | grep -c -- ' -O2 ' || true)
if [ "$kernel_objects" -eq 0 ] || [ "$with_o2" -ne "$kernel_objects" ]; then
  echo "embedding: $with_o2 of $kernel_objects kernel sources compiled with -O2"; exit 1
fi
if arm-none-eabi-objdump -h "$out/m4f/app.elf" | grep -q '\.got'; then
  echo "embedding: the Cortex-M4F image has a .got"; exit 1
fi
echo "embedding: app.elf linked ($(arm-none-eabi-size "$out/m4f/app.elf" | tail -n1 |
  awk '{print $1 " text, " $2 " data, " $3 " bss bytes"}')); $kernel_objects kernel sources" \
  "at -O2, no -fPIC, no .got"
