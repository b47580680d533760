# Cortex-M55 (Armv8.1-M with Helium/MVE and the FPU, hard-float ABI) with
# arm-none-eabi-gcc. -mcpu=cortex-m55 enables MVE integer and float (gcc 12
# defines __ARM_FEATURE_MVE=3; <arm_mve.h> is available). Board: mps3-an547.
set(MTSRNN_FW_CPU_FLAGS "-mcpu=cortex-m55 -mthumb -mfloat-abi=hard")
set(MTSRNN_FW_ARCH m55)
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi-common.cmake)
