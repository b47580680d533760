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

#endif /* MTSRNN_HOST_BINDING_H */
