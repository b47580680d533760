/* ModelFileError: a model file the C loader rejects, with the loader's
 * detail (mts_file_error) as attributes and in its message. */
#include "binding.h"

#include <stdint.h>

/* Raised for a model file the C loader rejects (a ValueError). args stay
 * (mts_status_str text, code); .status (code), .status_name ("MTS_ERR_..."),
 * .detail (mts_file_error as a dict, None for absent values) and .message
 * (one line: mts_file_error_text, what str() gives) say more. */
static PyObject *ModelFileError_str(PyObject *self)
{
    PyObject *message = PyObject_GetAttrString(self, "message");
    if (message != NULL && PyUnicode_Check(message))
        return message;
    Py_XDECREF(message);
    PyErr_Clear();
    return ((PyTypeObject *)PyExc_ValueError)->tp_str(self);
}

static PyType_Slot model_file_error_slots[] = {
    {Py_tp_str, (void *)ModelFileError_str},
    {Py_tp_doc, (void *)"A model file rejected by the C loader (mts_file_load); "
                        "args = (description, mts_status code)."},
    {0, NULL},
};

static PyType_Spec model_file_error_spec = {
    "mtsrnn._core.ModelFileError", 0, 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    model_file_error_slots,
};

/* Python's value of a detail member: None when the loader set none. */
static PyObject *index_or_none(int present, unsigned long long value)
{
    if (!present)
        Py_RETURN_NONE;
    return PyLong_FromUnsignedLongLong(value);
}

static PyObject *detail_dict(const mts_file_error *e)
{
    PyObject *shape = e->shape_ndim == 1   ? Py_BuildValue("(K)", e->shape[0])
                      : e->shape_ndim == 2 ? Py_BuildValue("(KK)", e->shape[0], e->shape[1])
                                           : Py_NewRef(Py_None);
    if (shape == NULL)
        return NULL;
    return Py_BuildValue(
        "{sNsNsNsNsNsNsNsN}", "cell", index_or_none(e->cell != 0, e->cell), "layer", index_or_none(e->layer != MTS_FILE_NO_INDEX, e->layer),
        "tensor", index_or_none(e->tensor != MTS_FILE_NO_INDEX, e->tensor), "kind",
        index_or_none(e->kind != 0, e->kind), "field",
        e->field[0] ? PyUnicode_FromString(e->field) : Py_NewRef(Py_None), "found",
        index_or_none(e->has & MTS_FILE_ERROR_FOUND, e->found), "expected",
        index_or_none(e->has & MTS_FILE_ERROR_EXPECTED, e->expected), "shape", shape);
}

PyObject *mts_py_raise_file_error(PyObject *type, mts_status status,
                                  const mts_file_error *detail)
{
    char message[320];
    mts_file_error_text(status, detail, message, sizeof message);
    PyObject *error = PyObject_CallFunction(type, "si", mts_status_str(status),
                                            (int)status);
    if (error == NULL)
        return NULL;
    PyObject *values[4] = {PyLong_FromLong((long)status),
                           PyUnicode_FromString(mts_status_name(status)), detail_dict(detail),
                           PyUnicode_FromString(message)};
    static const char *const names[4] = {"status", "status_name", "detail", "message"};
    int failed = 0;
    for (size_t i = 0; i < 4; i++) {
        failed |= values[i] == NULL || PyObject_SetAttrString(error, names[i], values[i]) < 0;
        Py_XDECREF(values[i]);
    }
    if (!failed)
        PyErr_SetObject(type, error);
    Py_DECREF(error);
    return NULL;
}

PyObject *mts_py_new_file_error_type(void)
{
    return PyType_FromSpecWithBases(&model_file_error_spec, PyExc_ValueError);
}
