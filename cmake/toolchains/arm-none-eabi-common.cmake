# Shared part of the arm-none-eabi toolchain files (included by them, after
# they set MTSRNN_FW_CPU_FLAGS and MTSRNN_FW_ARCH). Bare metal: no OS, newlib
# with the nosys stubs, sections per function/object so that the linker drops
# whatever the firmware does not use. Set ARM_NONE_EABI_PREFIX (cache or
# environment) to use a toolchain outside PATH, e.g. /opt/gcc-arm/bin/arm-none-eabi-.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

if(NOT ARM_NONE_EABI_PREFIX)
  if(DEFINED ENV{ARM_NONE_EABI_PREFIX})
    set(ARM_NONE_EABI_PREFIX "$ENV{ARM_NONE_EABI_PREFIX}")
  else()
    set(ARM_NONE_EABI_PREFIX arm-none-eabi-)
  endif()
endif()
set(ARM_NONE_EABI_PREFIX "${ARM_NONE_EABI_PREFIX}" CACHE STRING "arm-none-eabi tool prefix")

set(CMAKE_C_COMPILER ${ARM_NONE_EABI_PREFIX}gcc)
set(CMAKE_ASM_COMPILER ${ARM_NONE_EABI_PREFIX}gcc)
set(CMAKE_AR ${ARM_NONE_EABI_PREFIX}ar CACHE FILEPATH "")
set(CMAKE_RANLIB ${ARM_NONE_EABI_PREFIX}ranlib CACHE FILEPATH "")
set(CMAKE_OBJCOPY ${ARM_NONE_EABI_PREFIX}objcopy CACHE FILEPATH "")
set(CMAKE_SIZE ${ARM_NONE_EABI_PREFIX}size CACHE FILEPATH "")

# No executable can be linked without a linker script: try-compile a library.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(CMAKE_C_FLAGS_INIT "${MTSRNN_FW_CPU_FLAGS} -ffunction-sections -fdata-sections")
set(CMAKE_ASM_FLAGS_INIT "${MTSRNN_FW_CPU_FLAGS}")
set(CMAKE_EXE_LINKER_FLAGS_INIT
    "${MTSRNN_FW_CPU_FLAGS} --specs=nosys.specs -nostartfiles -Wl,--gc-sections")

# Find headers and libraries of the target only, programs of the host.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
