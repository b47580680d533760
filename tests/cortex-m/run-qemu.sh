#!/bin/sh
# ctest's CMAKE_CROSSCOMPILING_EMULATOR for the Cortex-M tests: runs one test
# program on an emulated board, its arguments passed through semihosting
# (QEMU's semihosting command line is "PROGRAM ARG...", from -kernel and
# -append; semihosted_main.c reads it), its exit status QEMU's.
#   run-qemu.sh MACHINE CPU PROGRAM.elf [ARG...]
set -eu
machine=$1
cpu=$2
program=$3
shift 3
exec qemu-system-arm -M "$machine" -cpu "$cpu" -nographic -monitor none -serial none \
  -semihosting-config enable=on,target=native -kernel "$program" -append "$*"
