/* mtsrnn._core: the thin binding between the Python package and the kernels.
 *
 * A model reaches the kernels as an .mts image through the C loader
 * (load_file: mts_file_load validates it, the model uses its weights in
 * place), so that the host and a device judge a file by one set of checks.
 * This file checks what the C code relies on (buffer formats and element
 * counts, as reported by the kernels themselves), holds the buffers for the
 * lifetime of a model, turns status codes into exceptions and exports the
 * kernels' constants. Arrays travel through the buffer protocol, so NumPy is
 * not needed at build time. Beside it: the module's constants
 * (constants.c), ModelFileError (file_error.c), and the benchmarks'
 * CMSIS-DSP peer and bandwidth probe (cmsis_peer.c, bandwidth_probe.c).
 */
#include "binding.h"

#include <stdint.h>
#include <string.h>

#include "bandwidth_probe.h"
#include "cmsis_peer.h"
#include "mtsrnn/activation.h"
#include "mtsrnn/file.h"
#include "mtsrnn/gemm.h"
#include "mtsrnn/model.h"

/* ---- buffers ---------------------------------------------------------- */

/* Whether a buffer holds native float32 items. */
static int is_float32(const Py_buffer *view)
{
    const char *format = view->format ? view->format : "B";
    if (format[0] == '@' || format[0] == '=' ||
        format[0] == (PY_LITTLE_ENDIAN ? '<' : '>'))
        format++;
    return view->itemsize == 4 && strcmp(format, "f") == 0;
}

/* Acquire a C-contiguous float32 buffer of exactly `count` items. On failure
 * an exception is set, nothing is held, and -1 is returned. */
static int get_floats(PyObject *obj, Py_buffer *view, size_t count, int writable,
                      const char *what)
{
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) != 0) {
        PyErr_Format(PyExc_ValueError, "%s must be a C-contiguous%s float32 buffer", what,
                     writable ? " writable" : "");
        return -1;
    }
    if (!is_float32(view)) {
        PyErr_Format(PyExc_TypeError, "%s must hold float32 items, got format '%s'", what,
                     view->format ? view->format : "B");
        PyBuffer_Release(view);
        return -1;
    }
    if ((size_t)view->len != count * sizeof(float)) {
        PyErr_Format(PyExc_ValueError, "%s must hold %zu float32 items, got %zd", what, count,
                     view->len / 4);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static PyObject *status_error(mts_status status, const char *context)
{
    PyErr_Format(PyExc_ValueError, "%s: %s (mts_status %d)", context, mts_status_str(status),
                 (int)status);
    return NULL;
}

/* ---- Model ------------------------------------------------------------ */

/* A model loaded from an .mts image (load_file): the descriptors point into
 * the image, which is either the caller's buffer (held) or an aligned copy
 * the model owns. */
typedef struct {
    PyObject_HEAD
    mts_model model;
    void *layers;           /* the loader's descriptor storage (PyMem) */
    Py_buffer image;        /* the caller's buffer, while has_image */
    int has_image;
    void *copy;             /* the 64-byte aligned copy's raw block, or NULL */
    size_t input_size, output_size, state_floats;
} CoreModel;

static void CoreModel_dealloc(CoreModel *self)
{
    if (self->has_image)
        PyBuffer_Release(&self->image);
    PyMem_RawFree(self->copy);
    PyMem_Free(self->layers);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject CoreModelType;

/* Check the assembled model and cache its sizes. */
static PyObject *finish_model(CoreModel *self)
{
    mts_status status = mts_model_io_sizes(&self->model, &self->input_size, &self->output_size);
    if (status == MTS_OK)
        status = mts_model_state_size(&self->model, &self->state_floats);
    if (status != MTS_OK) {
        Py_DECREF(self);
        return status_error(status, "invalid model");
    }
    return (PyObject *)self;
}

static int parse_size(PyObject *obj, size_t *value, const char *what)
{
    const size_t parsed = PyLong_AsSize_t(obj);
    if (parsed == (size_t)-1 && PyErr_Occurred()) {
        PyErr_Format(PyExc_ValueError, "%s must be a non-negative integer that fits in size_t",
                     what);
        return -1;
    }
    *value = parsed;
    return 0;
}

static PyObject *CoreModel_workspace_size(CoreModel *self, PyObject *args)
{
    PyObject *block_obj, *seq_len_obj;
    size_t block, seq_len, bytes;
    if (!PyArg_ParseTuple(args, "OO", &block_obj, &seq_len_obj) ||
        parse_size(block_obj, &block, "block") || parse_size(seq_len_obj, &seq_len, "seq_len"))
        return NULL;
    const mts_status status = mts_model_workspace_size(&self->model, block, seq_len, &bytes);
    if (status != MTS_OK)
        return status_error(status, "workspace size");
    return PyLong_FromSize_t(bytes);
}

static PyObject *CoreModel_stage_workspace_size(CoreModel *self, PyObject *args)
{
    PyObject *stage_obj, *block_obj;
    size_t stage, block, bytes;
    if (!PyArg_ParseTuple(args, "OO", &stage_obj, &block_obj) ||
        parse_size(stage_obj, &stage, "stage") || parse_size(block_obj, &block, "block"))
        return NULL;
    const mts_status status = mts_model_stage_workspace_size(&self->model, stage, block, &bytes);
    if (status != MTS_OK)
        return status_error(status, "stage workspace size");
    return PyLong_FromSize_t(bytes);
}

/* forward(x, seq_len, state, h, block, variant=None): runs the kernels,
 * with the product variant of that name for every weight scheme the model
 * uses (mts_model_select_variant over the binding's float view, products.c;
 * None: each table's default, its first entry this CPU runs); state is
 * updated in place, h written. The GIL is released while they run. */
static PyObject *CoreModel_forward(CoreModel *self, PyObject *args)
{
    PyObject *x_obj, *seq_len_obj, *state_obj, *h_obj, *block_obj, *variant_obj = Py_None;
    size_t seq_len, block, x_count, h_count, workspace_bytes;
    if (!PyArg_ParseTuple(args, "OOOOO|O", &x_obj, &seq_len_obj, &state_obj, &h_obj,
                          &block_obj, &variant_obj) ||
        parse_size(seq_len_obj, &seq_len, "seq_len") || parse_size(block_obj, &block, "block"))
        return NULL;
    if (block == 0)
        return PyErr_Format(PyExc_ValueError, "block must be >= 1, got 0");
    mts_run_options options = {.block = block, .gemm = mts_gemm_f32_default(),
                               .gemm_i8f32 = mts_gemm_i8f32_default(),
                               .gemm_i8i8 = mts_gemm_i8i8_default()};
    if (variant_obj != Py_None) {
        Py_ssize_t length;
        const char *name = PyUnicode_Check(variant_obj)
                               ? PyUnicode_AsUTF8AndSize(variant_obj, &length) : NULL;
        if (name == NULL) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_TypeError, "variant must be a str or None, got %s",
                             Py_TYPE(variant_obj)->tp_name);
            return NULL;
        }
        if (mts_model_select_variant(&self->model, name, (size_t)length, mts_py_runnable.f32,
                                     mts_py_runnable.f32_count, &options, NULL) != MTS_OK)
            return PyErr_Format(PyExc_ValueError,
                                "no product variant %R for this model's weights", variant_obj);
    }
    if (seq_len > PY_SSIZE_T_MAX / sizeof(float) / self->input_size ||
        seq_len > PY_SSIZE_T_MAX / sizeof(float) / self->output_size)
        return PyErr_Format(PyExc_ValueError, "seq_len %zu is too large", seq_len);
    x_count = seq_len * self->input_size;
    h_count = seq_len * self->output_size;
    mts_status status = mts_model_workspace_size(&self->model, block, seq_len, &workspace_bytes);
    if (status != MTS_OK)
        return status_error(status, "workspace size");

    Py_buffer x_view, state_view, h_view;
    if (get_floats(x_obj, &x_view, x_count, 0, "x") != 0)
        return NULL;
    if (get_floats(state_obj, &state_view, self->state_floats, 1, "state") != 0) {
        PyBuffer_Release(&x_view);
        return NULL;
    }
    if (get_floats(h_obj, &h_view, h_count, 1, "h") != 0) {
        PyBuffer_Release(&x_view);
        PyBuffer_Release(&state_view);
        return NULL;
    }
    void *workspace = PyMem_RawMalloc(workspace_bytes);
    if (workspace == NULL) {
        PyErr_Format(PyExc_MemoryError, "cannot allocate a %zu-byte workspace", workspace_bytes);
    } else {
        Py_BEGIN_ALLOW_THREADS
        status = mts_model_forward(&self->model, &options, state_view.buf, self->state_floats,
                                   x_view.buf, seq_len, h_view.buf, workspace,
                                   workspace_bytes);
        Py_END_ALLOW_THREADS
        PyMem_RawFree(workspace);
        if (status != MTS_OK)
            status_error(status, "forward");
    }
    PyBuffer_Release(&x_view);
    PyBuffer_Release(&state_view);
    PyBuffer_Release(&h_view);
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *CoreModel_get_size(CoreModel *self, void *which)
{
    const size_t *fields[] = {&self->input_size, &self->output_size, &self->state_floats};
    return PyLong_FromSize_t(*fields[(Py_ssize_t)which]);
}

static PyMethodDef CoreModel_methods[] = {
    {"workspace_size", (PyCFunction)CoreModel_workspace_size, METH_VARARGS,
     "workspace_size(block, seq_len) -> bytes of kernel workspace for one forward call"},
    {"stage_workspace_size", (PyCFunction)CoreModel_stage_workspace_size, METH_VARARGS,
     "stage_workspace_size(stage, block) -> bytes of the rows that stage needs by itself"},
    {"forward", (PyCFunction)CoreModel_forward, METH_VARARGS,
     "forward(x, seq_len, state, h, block, variant=None): run the kernels"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef CoreModel_getset[] = {
    {"input_size", (getter)CoreModel_get_size, NULL, "input size", (void *)0},
    {"output_size", (getter)CoreModel_get_size, NULL, "output size", (void *)1},
    {"state_floats", (getter)CoreModel_get_size, NULL, "floats of carried state", (void *)2},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject CoreModelType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "mtsrnn._core.Model",
    .tp_basicsize = sizeof(CoreModel),
    .tp_dealloc = (destructor)CoreModel_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A kernel model descriptor holding its weight buffers.",
    .tp_methods = CoreModel_methods,
    .tp_getset = CoreModel_getset,
};

/* ---- model files: the one road from Python into the kernels ----------- */

/* Raised for a model file the C loader rejects (file_error.c). */
static PyObject *ModelFileError;

/* load_file(data, skip_crc=False) -> Model: the device loader
 * (mts_file_load) judges the caller's buffer exactly as a device would (so
 * a buffer that is not 4-byte aligned is rejected); the model then uses the
 * weights in place, holding the buffer. Unless the buffer is 64-byte
 * aligned: the file aligns every tensor to 64 bytes from its start, and the
 * kernels' vector loads of a weight row straddle cache lines unless the
 * rows start on a 64-byte boundary (an AVX-512 product over weights at a
 * 16-byte offset, what malloc and so bytes objects give, ran 1.5x slower:
 * SRU hidden 2048, T = 16). So such a buffer is copied into a 64-byte
 * aligned block the model owns and loaded again from there. */
static PyObject *core_load_file(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *data_obj;
    int skip_crc = 0;
    if (!PyArg_ParseTuple(args, "O|p", &data_obj, &skip_crc))
        return NULL;
    CoreModel *self = PyObject_New(CoreModel, &CoreModelType);
    if (self == NULL)
        return NULL;
    self->layers = NULL;
    self->has_image = 0;
    self->copy = NULL;
    if (PyObject_GetBuffer(data_obj, &self->image, PyBUF_C_CONTIGUOUS) != 0) {
        Py_DECREF(self);
        return NULL;
    }
    self->has_image = 1;
    const void *data = self->image.buf;
    const size_t size = (size_t)self->image.len;
    const uint32_t flags = skip_crc ? MTS_LOAD_SKIP_CRC : 0u;
    mts_file_error detail;
    size_t bytes;
    mts_status status = mts_file_descriptor_size(data, size, &bytes, &detail);
    if (status == MTS_OK) {
        self->layers = PyMem_Malloc(bytes);
        if (self->layers == NULL) {
            Py_DECREF(self);
            return PyErr_NoMemory();
        }
        status = mts_file_load(data, size, flags, self->layers, bytes, &self->model, &detail);
    }
    if (status == MTS_OK && (uintptr_t)data % MTS_FILE_DATA_ALIGNMENT != 0) {
        self->copy = PyMem_RawMalloc(size + MTS_FILE_DATA_ALIGNMENT);
        if (self->copy == NULL) {
            Py_DECREF(self);
            return PyErr_NoMemory();
        }
        void *aligned = (void *)(((uintptr_t)self->copy + MTS_FILE_DATA_ALIGNMENT - 1u) &
                                 ~(uintptr_t)(MTS_FILE_DATA_ALIGNMENT - 1u));
        memcpy(aligned, data, size);
        PyBuffer_Release(&self->image);
        self->has_image = 0;
        /* The same bytes, verified above: the CRC need not be computed again. */
        status = mts_file_load(aligned, size, MTS_LOAD_SKIP_CRC, self->layers, bytes,
                               &self->model, &detail);
    }
    if (status != MTS_OK) {
        mts_py_raise_file_error(ModelFileError, status, &detail);
        Py_DECREF(self);
        return NULL;
    }
    return finish_model(self);
}

static PyObject *core_status_str(PyObject *module, PyObject *arg)
{
    (void)module;
    const long code = PyLong_AsLong(arg);
    if (code == -1 && PyErr_Occurred())
        return NULL;
    return PyUnicode_FromString(mts_status_str((mts_status)code));
}

/* ---- module functions ------------------------------------------------- */

/* ((name, summary), ...) of a variant table. The kernels' tables
 * (mts_gemm_*_variant) and the host peers' all begin their entries with
 * these two strings; VARIANT_TUPLE passes where they are and the entry size. */
static PyObject *variant_tuple(const char *const *name, const char *const *summary,
                               size_t entry_size, size_t count)
{
    PyObject *variants = PyTuple_New((Py_ssize_t)count);
    if (variants == NULL)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        const char *const *name_i =
            (const char *const *)(const void *)((const char *)name + i * entry_size);
        const char *const *summary_i =
            (const char *const *)(const void *)((const char *)summary + i * entry_size);
        PyObject *entry = Py_BuildValue("(ss)", *name_i, *summary_i);
        if (entry == NULL) {
            Py_DECREF(variants);
            return NULL;
        }
        PyTuple_SET_ITEM(variants, (Py_ssize_t)i, entry);
    }
    return variants;
}
#define VARIANT_TUPLE(table, count) \
    variant_tuple(&(table)[0].name, &(table)[0].summary, sizeof (table)[0], (count))

static PyObject *core_gemm_variants(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    return VARIANT_TUPLE(mts_py_runnable.f32, mts_py_runnable.kernel_f32_count);
}

/* host_gemm_variants() -> ((name, summary), ...): the benchmark peers that
 * forward() also runs, at indices after the kernel variants. */
static PyObject *core_host_gemm_variants(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    return VARIANT_TUPLE(mts_host_gemm_variants, mts_host_gemm_variant_count);
}

/* read_words(buffer, passes) -> checksum: reads every whole 64-byte line of
 * a buffer `passes` times (the roofline's read-bandwidth probe; the caller
 * times it). */
static PyObject *core_read_words(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *obj;
    Py_ssize_t passes;
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "On", &obj, &passes))
        return NULL;
    if (passes < 1)
        return PyErr_Format(PyExc_ValueError, "passes must be >= 1, got %zd", passes);
    if (PyObject_GetBuffer(obj, &view, PyBUF_C_CONTIGUOUS) != 0)
        return NULL;
    unsigned long long sum = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t pass = 0; pass < passes; pass++)
        sum += mts_probe_read_lines(view.buf, (size_t)view.len / 64u);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLongLong(sum);
}

/* vexpf / vsigmoidf / vtanhf (x, out): the kernels' activations over arrays. */
static PyObject *apply_activation(PyObject *args, void (*fn)(size_t, const float *, float *))
{
    PyObject *x_obj, *out_obj;
    Py_buffer x_view, out_view;
    if (!PyArg_ParseTuple(args, "OO", &x_obj, &out_obj))
        return NULL;
    if (PyObject_GetBuffer(x_obj, &x_view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) != 0)
        return NULL;
    const size_t count = (size_t)x_view.len / sizeof(float);
    if (!is_float32(&x_view)) {
        PyBuffer_Release(&x_view);
        return PyErr_Format(PyExc_TypeError, "x must hold float32 items");
    }
    if (get_floats(out_obj, &out_view, count, 1, "out") != 0) {
        PyBuffer_Release(&x_view);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    fn(count, x_view.buf, out_view.buf);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&x_view);
    PyBuffer_Release(&out_view);
    Py_RETURN_NONE;
}

static PyObject *core_vexpf(PyObject *module, PyObject *args)
{
    (void)module;
    return apply_activation(args, mts_vexpf);
}

static PyObject *core_vsigmoidf(PyObject *module, PyObject *args)
{
    (void)module;
    return apply_activation(args, mts_vsigmoidf);
}

static PyObject *core_vtanhf(PyObject *module, PyObject *args)
{
    (void)module;
    return apply_activation(args, mts_vtanhf);
}

/* ---- int8 products, for tests against the NumPy integer reference ----- */

/* A C-contiguous int8 buffer of exactly count items. */
static int get_int8(PyObject *obj, Py_buffer *view, size_t count, int writable,
                    const char *what)
{
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) != 0) {
        PyErr_Format(PyExc_ValueError, "%s must be a C-contiguous%s int8 buffer", what,
                     writable ? " writable" : "");
        return -1;
    }
    if (view->itemsize != 1 || view->format == NULL || strcmp(view->format, "b") != 0 ||
        (size_t)view->len != count) {
        PyErr_Format(PyExc_ValueError, "%s must hold %zu int8 items", what, count);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static int check_i8_sizes(Py_ssize_t rows, Py_ssize_t depth, Py_ssize_t steps)
{
    if (rows < 1 || steps < 1 || depth < 1 || rows > (Py_ssize_t)MTS_MAX_DIM ||
        steps > (Py_ssize_t)MTS_MAX_DIM || depth > (Py_ssize_t)MTS_I8_MAX_DEPTH) {
        PyErr_Format(PyExc_ValueError, "rows and steps must be in [1, %u] and depth in "
                     "[1, %u]", MTS_MAX_DIM, MTS_I8_MAX_DEPTH);
        return -1;
    }
    return 0;
}

/* quantize_rows_i8(x, steps, depth, xq, x_scale): mts_quantize_rows_i8 on
 * x (steps x depth float32) into xq (steps x depth int8) and x_scale. */
static PyObject *core_quantize_rows_i8(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *x_obj, *xq_obj, *scale_obj;
    Py_ssize_t steps, depth;
    if (!PyArg_ParseTuple(args, "OnnOO", &x_obj, &steps, &depth, &xq_obj, &scale_obj) ||
        check_i8_sizes(1, depth, steps) != 0)
        return NULL;
    const size_t count = (size_t)steps * (size_t)depth;
    Py_buffer x, xq, scale;
    if (get_floats(x_obj, &x, count, 0, "x") != 0)
        return NULL;
    if (get_int8(xq_obj, &xq, count, 1, "xq") != 0) {
        PyBuffer_Release(&x);
        return NULL;
    }
    if (get_floats(scale_obj, &scale, (size_t)steps, 1, "x_scale") != 0) {
        PyBuffer_Release(&x);
        PyBuffer_Release(&xq);
        return NULL;
    }
    mts_quantize_rows_i8((size_t)steps, (size_t)depth, x.buf, (size_t)depth, xq.buf,
                         (size_t)depth, scale.buf);
    PyBuffer_Release(&x);
    PyBuffer_Release(&xq);
    PyBuffer_Release(&scale);
    Py_RETURN_NONE;
}

/* gemm_i8(scheme, index, rows, depth, steps, wq, w_scale, x, x_scale, y):
 * variant `index` of the int8-w variants this CPU runs (scheme 1: x float32, x_scale
 * None) or of the int8-wa ones (scheme 2: x int8, x_scale float32). */
static PyObject *core_gemm_i8(PyObject *module, PyObject *args)
{
    (void)module;
    int scheme;
    Py_ssize_t index, rows, depth, steps;
    PyObject *wq_obj, *ws_obj, *x_obj, *xs_obj, *y_obj;
    if (!PyArg_ParseTuple(args, "innnnOOOOO", &scheme, &index, &rows, &depth, &steps, &wq_obj,
                          &ws_obj, &x_obj, &xs_obj, &y_obj) ||
        check_i8_sizes(rows, depth, steps) != 0)
        return NULL;
    const size_t count = scheme == MTS_QUANT_INT8_W ? mts_py_runnable.i8f32_count
                                                    : mts_py_runnable.i8i8_count;
    if ((scheme != MTS_QUANT_INT8_W && scheme != MTS_QUANT_INT8_WA) || index < 0 ||
        (size_t)index >= count) {
        PyErr_Format(PyExc_ValueError, "scheme must be 1 or 2 and index in [0, %zu)", count);
        return NULL;
    }
    Py_buffer views[5];
    int held = 0;
    PyObject *result = NULL;
    const size_t r = (size_t)rows, d = (size_t)depth, s = (size_t)steps;
    if (get_int8(wq_obj, &views[held], r * d, 0, "wq") != 0)
        goto done;
    held++;
    if (get_floats(ws_obj, &views[held], r, 0, "w_scale") != 0)
        goto done;
    held++;
    if ((scheme == MTS_QUANT_INT8_W ? get_floats(x_obj, &views[held], s * d, 0, "x")
                                    : get_int8(x_obj, &views[held], s * d, 0, "xq")) != 0)
        goto done;
    held++;
    if (get_floats(y_obj, &views[held], s * r, 1, "y") != 0)
        goto done;
    held++;
    if (scheme == MTS_QUANT_INT8_W) {
        mts_py_runnable.i8f32[index].fn(r, d, s, views[0].buf, d, views[1].buf,
                                          views[2].buf, d, views[3].buf, r);
    } else {
        if (get_floats(xs_obj, &views[held], s, 0, "x_scale") != 0)
            goto done;
        held++;
        mts_py_runnable.i8i8[index].fn(r, d, s, views[0].buf, d, views[1].buf,
                                         views[2].buf, d, views[4].buf, views[3].buf, r);
    }
    result = Py_None;
    Py_INCREF(result);
done:
    while (held > 0)
        PyBuffer_Release(&views[--held]);
    return result;
}

/* gemm_i8_variants() -> (int8-w variants, int8-wa variants), each
 * ((name, summary), ...), defaults first. */
static PyObject *core_gemm_i8_variants(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    return Py_BuildValue(
        "(NN)", VARIANT_TUPLE(mts_py_runnable.i8f32, mts_py_runnable.i8f32_count),
        VARIANT_TUPLE(mts_py_runnable.i8i8, mts_py_runnable.i8i8_count));
}

static PyMethodDef core_methods[] = {
    {"quantize_rows_i8", core_quantize_rows_i8, METH_VARARGS,
     "quantize_rows_i8(x, steps, depth, xq, x_scale): per-step int8 quantisation"},
    {"gemm_i8", core_gemm_i8, METH_VARARGS,
     "gemm_i8(scheme, index, rows, depth, steps, wq, w_scale, x, x_scale, y): int8 product"},
    {"gemm_i8_variants", core_gemm_i8_variants, METH_NOARGS,
     "gemm_i8_variants() -> (int8-w variants, int8-wa variants), each ((name, summary), ...)"},
    {"load_file", core_load_file, METH_VARARGS,
     "load_file(data, skip_crc=False) -> Model, validated by the C loader, weights in place"},
    {"status_str", core_status_str, METH_O, "status_str(code) -> description"},
    {"gemm_variants", core_gemm_variants, METH_NOARGS,
     "gemm_variants() -> ((name, summary), ...) this CPU runs, the default first"},
    {"products", mts_py_products_detail, METH_NOARGS,
     "products() -> {scheme: ((name, summary, requires, runs), ...)}: every product built"},
    {"cpu_features", mts_py_cpu_features, METH_NOARGS,
     "cpu_features() -> {name: (bit, present)}: the CPU features products may require"},
    {"host_gemm_variants", core_host_gemm_variants, METH_NOARGS,
     "host_gemm_variants() -> ((name, summary), ...): benchmark peers, indices after the "
     "kernel variants"},
    {"read_words", core_read_words, METH_VARARGS,
     "read_words(buffer, passes) -> checksum: the read-bandwidth probe (caller times it)"},
    {"vexpf", core_vexpf, METH_VARARGS, "vexpf(x, out): out = exp(x), float32"},
    {"vsigmoidf", core_vsigmoidf, METH_VARARGS, "vsigmoidf(x, out): out = sigmoid(x)"},
    {"vtanhf", core_vtanhf, METH_VARARGS, "vtanhf(x, out): out = tanh(x)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT, "_core", "mtsrnn kernels binding", -1, core_methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__core(void)
{
    if (PyType_Ready(&CoreModelType) < 0)
        return NULL;
    PyObject *module = PyModule_Create(&core_module);
    if (module == NULL)
        return NULL;
    ModelFileError = mts_py_new_file_error_type();
    if (ModelFileError == NULL || PyModule_AddObjectRef(module, "ModelFileError",
                                                         ModelFileError) < 0 ||
        mts_py_add_constants(module) < 0 || mts_py_build_products() < 0) {
        Py_DECREF(module);
        return PyErr_Occurred() ? NULL : PyErr_NoMemory();
    }
    return module;
}
