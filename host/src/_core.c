/* mtsrnn._core: the thin binding between the Python package and the kernels.
 *
 * Python (mtsrnn/model.py) validates shapes and dtypes and gives clear
 * messages; this file checks again what the C code relies on (buffer
 * formats and element counts, as reported by the kernels themselves), holds
 * the weight buffers for the lifetime of a model, and turns status codes
 * into exceptions. Arrays travel through the buffer protocol, so NumPy is not
 * needed at build time.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <string.h>

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

/* Raised for a model file the C loader rejects; .status is the mts_status. */
static PyObject *ModelFileError;

/* ---- Model ------------------------------------------------------------ */

typedef struct {
    PyObject_HEAD
    mts_model model;
    void *layers;           /* mts_sru_layer[] or mts_qrnn_layer[] (PyMem) */
    Py_buffer *views;       /* the weight buffers this model points into */
    size_t num_views;
    size_t input_size, output_size, state_floats;
} CoreModel;

static void CoreModel_dealloc(CoreModel *self)
{
    for (size_t i = 0; i < self->num_views; i++)
        PyBuffer_Release(&self->views[i]);
    PyMem_Free(self->views);
    PyMem_Free(self->layers);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Point *array at obj's data (count floats, or None when count is 0). */
static int hold_array(CoreModel *self, PyObject *obj, size_t count, const float **array,
                      const char *what, Py_ssize_t layer, int optional)
{
    char name[96];
    PyOS_snprintf(name, sizeof name, "layer %zd %s", layer, what);
    if (obj == Py_None) {
        if (count == 0 || optional) {
            *array = NULL;
            return 0;
        }
        PyErr_Format(PyExc_ValueError, "%s is required (%zu floats)", name, count);
        return -1;
    }
    if (count == 0) {
        PyErr_Format(PyExc_ValueError, "%s must be None for this configuration", name);
        return -1;
    }
    Py_buffer *view = &self->views[self->num_views];
    if (get_floats(obj, view, count, 0, name) != 0)
        return -1;
    self->num_views++;
    *array = (const float *)view->buf;
    return 0;
}

static PyTypeObject CoreModelType;

static CoreModel *new_model(Py_ssize_t num_layers, size_t layer_bytes, size_t views_per_layer)
{
    CoreModel *self = PyObject_New(CoreModel, &CoreModelType);
    if (self == NULL)
        return NULL;
    self->layers = PyMem_Calloc((size_t)num_layers, layer_bytes);
    self->views = PyMem_Calloc((size_t)num_layers * views_per_layer, sizeof(Py_buffer));
    self->num_views = 0;
    if (self->layers == NULL || self->views == NULL) {
        Py_DECREF(self);
        return (CoreModel *)PyErr_NoMemory();
    }
    return self;
}

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

/* Sizes arrive as Py_ssize_t (overflow-checked by PyArg_ParseTuple) and
 * must fit the descriptors' uint32_t fields; the kernels check the rest. */
static int to_u32(Py_ssize_t value, uint32_t *out, const char *what, Py_ssize_t layer)
{
    if (value < 0 || (size_t)value > UINT32_MAX) {
        PyErr_Format(PyExc_ValueError, "layer %zd: %s must be in [0, 2**32), got %zd", layer,
                     what, value);
        return -1;
    }
    *out = (uint32_t)value;
    return 0;
}

static int check_layer_list(PyObject *layers)
{
    if (!PyList_Check(layers) || PyList_GET_SIZE(layers) < 1 ||
        PyList_GET_SIZE(layers) > (Py_ssize_t)MTS_MAX_LAYERS) {
        PyErr_Format(PyExc_ValueError, "layers must be a list of 1 to %u layer tuples",
                     MTS_MAX_LAYERS);
        return -1;
    }
    return 0;
}

/* sru_model(layers): each layer a tuple
 *   (input_size, hidden_size, num_directions, projection_size, activation,
 *    skip, norm, scale_x, norm_eps, weight, weight_proj, weight_c, bias,
 *    norm_weight, norm_bias)
 * in the kernel layout of mtsrnn/sru.h (arrays: float32 buffers or None). */
static PyObject *core_sru_model(PyObject *module, PyObject *layers)
{
    (void)module;
    if (check_layer_list(layers) != 0)
        return NULL;
    const Py_ssize_t num_layers = PyList_GET_SIZE(layers);
    CoreModel *self = new_model(num_layers, sizeof(mts_sru_layer), 6);
    if (self == NULL)
        return NULL;
    mts_sru_layer *sru = self->layers;
    for (Py_ssize_t l = 0; l < num_layers; l++) {
        Py_ssize_t n, d, dirs, proj;
        unsigned char act, skip, norm;
        float scale_x, eps;
        PyObject *weight, *weight_proj, *weight_c, *bias, *norm_weight, *norm_bias;
        if (!PyArg_ParseTuple(PyList_GET_ITEM(layers, l), "nnnnbbbffOOOOOO;SRU layer tuple",
                              &n, &d, &dirs, &proj, &act, &skip, &norm, &scale_x, &eps,
                              &weight, &weight_proj, &weight_c, &bias, &norm_weight,
                              &norm_bias))
            goto fail;
        mts_sru_layer *layer = &sru[l];
        if (to_u32(n, &layer->input_size, "input_size", l) ||
            to_u32(d, &layer->hidden_size, "hidden_size", l) ||
            to_u32(dirs, &layer->num_directions, "num_directions", l) ||
            to_u32(proj, &layer->projection_size, "projection_size", l))
            goto fail;
        layer->activation = act;
        layer->skip = skip;
        layer->norm = norm;
        layer->scale_x = scale_x;
        layer->norm_eps = eps;
        mts_sru_array_sizes sizes;
        const mts_status status = mts_sru_layer_array_sizes(layer, &sizes);
        if (status != MTS_OK) {
            char context[48];
            PyOS_snprintf(context, sizeof context, "SRU layer %zd", l);
            status_error(status, context);
            goto fail;
        }
        if (hold_array(self, weight, sizes.weight, &layer->weight, "weight", l, 0) ||
            hold_array(self, weight_proj, sizes.weight_proj, &layer->weight_proj,
                       "weight_proj", l, 0) ||
            hold_array(self, weight_c, sizes.weight_c, &layer->weight_c, "weight_c", l, 1) ||
            hold_array(self, bias, sizes.bias, &layer->bias, "bias", l, 0) ||
            hold_array(self, norm_weight, sizes.norm_weight, &layer->norm_weight,
                       "norm_weight", l, 0) ||
            hold_array(self, norm_bias, sizes.norm_bias, &layer->norm_bias, "norm_bias", l, 0))
            goto fail;
    }
    self->model.cell = MTS_CELL_SRU;
    self->model.num_layers = (uint32_t)num_layers;
    self->model.sru = sru;
    self->model.qrnn = NULL;
    return finish_model(self);
fail:
    Py_DECREF(self);
    return NULL;
}

/* qrnn_model(layers): each layer a tuple
 *   (input_size, hidden_size, window, input_gate, output_gate, zoneout,
 *    weight, bias)   in the layout of mtsrnn/qrnn.h. */
static PyObject *core_qrnn_model(PyObject *module, PyObject *layers)
{
    (void)module;
    if (check_layer_list(layers) != 0)
        return NULL;
    const Py_ssize_t num_layers = PyList_GET_SIZE(layers);
    CoreModel *self = new_model(num_layers, sizeof(mts_qrnn_layer), 2);
    if (self == NULL)
        return NULL;
    mts_qrnn_layer *qrnn = self->layers;
    for (Py_ssize_t l = 0; l < num_layers; l++) {
        Py_ssize_t n, hidden, window;
        unsigned char input_gate, output_gate;
        float zoneout;
        PyObject *weight, *bias;
        if (!PyArg_ParseTuple(PyList_GET_ITEM(layers, l), "nnnbbfOO;QRNN layer tuple", &n,
                              &hidden, &window, &input_gate, &output_gate, &zoneout, &weight,
                              &bias))
            goto fail;
        mts_qrnn_layer *layer = &qrnn[l];
        if (to_u32(n, &layer->input_size, "input_size", l) ||
            to_u32(hidden, &layer->hidden_size, "hidden_size", l) ||
            to_u32(window, &layer->window, "window", l))
            goto fail;
        layer->input_gate = input_gate;
        layer->output_gate = output_gate;
        layer->zoneout = zoneout;
        mts_qrnn_array_sizes sizes;
        const mts_status status = mts_qrnn_layer_array_sizes(layer, &sizes);
        if (status != MTS_OK) {
            char context[48];
            PyOS_snprintf(context, sizeof context, "QRNN layer %zd", l);
            status_error(status, context);
            goto fail;
        }
        if (hold_array(self, weight, sizes.weight, &layer->weight, "weight", l, 0) ||
            hold_array(self, bias, sizes.bias, &layer->bias, "bias", l, 0))
            goto fail;
    }
    self->model.cell = MTS_CELL_QRNN;
    self->model.num_layers = (uint32_t)num_layers;
    self->model.sru = NULL;
    self->model.qrnn = qrnn;
    return finish_model(self);
fail:
    Py_DECREF(self);
    return NULL;
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

/* forward(x, seq_len, state, h, block, gemm_index): runs the kernels; state
 * is updated in place, h written. The GIL is released while they run. */
static PyObject *CoreModel_forward(CoreModel *self, PyObject *args)
{
    PyObject *x_obj, *seq_len_obj, *state_obj, *h_obj, *block_obj;
    Py_ssize_t gemm_index;
    size_t seq_len, block, x_count, h_count, workspace_bytes;
    if (!PyArg_ParseTuple(args, "OOOOOn", &x_obj, &seq_len_obj, &state_obj, &h_obj,
                          &block_obj, &gemm_index) ||
        parse_size(seq_len_obj, &seq_len, "seq_len") || parse_size(block_obj, &block, "block"))
        return NULL;
    if (block == 0)
        return PyErr_Format(PyExc_ValueError, "block must be >= 1, got 0");
    if (gemm_index < 0 || (size_t)gemm_index >= mts_gemm_f32_variant_count)
        return PyErr_Format(PyExc_ValueError, "gemm variant index must be in [0, %zu), got %zd",
                            mts_gemm_f32_variant_count, gemm_index);
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
        const mts_run_options options = {block, mts_gemm_f32_variants[gemm_index].fn};
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
    {"forward", (PyCFunction)CoreModel_forward, METH_VARARGS,
     "forward(x, seq_len, state, h, block, gemm_index): run the kernels"},
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

/* load_file(data, skip_crc=False) -> Model: the device loader (mts_file_load)
 * run on an .mts image; the model uses the weights in place in `data`, whose
 * buffer it holds. */
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
    self->num_views = 0;
    self->views = PyMem_Calloc(1, sizeof(Py_buffer));
    if (self->views == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    if (PyObject_GetBuffer(data_obj, &self->views[0], PyBUF_C_CONTIGUOUS) != 0) {
        Py_DECREF(self);
        return NULL;
    }
    self->num_views = 1;
    const void *data = self->views[0].buf;
    const size_t size = (size_t)self->views[0].len;
    size_t bytes;
    mts_status status = mts_file_descriptor_size(data, size, &bytes);
    if (status == MTS_OK) {
        self->layers = PyMem_Malloc(bytes);
        if (self->layers == NULL) {
            Py_DECREF(self);
            return PyErr_NoMemory();
        }
        status = mts_file_load(data, size, skip_crc ? MTS_LOAD_SKIP_CRC : 0u, self->layers,
                               bytes, &self->model);
    }
    if (status != MTS_OK) {
        PyObject *error = Py_BuildValue("(si)", mts_status_str(status), (int)status);
        if (error != NULL) {
            PyErr_SetObject(ModelFileError, error);
            Py_DECREF(error);
        }
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

static PyObject *core_gemm_variants(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    PyObject *names = PyTuple_New((Py_ssize_t)mts_gemm_f32_variant_count);
    if (names == NULL)
        return NULL;
    for (size_t i = 0; i < mts_gemm_f32_variant_count; i++) {
        PyObject *entry = Py_BuildValue("(ss)", mts_gemm_f32_variants[i].name,
                                        mts_gemm_f32_variants[i].summary);
        if (entry == NULL) {
            Py_DECREF(names);
            return NULL;
        }
        PyTuple_SET_ITEM(names, (Py_ssize_t)i, entry);
    }
    return names;
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

static PyMethodDef core_methods[] = {
    {"load_file", core_load_file, METH_VARARGS,
     "load_file(data, skip_crc=False) -> Model, validated by the C loader, weights in place"},
    {"status_str", core_status_str, METH_O, "status_str(code) -> description"},
    {"sru_model", core_sru_model, METH_O, "sru_model(layers) -> Model"},
    {"qrnn_model", core_qrnn_model, METH_O, "qrnn_model(layers) -> Model"},
    {"gemm_variants", core_gemm_variants, METH_NOARGS,
     "gemm_variants() -> ((name, summary), ...), the default first"},
    {"vexpf", core_vexpf, METH_VARARGS, "vexpf(x, out): out = exp(x), float32"},
    {"vsigmoidf", core_vsigmoidf, METH_VARARGS, "vsigmoidf(x, out): out = sigmoid(x)"},
    {"vtanhf", core_vtanhf, METH_VARARGS, "vtanhf(x, out): out = tanh(x)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT, "_core", "mtsrnn kernels binding", -1, core_methods,
    NULL, NULL, NULL, NULL,
};

/* The activations' stated error bounds (mtsrnn/activation.h), keyed by the
 * macro name without MTS_, so the Python tests check against the header. */
static int add_activation_bounds(PyObject *module)
{
#define MTS_BOUND(name) {#name, MTS_##name}
    static const struct {
        const char *name;
        double value;
    } bounds[] = {
        MTS_BOUND(EXPF_MAX_REL_ERR),      MTS_BOUND(EXPF_MAX_SUBNORMAL_ABS_ERR),
        MTS_BOUND(EXPF_MAX_ULP_ERR),      MTS_BOUND(SIGMOIDF_MAX_REL_ERR),
        MTS_BOUND(SIGMOIDF_MAX_SUBNORMAL_ABS_ERR), MTS_BOUND(SIGMOIDF_MAX_ABS_ERR),
        MTS_BOUND(SIGMOIDF_MAX_ULP_ERR),  MTS_BOUND(TANHF_MAX_REL_ERR),
        MTS_BOUND(TANHF_MAX_ABS_ERR),     MTS_BOUND(TANHF_MAX_ULP_ERR),
        MTS_BOUND(RSQRTF_MAX_REL_ERR),    MTS_BOUND(RSQRTF_MAX_ULP_ERR),
    };
#undef MTS_BOUND
    PyObject *dict = PyDict_New();
    if (dict == NULL)
        return -1;
    for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++) {
        PyObject *value = PyFloat_FromDouble(bounds[i].value);
        if (value == NULL || PyDict_SetItemString(dict, bounds[i].name, value) < 0) {
            Py_XDECREF(value);
            Py_DECREF(dict);
            return -1;
        }
        Py_DECREF(value);
    }
    const int status = PyModule_AddObjectRef(module, "ACTIVATION_BOUNDS", dict);
    Py_DECREF(dict);
    return status;
}

PyMODINIT_FUNC PyInit__core(void)
{
    if (PyType_Ready(&CoreModelType) < 0)
        return NULL;
    PyObject *module = PyModule_Create(&core_module);
    if (module == NULL)
        return NULL;
    ModelFileError = PyErr_NewExceptionWithDoc(
        "mtsrnn._core.ModelFileError",
        "A model file rejected by the C loader; args = (description, mts_status code).",
        PyExc_ValueError, NULL);
    if (ModelFileError == NULL || PyModule_AddObjectRef(module, "ModelFileError",
                                                         ModelFileError) < 0 ||
        add_activation_bounds(module) < 0 ||
        PyModule_AddIntConstant(module, "MAX_DIM", MTS_MAX_DIM) < 0 ||
        PyModule_AddIntConstant(module, "MAX_LAYERS", MTS_MAX_LAYERS) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
