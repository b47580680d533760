# Cortex-M7 (Armv7E-M with the DSP extension and a single-precision FPv5
# FPU, 32 S registers; hard-float ABI) with arm-none-eabi-gcc. Board:
# mps2-an500 (QEMU). fpv5-sp-d16 runs on every M7 (some have no double
# precision); the kernels use single precision only.
set(MTSRNN_FW_CPU_FLAGS "-mcpu=cortex-m7 -mthumb -mfpu=fpv5-sp-d16 -mfloat-abi=hard")
set(MTSRNN_FW_ARCH m7)
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi-common.cmake)
