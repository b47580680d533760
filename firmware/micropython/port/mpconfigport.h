/* The test port's configuration: a small MicroPython, float32 floats as on a
 * Cortex-M4F/M55 board, the modules the tests use (array, struct, math, sys),
 * imports from the host file system (the fallback's .mpy), no native emitter
 * and no io module (MicroPython's extmod/ is not in the sdist). */
#include <alloca.h>
#include <stdint.h>

#define MICROPY_CONFIG_ROM_LEVEL (MICROPY_CONFIG_ROM_LEVEL_CORE_FEATURES)

#define MICROPY_ENABLE_COMPILER (1)
#define MICROPY_ENABLE_GC (1)
#define MICROPY_HELPER_REPL (0)
#define MICROPY_FLOAT_IMPL (MICROPY_FLOAT_IMPL_FLOAT)
#define MICROPY_LONGINT_IMPL (MICROPY_LONGINT_IMPL_MPZ)
#define MICROPY_ERROR_REPORTING (MICROPY_ERROR_REPORTING_DETAILED)
#define MICROPY_PY_BUILTINS_FLOAT (1)
#define MICROPY_PY_ARRAY (1)
#define MICROPY_PY_STRUCT (1)
#define MICROPY_PY_MATH (1)
#define MICROPY_PY_SYS (1)
#define MICROPY_PY_SYS_ARGV (1)
#define MICROPY_PY_SYS_PATH (1)
#define MICROPY_PY_SYS_EXIT (1)
#define MICROPY_PY_MICROPYTHON (1)
#define MICROPY_PY_IO (0)
#define MICROPY_PY_SYS_STDFILES (0)
#define MICROPY_PY_SYS_PLATFORM "mtsrnn-test"
#define MICROPY_PY_BUILTINS_MEMORYVIEW (1)
#define MICROPY_PY_BUILTINS_BYTEARRAY (1)
#define MICROPY_PY_BUILTINS_STR_OP_MODULO (1)
#define MICROPY_CPYTHON_COMPAT (1)
#define MICROPY_PY_FSTRINGS (1)

/* Import .py and .mpy files from the host file system (POSIX reader). */
#define MICROPY_ENABLE_EXTERNAL_IMPORT (1)
#define MICROPY_READER_POSIX (1)
#define MICROPY_PERSISTENT_CODE_LOAD (1)

#define MICROPY_EMIT_X64 (0)
#define MICROPY_EMIT_THUMB (0)
#define MICROPY_EMIT_INLINE_THUMB (0)

#define MICROPY_ALLOC_PATH_MAX (256)
#define MICROPY_VFS (0)

typedef intptr_t mp_int_t;
typedef uintptr_t mp_uint_t;
typedef long mp_off_t;

#define MICROPY_HW_BOARD_NAME "mtsrnn test port"
#define MICROPY_HW_MCU_NAME "host"

#define MP_STATE_PORT MP_STATE_VM
