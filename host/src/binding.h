/* What the sources of the mtsrnn._core module share (each is part of the
 * binding; _core.c holds the module and its Model type). */
#ifndef MTSRNN_HOST_BINDING_H
#define MTSRNN_HOST_BINDING_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stddef.h>

#include "mtsrnn/file.h"

/* constants.c: the kernels' constants and tables as module attributes
 * (limits, file format, enum values, tensor kinds and dtypes, STATUS_CODES,
 * KIND_NAMES, ACTIVATION_BOUNDS, VERSION). 0 or -1 with an exception set. */
int mts_py_add_constants(PyObject *module);

/* file_error.c: the ModelFileError type (a ValueError), and raising it for
 * a file the C loader rejected, with the loader's detail. Returns NULL. */
PyObject *mts_py_new_file_error_type(void);
PyObject *mts_py_raise_file_error(PyObject *type, mts_status status,
                                  const mts_file_error *detail);

/* products.c: the product variants the binding offers: the kernels'
 * entries this CPU runs (`requires`, mtsrnn/gemm.h), the float view
 * followed by the benchmarks' host peers (cmsis_peer.c). Built once at
 * module init by mts_py_build_products (0, or -1 out of memory). */
#include "mtsrnn/gemm.h"

typedef struct mts_py_products {
    mts_gemm_f32_variant *f32;      /* kernel entries, then the host peers */
    size_t f32_count, kernel_f32_count;
    mts_gemm_i8f32_variant *i8f32;
    size_t i8f32_count;
    mts_gemm_i8i8_variant *i8i8;
    size_t i8i8_count;
} mts_py_products;

extern mts_py_products mts_py_runnable;
int mts_py_build_products(void);
/* products() -> {"float32" | "int8-w" | "int8-wa": ((name, summary,
 * requires, runs), ...)}: every entry built, the CPU features it needs (a
 * mask of feature bits, mtsrnn/gemm.h) and whether this CPU runs it. */
PyObject *mts_py_products_detail(PyObject *module, PyObject *unused);
/* cpu_features() -> {name: (mask, present)} for every feature mts_cpu_feature_name names. */
PyObject *mts_py_cpu_features(PyObject *module, PyObject *unused);

#endif /* MTSRNN_HOST_BINDING_H */
