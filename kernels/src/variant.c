/* Product variants by name (mtsrnn/model.h): the one place that resolves a
 * variant name to the products a model runs, for the device, the binding
 * and Python alike.
 *
 * A model's layers each use the product table of their weights' scheme
 * (docs/quantization.md): float32 layers a float table (the kernels'
 * mts_gemm_f32_variants or the caller's list), int8-w layers
 * mts_gemm_i8f32_variants, int8-wa layers mts_gemm_i8i8_variants. The
 * three entry types differ only in their function's type, so the tables
 * are read through one small switch on the scheme.
 */
#include "internal.h"
#include "mtsrnn/model.h"

#define NUM_SCHEMES 3u

/* The tables a lookup reads: the caller's float table, the kernels' int8
 * ones; and the running CPU's features, which decide which entries exist
 * for it (an entry whose `requires` the CPU lacks is never found). */
typedef struct tables {
    const mts_gemm_f32_variant *f32;
    size_t f32_count;
    uint32_t cpu;
} tables;

static tables tables_of(const mts_gemm_f32_variant *f32_table, size_t f32_count)
{
    tables t;
    t.f32 = f32_table != NULL ? f32_table : mts_gemm_f32_variants;
    t.f32_count = f32_table != NULL ? f32_count : mts_gemm_f32_variant_count;
    t.cpu = mts_cpu_features();
    return t;
}

static size_t table_count(const tables *t, unsigned scheme)
{
    if (scheme == MTS_QUANT_INT8_W)
        return mts_gemm_i8f32_variant_count;
    if (scheme == MTS_QUANT_INT8_WA)
        return mts_gemm_i8i8_variant_count;
    return t->f32_count;
}

/* Entry k's name, or NULL when the running CPU cannot run it. */
static const char *table_name(const tables *t, unsigned scheme, size_t k)
{
    const char *name;
    uint32_t requires;
    if (scheme == MTS_QUANT_INT8_W) {
        name = mts_gemm_i8f32_variants[k].name;
        requires = mts_gemm_i8f32_variants[k].requires;
    } else if (scheme == MTS_QUANT_INT8_WA) {
        name = mts_gemm_i8i8_variants[k].name;
        requires = mts_gemm_i8i8_variants[k].requires;
    } else {
        name = t->f32[k].name;
        requires = t->f32[k].requires;
    }
    return (requires & ~t->cpu) == 0u ? name : NULL;
}

/* A variant name to look up: name_length bytes at text, or (terminated)
 * the NUL-terminated string at text. */
typedef struct key {
    const char *text;
    size_t length;
    int terminated;
} key;

/* Whether a table name is the key (an entry without a name never matches).
 * By hand: the kernels call no libc string functions (a MicroPython native
 * module has none), and a loop that only measures a length would be
 * compiled into a strlen call. */
static int key_is(const char *entry, const key *k)
{
    if (entry == NULL)
        return 0;
    size_t i = 0;
    while ((k->terminated || i < k->length) && entry[i] != '\0' && entry[i] == k->text[i])
        i++;
    return entry[i] == '\0' && (k->terminated ? k->text[i] == '\0' : i == k->length);
}

uint32_t mts_model_schemes(const mts_model *model)
{
    if (model == NULL || model->num_stages > MTS_MAX_STAGES ||
        (model->num_stages > 0u && model->stages == NULL))
        return 0;
    uint32_t mask = 0;
    for (uint32_t s = 0; s < model->num_stages; s++) {
        /* The products of each stage (stage.c), whatever its sizes: the
         * resolver reads their schemes only. */
        mts_stage_info info;
        if (!mtsi_stage_products(&model->stages[s], &info))
            return 0;
        for (uint32_t p = 0; p < info.num_products; p++) {
            if (info.products[p].quant >= NUM_SCHEMES)
                return 0;
            mask |= MTS_SCHEME_BIT(info.products[p].quant);
        }
    }
    return mask;
}

/* Find the key in every table of `schemes` (a non-zero mask): on success
 * fill *found with the entries' products (NULL for the schemes not used)
 * and *canonical with the first table's own string; else return 0. */
static int lookup(const tables *t, uint32_t schemes, const key *name, mts_run_options *found,
                  const char **canonical)
{
    found->gemm = NULL;
    found->gemm_i8f32 = NULL;
    found->gemm_i8i8 = NULL;
    *canonical = NULL;
    for (unsigned scheme = 0; scheme < NUM_SCHEMES; scheme++) {
        if (!(schemes & MTS_SCHEME_BIT(scheme)))
            continue;
        const size_t count = table_count(t, scheme);
        size_t k = 0;
        while (k < count && !key_is(table_name(t, scheme, k), name))
            k++;
        if (k == count)
            return 0;
        if (*canonical == NULL)
            *canonical = table_name(t, scheme, k);
        if (scheme == MTS_QUANT_INT8_W)
            found->gemm_i8f32 = mts_gemm_i8f32_variants[k].fn;
        else if (scheme == MTS_QUANT_INT8_WA)
            found->gemm_i8i8 = mts_gemm_i8i8_variants[k].fn;
        else
            found->gemm = t->f32[k].fn;
    }
    return *canonical != NULL;
}

/* Copy the three products into the caller's options; its block stays. */
static void set_products(mts_run_options *options, const mts_run_options *found)
{
    options->gemm = found->gemm;
    options->gemm_i8f32 = found->gemm_i8f32;
    options->gemm_i8i8 = found->gemm_i8i8;
}

mts_status mts_model_select_variant(const mts_model *model, const char *name,
                                    size_t name_length,
                                    const mts_gemm_f32_variant *f32_table, size_t f32_count,
                                    mts_run_options *options, const char **variant_name)
{
    if (model == NULL || options == NULL || (name == NULL && name_length != 0u))
        return MTS_ERR_NULL_POINTER;
    const uint32_t schemes = mts_model_schemes(model);
    if (schemes == 0u)
        return MTS_ERR_BAD_CONFIG;
    const tables t = tables_of(f32_table, f32_count);
    const key wanted = {name, name_length, 0};
    mts_run_options found;
    const char *canonical;
    if (name_length == 0u || !lookup(&t, schemes, &wanted, &found, &canonical))
        return MTS_ERR_BAD_CONFIG;
    set_products(options, &found);
    if (variant_name != NULL)
        *variant_name = canonical;
    return MTS_OK;
}

const char *mts_model_next_variant(const mts_model *model,
                                   const mts_gemm_f32_variant *f32_table, size_t f32_count,
                                   size_t *position, mts_run_options *options)
{
    if (position == NULL)
        return NULL;
    const uint32_t schemes = mts_model_schemes(model);
    unsigned first = 0;
    while (first < NUM_SCHEMES && !(schemes & MTS_SCHEME_BIT(first)))
        first++;
    if (first == NUM_SCHEMES)
        return NULL;
    const tables t = tables_of(f32_table, f32_count);
    while (*position < table_count(&t, first)) {
        const key name = {table_name(&t, first, (*position)++), 0, 1};
        mts_run_options found;
        const char *canonical;
        if (name.text != NULL && lookup(&t, schemes, &name, &found, &canonical)) {
            if (options != NULL)
                set_products(options, &found);
            return canonical;
        }
    }
    return NULL;
}
