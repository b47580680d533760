# Cortex-M4F (single-precision FPv4, hard-float ABI) with arm-none-eabi-gcc.
# Boards: mps2-an386 (QEMU), nucleo-f446re. Used as
#   cmake -S firmware/boards -B build/fw-m4f \
#         -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/arm-none-eabi-m4f.cmake
set(MTSRNN_FW_CPU_FLAGS "-mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard")
set(MTSRNN_FW_ARCH m4f)
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi-common.cmake)
