#!/usr/bin/env bash
# Installs the bare-metal ARM toolchain and the emulator the firmware build
# and its QEMU boot test need (Debian packages, no Recommends: those add
# ~2.4 GB of C++ runtime for arm-none-eabi). Idempotent: does nothing when
# arm-none-eabi-gcc, newlib (nosys.specs) and qemu-system-arm are present.
set -euo pipefail

have_gcc() { command -v arm-none-eabi-gcc >/dev/null 2>&1; }
have_newlib() {
  have_gcc && [ -f "$(arm-none-eabi-gcc -print-file-name=nosys.specs)" ]
}
have_qemu() { command -v qemu-system-arm >/dev/null 2>&1; }

if have_gcc && have_newlib && have_qemu; then
  echo "install-toolchains: arm-none-eabi-gcc, newlib and qemu-system-arm present"
  exit 0
fi

SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends \
  gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm
echo "install-toolchains: $(arm-none-eabi-gcc --version | head -n1); $(qemu-system-arm --version | head -n1)"
