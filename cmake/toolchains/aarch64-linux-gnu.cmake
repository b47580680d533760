# Cortex-A, 64-bit (aarch64, NEON always present) with Debian's
# aarch64-linux-gnu-gcc. Used as
#   cmake -S . -B build/aarch64-neon -DMTSRNN_FIRMWARE=ON \
#         -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
# Programs are linked -static: the same binary runs under qemu-aarch64 with no
# sysroot (-L) and on any aarch64 Linux board whatever its glibc version
# (copy build/aarch64-neon/firmware/linux/mtsrnn-device over and run it).
# ctest runs the test programs through CMAKE_CROSSCOMPILING_EMULATOR.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(MTSRNN_CROSS_TRIPLE aarch64-linux-gnu)
set(MTSRNN_CROSS_CPU_FLAGS "")
set(MTSRNN_CROSS_EMULATOR qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/linux-cross-common.cmake)
