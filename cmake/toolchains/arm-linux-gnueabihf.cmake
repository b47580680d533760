# Cortex-A, 32-bit: armv7-a with NEON and VFPv4 (fused multiply-add), hard-float
# ABI, with Debian's arm-linux-gnueabihf-gcc. Used as
#   cmake -S . -B build/armv7-neon -DMTSRNN_FIRMWARE=ON \
#         -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/arm-linux-gnueabihf.cmake
# Linked -static and run under qemu-arm, as the aarch64 toolchain file explains.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(MTSRNN_CROSS_TRIPLE arm-linux-gnueabihf)
set(MTSRNN_CROSS_CPU_FLAGS "-march=armv7-a -mfpu=neon-vfpv4 -mfloat-abi=hard")
set(MTSRNN_CROSS_EMULATOR qemu-arm)
include(${CMAKE_CURRENT_LIST_DIR}/linux-cross-common.cmake)
