#!/usr/bin/env bash
# Installs the cross toolchains, emulators and tools the firmware, the
# aarch64/armv7 builds and the benchmarks need (Debian packages, without
# Recommends: those add ~2.4 GB of C++ runtime for arm-none-eabi):
#   arm-none-eabi-gcc + newlib, qemu-system-arm   Cortex-M firmware on QEMU boards
#   aarch64-linux-gnu-gcc + libc, qemu-user       Cortex-A (aarch64) under qemu-aarch64
#   arm-linux-gnueabihf-gcc + libc                armv7-a with NEON under qemu-arm
#   valgrind                                      cachegrind (mtsrnn bench dram)
# Idempotent: installs only what is missing.
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1; }
have arm-none-eabi-gcc || need+=(gcc-arm-none-eabi)
if ! have arm-none-eabi-gcc || [ ! -f "$(arm-none-eabi-gcc -print-file-name=nosys.specs)" ]; then
  need+=(libnewlib-arm-none-eabi)
fi
have qemu-system-arm || need+=(qemu-system-arm)
have qemu-aarch64 || need+=(qemu-user)
have aarch64-linux-gnu-gcc || need+=(gcc-aarch64-linux-gnu)
[ -f /usr/aarch64-linux-gnu/include/stdio.h ] || need+=(libc6-dev-arm64-cross)
have arm-linux-gnueabihf-gcc || need+=(gcc-arm-linux-gnueabihf)
[ -f /usr/arm-linux-gnueabihf/include/stdio.h ] || need+=(libc6-dev-armhf-cross)
have valgrind || need+=(valgrind)

if [ ${#need[@]} -eq 0 ]; then
  echo "install-toolchains: all present"
  exit 0
fi
echo "install-toolchains: installing ${need[*]} with apt-get"
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${need[@]}"
echo "install-toolchains: $(arm-none-eabi-gcc --version | head -n1); $(aarch64-linux-gnu-gcc --version | head -n1); $(qemu-system-arm --version | head -n1)"
