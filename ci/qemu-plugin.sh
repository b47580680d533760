#!/usr/bin/env bash
# Builds the project's QEMU TCG plugin (tools/qemu-plugin/mtsmem.c, against
# its own declarations of QEMU 7.2's plugin API) and its cache-model trace
# driver with the host gcc into build/qemu-plugin/: libmtsmem.so (what
# `mtsrnn bench device --memory PART` loads) and mtsmem-trace (the tests').
# A second or so.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${QEMU_PLUGIN_BUILD:-$root/build/qemu-plugin}
src=$root/tools/qemu-plugin
mkdir -p "$out"
flags=(-std=c99 -O2 -Wall -Wextra -Werror -D_DEFAULT_SOURCE)
gcc "${flags[@]}" -shared -fPIC -o "$out/libmtsmem.so" "$src/mtsmem.c"
gcc "${flags[@]}" -o "$out/mtsmem-trace" "$src/mtsmem_trace.c"
echo "qemu-plugin: built $out/libmtsmem.so and $out/mtsmem-trace"
