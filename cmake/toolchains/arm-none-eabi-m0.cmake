# Cortex-M0 / M0+ (Armv6-M: Thumb-1 plus a few 32-bit instructions, no FPU,
# no DSP, soft-float ABI) with arm-none-eabi-gcc. Boards: microbit (QEMU,
# nRF51822), pico (RP2040, Cortex-M0+: the same instruction set).
set(MTSRNN_FW_CPU_FLAGS "-mcpu=cortex-m0 -mthumb -mfloat-abi=soft")
set(MTSRNN_FW_ARCH m0)
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi-common.cmake)
