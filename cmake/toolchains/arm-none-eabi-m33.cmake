# Cortex-M33 (Armv8-M Mainline with the DSP extension and a single-precision
# FPv5 FPU; hard-float ABI) with arm-none-eabi-gcc: the core of the RP2350,
# nRF5340, STM32U5. Boards: mps2-an505 (QEMU), pico2 (RP2350). gcc's
# cortex-m33 includes the DSP extension (__ARM_FEATURE_DSP).
set(MTSRNN_FW_CPU_FLAGS "-mcpu=cortex-m33 -mthumb -mfpu=fpv5-sp-d16 -mfloat-abi=hard")
set(MTSRNN_FW_ARCH m33)
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi-common.cmake)
