/* The product variants the binding offers, and why (binding.h).
 *
 * An x86-64 build carries every x86 product (kernels/src/isa.h); the ones
 * this CPU cannot run are left out of the views built here at module init,
 * so every name and index Python sees runs on this machine. products()
 * reports every built entry with the features it needs, for
 * `mtsrnn.product_choice()` and `mtsrnn inspect`.
 */
#include "binding.h"

#include <string.h>

#include "cmsis_peer.h"
#include "mtsrnn/gemm.h"

mts_py_products mts_py_runnable;

/* Copy the entries of `table` (count entries of `size` bytes, `requires`
 * at byte `offset`) that this CPU runs to a new PyMem array at *out. */
static int runnable_copy(const void *table, size_t count, size_t size, size_t offset,
                         size_t extra, void **out, size_t *out_count)
{
    char *copy = PyMem_Calloc(count + extra + 1u, size);
    if (copy == NULL)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        const char *entry = (const char *)table + i * size;
        uint32_t requires;
        memcpy(&requires, entry + offset, sizeof requires);
        if (mts_cpu_supports(requires))
            memcpy(copy + n++ * size, entry, size);
    }
    *out = copy;
    *out_count = n;
    return 0;
}

int mts_py_build_products(void)
{
    mts_py_products *p = &mts_py_runnable;
    void *f32, *i8f32, *i8i8;
    if (runnable_copy(mts_gemm_f32_variants, mts_gemm_f32_variant_count,
                      sizeof(mts_gemm_f32_variant), offsetof(mts_gemm_f32_variant, requires),
                      mts_host_gemm_variant_count, &f32, &p->f32_count) < 0 ||
        runnable_copy(mts_gemm_i8f32_variants, mts_gemm_i8f32_variant_count,
                      sizeof(mts_gemm_i8f32_variant), offsetof(mts_gemm_i8f32_variant, requires),
                      0, &i8f32, &p->i8f32_count) < 0 ||
        runnable_copy(mts_gemm_i8i8_variants, mts_gemm_i8i8_variant_count,
                      sizeof(mts_gemm_i8i8_variant), offsetof(mts_gemm_i8i8_variant, requires),
                      0, &i8i8, &p->i8i8_count) < 0)
        return -1;
    p->f32 = f32;
    p->i8f32 = i8f32;
    p->i8i8 = i8i8;
    /* The benchmarks' host peers after the kernels' (they run anywhere). */
    p->kernel_f32_count = p->f32_count;
    for (size_t i = 0; i < mts_host_gemm_variant_count; i++)
        p->f32[p->f32_count++] = mts_host_gemm_variants[i];
    return 0;
}

/* ((name, summary, requires, runs), ...) of a whole kernel table. */
#define TABLE_TUPLE(table, count)                                                        \
    do {                                                                                 \
        PyObject *tuple = PyTuple_New((Py_ssize_t)(count));                              \
        if (tuple == NULL)                                                               \
            goto fail;                                                                   \
        for (size_t i = 0; i < (count); i++) {                                           \
            PyObject *entry = Py_BuildValue("(ssIO)", (table)[i].name, (table)[i].summary, \
                                            (unsigned)(table)[i].requires,               \
                                            mts_cpu_supports((table)[i].requires)        \
                                                ? Py_True : Py_False);                   \
            if (entry == NULL) {                                                         \
                Py_DECREF(tuple);                                                        \
                goto fail;                                                               \
            }                                                                            \
            PyTuple_SET_ITEM(tuple, (Py_ssize_t)i, entry);                               \
        }                                                                                \
        tables[filled++] = tuple;                                                        \
    } while (0)

PyObject *mts_py_products_detail(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    PyObject *tables[3] = {NULL, NULL, NULL};
    int filled = 0;
    TABLE_TUPLE(mts_gemm_f32_variants, mts_gemm_f32_variant_count);
    TABLE_TUPLE(mts_gemm_i8f32_variants, mts_gemm_i8f32_variant_count);
    TABLE_TUPLE(mts_gemm_i8i8_variants, mts_gemm_i8i8_variant_count);
    return Py_BuildValue("{sNsNsN}", "float32", tables[0], "int8-w", tables[1], "int8-wa",
                         tables[2]);
fail:
    while (filled > 0)
        Py_DECREF(tables[--filled]);
    return NULL;
}

PyObject *mts_py_cpu_features(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    static const struct {
        const char *name;
        uint32_t bit;
    } names[] = {
        {"avx2", MTS_CPU_AVX2},         {"fma", MTS_CPU_FMA},
        {"avx512f", MTS_CPU_AVX512F},   {"avx512bw", MTS_CPU_AVX512BW},
        {"avx512vl", MTS_CPU_AVX512VL}, {"avx512vnni", MTS_CPU_AVX512VNNI},
        {"dotprod", MTS_CPU_DOTPROD},
    };
    PyObject *dict = PyDict_New();
    if (dict == NULL)
        return NULL;
    const uint32_t have = mts_cpu_features();
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        PyObject *value = Py_BuildValue("(IO)", (unsigned)names[i].bit,
                                        (have & names[i].bit) ? Py_True : Py_False);
        if (value == NULL || PyDict_SetItemString(dict, names[i].name, value) < 0) {
            Py_XDECREF(value);
            Py_DECREF(dict);
            return NULL;
        }
        Py_DECREF(value);
    }
    return dict;
}
