/* The module's constants: everything the Python package needs to know of
 * the kernels and the file format comes from the C headers through here, so
 * each value is defined once. */
#include "binding.h"

#include <stdint.h>

#include "mtsrnn/activation.h"
#include "mtsrnn/model.h"

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
        MTS_BOUND(LOGF_MAX_ABS_ERR),      MTS_BOUND(LOGF_MAX_REL_ERR),
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

/* The kernels' constants, defined once in their headers: limits, the file
 * format, the layer options' enum values, tensor kinds and dtypes. */
static int add_limits_and_enums(PyObject *module)
{
#define C(name) {#name, (long)MTS_##name}
    static const struct {
        const char *name;
        long value;
    } constants[] = {
        C(MAX_DIM), C(MAX_LAYERS), C(MAX_STAGES), C(MAX_WINDOW), C(I8_MAX_DEPTH),
        C(FILE_VERSION_MAJOR), C(FILE_VERSION_MINOR), C(FILE_HEADER_SIZE),
        C(FILE_STAGES_VERSION_MAJOR), C(FILE_STAGES_VERSION_MINOR),
        C(FILE_STAGE_RECORD_SIZE), C(FILE_MAX_KINDS),
        C(STAGE_SRU), C(STAGE_QRNN), C(STAGE_NORM), C(STAGE_DENSE), C(STAGE_SOFTMAX),
        C(STAGE_MINGRU), C(STAGE_MINLSTM), C(STAGE_INDRNN), C(MINGRU_GATES), C(MINLSTM_GATES),
        C(INDRNN_RELU), C(INDRNN_TANH),
        C(MIN_KIND_WEIGHT), C(MIN_KIND_WEIGHT_OUT), C(MIN_KIND_WEIGHT_SCALE),
        C(MIN_KIND_WEIGHT_OUT_SCALE), C(MIN_KINDS),
        C(INDRNN_KIND_WEIGHT), C(INDRNN_KIND_BIAS), C(INDRNN_KIND_WEIGHT_SCALE),
        C(INDRNN_KIND_WEIGHT_HH), C(INDRNN_KINDS),
        C(NORM_MODE_AFFINE), C(NORM_MODE_LAYER),
        C(DENSE_IDENTITY), C(DENSE_RELU), C(DENSE_TANH), C(DENSE_SIGMOID),
        C(NORM_KIND_WEIGHT), C(NORM_KIND_BIAS), C(NORM_KINDS),
        C(DENSE_KIND_WEIGHT), C(DENSE_KIND_BIAS), C(DENSE_KIND_WEIGHT_SCALE), C(DENSE_KINDS),
        C(FILE_LAYER_RECORD_SIZE), C(FILE_TENSOR_RECORD_SIZE), C(FILE_DATA_ALIGNMENT),
        C(FILE_CRC_OFFSET), C(FILE_BYTE_ORDER_MARK), C(LOAD_SKIP_CRC),
        C(CELL_SRU), C(CELL_QRNN),
        C(ACTIVATION_IDENTITY), C(ACTIVATION_TANH),
        C(SKIP_NONE), C(SKIP_SCALED_INPUT), C(SKIP_PROJECTED),
        C(NORM_NONE), C(NORM_BEFORE), C(NORM_AFTER),
        C(QUANT_NONE), C(QUANT_INT8_W), C(QUANT_INT8_WA),
        C(SRU_KIND_WEIGHT), C(SRU_KIND_WEIGHT_PROJ), C(SRU_KIND_WEIGHT_C), C(SRU_KIND_BIAS),
        C(SRU_KIND_NORM_WEIGHT), C(SRU_KIND_NORM_BIAS), C(SRU_KIND_WEIGHT_SCALE),
        C(SRU_KIND_WEIGHT_PROJ_SCALE), C(SRU_KINDS),
        C(QRNN_KIND_WEIGHT), C(QRNN_KIND_BIAS), C(QRNN_KIND_WEIGHT_SCALE), C(QRNN_KINDS),
        {"DTYPE_F32", MTS_FILE_DTYPE_F32}, {"DTYPE_I8", MTS_FILE_DTYPE_I8},
    };
#undef C
    for (size_t i = 0; i < sizeof constants / sizeof constants[0]; i++)
        if (PyModule_AddIntConstant(module, constants[i].name, constants[i].value) < 0)
            return -1;
    return PyModule_AddStringConstant(module, "VERSION", MTSRNN_VERSION);
}

/* STATUS_CODES {"MTS_ERR_...": code} from the kernels' one table
 * (mts_status_name; the codes have no gaps), and KIND_NAMES {cell: {kind:
 * name}} from mts_file_kind_name. */
static int add_tables(PyObject *module)
{
    PyObject *codes = PyDict_New(), *kinds = PyDict_New();
    int failed = codes == NULL || kinds == NULL;
    for (int code = 0; !failed && mts_status_name((mts_status)code) != NULL; code++) {
        PyObject *value = PyLong_FromLong(code);
        failed = value == NULL ||
                 PyDict_SetItemString(codes, mts_status_name((mts_status)code), value) < 0;
        Py_XDECREF(value);
    }
    const uint32_t cells[][2] = {{MTS_STAGE_SRU, MTS_SRU_KINDS},
                                 {MTS_STAGE_QRNN, MTS_QRNN_KINDS},
                                 {MTS_STAGE_NORM, MTS_NORM_KINDS},
                                 {MTS_STAGE_DENSE, MTS_DENSE_KINDS},
                                 {MTS_STAGE_MINGRU, MTS_MIN_KINDS},
                                 {MTS_STAGE_MINLSTM, MTS_MIN_KINDS},
                                 {MTS_STAGE_INDRNN, MTS_INDRNN_KINDS}};
    for (size_t c = 0; c < sizeof cells / sizeof cells[0] && !failed; c++) {
        PyObject *names = PyDict_New(), *cell = PyLong_FromUnsignedLong(cells[c][0]);
        failed = names == NULL || cell == NULL || PyDict_SetItem(kinds, cell, names) < 0;
        for (uint32_t kind = 1; kind <= cells[c][1] && !failed; kind++) {
            PyObject *key = PyLong_FromUnsignedLong(kind);
            PyObject *name = PyUnicode_FromString(mts_file_kind_name(cells[c][0], kind));
            failed = key == NULL || name == NULL || PyDict_SetItem(names, key, name) < 0;
            Py_XDECREF(key);
            Py_XDECREF(name);
        }
        Py_XDECREF(names);
        Py_XDECREF(cell);
    }
    if (!failed)
        failed = PyModule_AddObjectRef(module, "STATUS_CODES", codes) < 0 ||
                 PyModule_AddObjectRef(module, "KIND_NAMES", kinds) < 0;
    Py_XDECREF(codes);
    Py_XDECREF(kinds);
    return failed ? -1 : 0;
}

int mts_py_add_constants(PyObject *module)
{
    if (add_activation_bounds(module) < 0 || add_limits_and_enums(module) < 0 ||
        add_tables(module) < 0)
        return -1;
    return 0;
}
