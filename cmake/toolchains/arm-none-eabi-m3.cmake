# Cortex-M3 (Armv7-M: Thumb-2, no FPU, no DSP extension; float in software,
# soft-float ABI) with arm-none-eabi-gcc. Board: mps2-an385 (QEMU).
set(MTSRNN_FW_CPU_FLAGS "-mcpu=cortex-m3 -mthumb -mfloat-abi=soft")
set(MTSRNN_FW_ARCH m3)
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi-common.cmake)
