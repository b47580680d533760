/* C tests of the variant resolver (kernels/src/variant.c, mtsrnn/model.h):
 * mts_model_schemes, mts_model_select_variant and mts_model_next_variant
 * against the kernels' tables and a caller's float table, for models of one
 * scheme and models mixing schemes. The resolver reads only the layers'
 * `quant`, so the descriptors here are zeroed layers with a scheme set.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mtsrnn/gemm.h"
#include "mtsrnn/model.h"

#include "check.h"

/* Stand-ins for a caller's own float products; never called. */
/* The product of the kernels' float table called `name` (the tiled product
 * is internal: a user reaches it only through the table). */
static mts_gemm_f32_fn kernels_product(const char *name)
{
    for (size_t i = 0; i < mts_gemm_f32_variant_count; i++)
        if (strcmp(mts_gemm_f32_variants[i].name, name) == 0)
            return mts_gemm_f32_variants[i].fn;
    return NULL;
}

static void product_a(size_t rows, size_t depth, size_t steps, const float *w, size_t w_stride,
                      const float *x, size_t x_stride, float *y, size_t y_stride)
{
    (void)rows, (void)depth, (void)steps, (void)w, (void)w_stride;
    (void)x, (void)x_stride, (void)y, (void)y_stride;
}

static void product_b(size_t rows, size_t depth, size_t steps, const float *w, size_t w_stride,
                      const float *x, size_t x_stride, float *y, size_t y_stride)
{
    product_a(rows, depth, steps, w, w_stride, x, x_stride, y, y_stride);
}

/* A model of up to 3 SRU layers with the given schemes. */
typedef struct fixture {
    mts_stage stages[3];
    mts_model model;
} fixture;

static const mts_model *sru_with(fixture *f, uint32_t num_layers, const unsigned *quant)
{
    memset(f, 0, sizeof *f);
    for (uint32_t l = 0; l < num_layers; l++) {
        f->stages[l].kind = MTS_STAGE_SRU;
        f->stages[l].as.sru.quant = (uint8_t)quant[l];
    }
    f->model.num_stages = num_layers;
    f->model.stages = f->stages;
    return &f->model;
}

static size_t name_index(const char *const *names, size_t count, const char *name)
{
    for (size_t k = 0; k < count; k++)
        if (strcmp(names[k], name) == 0)
            return k;
    return count;
}

/* The CPU features entry e of a scheme's kernel table needs. */
static uint32_t entry_requires(unsigned scheme, size_t e)
{
    return scheme == 0u   ? mts_gemm_f32_variants[e].requires
           : scheme == 1u ? mts_gemm_i8f32_variants[e].requires
                          : mts_gemm_i8i8_variants[e].requires;
}

/* Walking a model of one scheme gives exactly its table, in order, and each
 * step's options are that entry's product; selecting each name agrees. */
static void test_one_scheme(void)
{
    fixture f;
    for (unsigned scheme = 0; scheme < 3u; scheme++) {
        const unsigned quant[2] = {scheme, scheme};
        const mts_model *model = sru_with(&f, 2, quant);
        CHECK(mts_model_schemes(model) == MTS_SCHEME_BIT(scheme), "scheme %u", scheme);
        const size_t count = scheme == 0u ? mts_gemm_f32_variant_count
                             : scheme == 1u ? mts_gemm_i8f32_variant_count
                                            : mts_gemm_i8i8_variant_count;
        size_t at = 0, k = 0, e = 0;
        mts_run_options walked = {.block = 7};
        for (const char *name; (name = mts_model_next_variant(model, NULL, 0, &at, &walked));
             k++, e++) {
            /* The walk skips the entries this CPU cannot run (`requires`). */
            while (e < count && !mts_cpu_supports(entry_requires(scheme, e)))
                e++;
            CHECK(e < count, "scheme %u: more variants than its table", scheme);
            if (e >= count)
                break;
            const char *expected = scheme == 0u ? mts_gemm_f32_variants[e].name
                                   : scheme == 1u ? mts_gemm_i8f32_variants[e].name
                                                  : mts_gemm_i8i8_variants[e].name;
            CHECK(name == expected, "scheme %u entry %lu: %s, the table's own string", scheme,
                  (unsigned long)e, name);
            CHECK(walked.block == 7u, "the block is kept");
            CHECK((walked.gemm != NULL) == (scheme == 0u) &&
                      (walked.gemm_i8f32 != NULL) == (scheme == 1u) &&
                      (walked.gemm_i8i8 != NULL) == (scheme == 2u),
                  "scheme %u: only its product is set", scheme);
            if (scheme == 0u)
                CHECK(walked.gemm == mts_gemm_f32_variants[e].fn, "%s", name);
            else if (scheme == 1u)
                CHECK(walked.gemm_i8f32 == mts_gemm_i8f32_variants[e].fn, "%s", name);
            else
                CHECK(walked.gemm_i8i8 == mts_gemm_i8i8_variants[e].fn, "%s", name);
            if (k == 0u)
                CHECK(scheme == 0u   ? walked.gemm == mts_gemm_f32_default()
                      : scheme == 1u ? walked.gemm_i8f32 == mts_gemm_i8f32_default()
                                     : walked.gemm_i8i8 == mts_gemm_i8i8_default(),
                      "scheme %u: the walk's first is the table's default", scheme);
            mts_run_options chosen = {.block = 3};
            const char *found = NULL;
            CHECK_STATUS(mts_model_select_variant(model, name, strlen(name), NULL, 0, &chosen,
                                                  &found),
                         MTS_OK);
            CHECK(found == name && chosen.block == 3u && chosen.gemm == walked.gemm &&
                      chosen.gemm_i8f32 == walked.gemm_i8f32 &&
                      chosen.gemm_i8i8 == walked.gemm_i8i8,
                  "select %s agrees with the walk", name);
        }
        size_t runnable = 0;
        for (e = 0; e < count; e++)
            runnable += mts_cpu_supports(entry_requires(scheme, e)) ? 1u : 0u;
        CHECK(k == runnable, "scheme %u: %lu variants walked, its table has %lu this CPU runs",
              scheme, (unsigned long)k, (unsigned long)runnable);
        CHECK(mts_model_next_variant(model, NULL, 0, &at, NULL) == NULL,
              "the walk stays at its end");
    }
}

/* Names are pointer + length: not NUL-terminated, no prefix matches. */
static void test_names(void)
{
    fixture f;
    const unsigned quant[1] = {0};
    const mts_model *model = sru_with(&f, 1, quant);
    static const char line[] = "tiled reference";
    mts_run_options options = {.block = 4};
    const char *found = NULL;
    CHECK_STATUS(mts_model_select_variant(model, line, 5, NULL, 0, &options, &found), MTS_OK);
    CHECK(found != NULL && strcmp(found, "tiled") == 0 && found != line, "tiled by length");
    CHECK(options.gemm == kernels_product("tiled"), "the tiled product");
    CHECK_STATUS(mts_model_select_variant(model, line + 6, 9, NULL, 0, &options, NULL), MTS_OK);
    CHECK(options.gemm == mts_gemm_f32_reference, "the reference product, no name out");

    /* Refusals write nothing. */
    static const char *const bad[] = {"tile", "tiled ", "Tiled", "nosuch", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        mts_run_options untouched = {.block = 9, .gemm = product_a};
        const char *name_out = "unchanged";
        CHECK_STATUS(mts_model_select_variant(model, bad[i], strlen(bad[i]), NULL, 0,
                                              &untouched, &name_out),
                     MTS_ERR_BAD_CONFIG);
        CHECK(untouched.block == 9u && untouched.gemm == product_a &&
                  untouched.gemm_i8f32 == NULL && untouched.gemm_i8i8 == NULL &&
                  strcmp(name_out, "unchanged") == 0,
              "'%s' refused without writing", bad[i]);
    }
}

/* A caller's float table (a board's list) replaces the kernels' for
 * float32 layers; the int8 tables stay the kernels'. */
static void test_float_table(void)
{
    const mts_gemm_f32_variant board[] = {
        {"mine", "a board's own product", product_a, 0},
        {"tiled", "the kernels' tiled product", kernels_product("tiled"), 0},
        {"reference", "the reference", mts_gemm_f32_reference, 0},
        {"peer", "a peer library", product_b, 0},
    };
    const size_t count = sizeof board / sizeof *board;
    fixture f;
    const unsigned float_only[1] = {0};
    const mts_model *model = sru_with(&f, 1, float_only);
    size_t at = 0, k = 0;
    mts_run_options options = {.block = 1};
    for (const char *name; (name = mts_model_next_variant(model, board, count, &at, &options));
         k++) {
        CHECK(k < count && name == board[k].name && options.gemm == board[k].fn,
              "board entry %lu: %s", (unsigned long)k, name);
    }
    CHECK(k == count, "the board's %lu products walked, got %lu", (unsigned long)count,
          (unsigned long)k);
    CHECK_STATUS(mts_model_select_variant(model, "peer", 4, board, count, &options, NULL),
                 MTS_OK);
    CHECK(options.gemm == product_b, "the board's peer");
    /* Only the first f32_count entries are the table. */
    CHECK_STATUS(mts_model_select_variant(model, "peer", 4, board, 3, &options, NULL),
                 MTS_ERR_BAD_CONFIG);
    at = 0;
    CHECK(mts_model_next_variant(model, board, 0, &at, NULL) == NULL, "an empty table");

    /* float32 + int8-w: the board's names that the int8-w table also has,
     * in the board's order; each layer gets its own table's product. */
    const unsigned mixed[2] = {MTS_QUANT_INT8_W, MTS_QUANT_NONE};
    model = sru_with(&f, 2, mixed);
    CHECK(mts_model_schemes(model) ==
              (MTS_SCHEME_BIT(MTS_QUANT_NONE) | MTS_SCHEME_BIT(MTS_QUANT_INT8_W)),
          "two schemes");
    const char *i8f32_names[16];
    size_t i8f32_count = 0;
    for (size_t v = 0; v < mts_gemm_i8f32_variant_count && v < 16u; v++)
        i8f32_names[i8f32_count++] = mts_gemm_i8f32_variants[v].name;
    at = 0;
    size_t next_board = 0;
    k = 0;
    for (const char *name; (name = mts_model_next_variant(model, board, count, &at, &options));
         k++) {
        size_t b = next_board;
        while (b < count && strcmp(board[b].name, name) != 0)
            b++;
        CHECK(b < count && name == board[b].name, "%s: the float table's string, in order",
              name);
        for (size_t skipped = next_board; skipped < b && b < count; skipped++)
            CHECK(name_index(i8f32_names, i8f32_count, board[skipped].name) == i8f32_count,
                  "%s skipped though the int8-w table has it", board[skipped].name);
        next_board = b + 1;
        const size_t v = name_index(i8f32_names, i8f32_count, name);
        CHECK(v < i8f32_count, "%s is in the int8-w table", name);
        CHECK(b < count && options.gemm == board[b].fn, "%s: the float product", name);
        CHECK(v < i8f32_count && options.gemm_i8f32 == mts_gemm_i8f32_variants[v].fn,
              "%s: the int8-w product", name);
        CHECK(options.gemm_i8i8 == NULL, "%s: no int8-wa layer", name);
    }
    CHECK(k >= 2u, "tiled and reference are common to both, got %lu", (unsigned long)k);
    CHECK_STATUS(mts_model_select_variant(model, "mine", 4, board, count, &options, NULL),
                 MTS_ERR_BAD_CONFIG);
    CHECK_STATUS(mts_model_select_variant(model, "peer", 4, board, count, &options, NULL),
                 MTS_ERR_BAD_CONFIG);

    /* No name in common: nothing offered, nothing selected. */
    const unsigned wa[2] = {MTS_QUANT_NONE, MTS_QUANT_INT8_WA};
    model = sru_with(&f, 2, wa);
    static const mts_gemm_f32_variant lonely[] = {{"only-float", "", product_a, 0}};
    at = 0;
    CHECK(mts_model_next_variant(model, lonely, 1, &at, &options) == NULL, "no common name");
    CHECK_STATUS(mts_model_select_variant(model, "only-float", 10, lonely, 1, &options, NULL),
                 MTS_ERR_BAD_CONFIG);
}

/* All three schemes: every name offered sets all three products, and is
 * in the first table's order (the float table's). */
static void test_three_schemes(void)
{
    fixture f;
    const unsigned quant[3] = {MTS_QUANT_INT8_WA, MTS_QUANT_NONE, MTS_QUANT_INT8_W};
    const mts_model *model = sru_with(&f, 3, quant);
    CHECK(mts_model_schemes(model) == 7u, "three schemes");
    size_t at = 0, k = 0, last = 0;
    mts_run_options options = {.block = 2};
    int tiled = 0;
    for (const char *name; (name = mts_model_next_variant(model, NULL, 0, &at, &options)); k++) {
        CHECK(options.gemm != NULL && options.gemm_i8f32 != NULL && options.gemm_i8i8 != NULL,
              "%s sets all three products", name);
        size_t v = 0;
        while (v < mts_gemm_f32_variant_count && mts_gemm_f32_variants[v].name != name)
            v++;
        CHECK(v < mts_gemm_f32_variant_count && (k == 0u || v > last),
              "%s: the float table's string, in its order", name);
        last = v;
        tiled |= strcmp(name, "tiled") == 0;
    }
    CHECK(tiled, "tiled is in every table");
}

static void test_bad_models(void)
{
    fixture f;
    const unsigned quant[2] = {0, 0};
    mts_run_options options = {.block = 1};
    size_t at = 0;
    CHECK(mts_model_schemes(NULL) == 0u, "NULL model");
    CHECK_STATUS(mts_model_select_variant(NULL, "tiled", 5, NULL, 0, &options, NULL),
                 MTS_ERR_NULL_POINTER);
    CHECK(mts_model_next_variant(NULL, NULL, 0, &at, &options) == NULL, "NULL model");

    const mts_model *model = sru_with(&f, 2, quant);
    CHECK_STATUS(mts_model_select_variant(model, "tiled", 5, NULL, 0, NULL, NULL),
                 MTS_ERR_NULL_POINTER);
    CHECK_STATUS(mts_model_select_variant(model, NULL, 5, NULL, 0, &options, NULL),
                 MTS_ERR_NULL_POINTER);
    CHECK_STATUS(mts_model_select_variant(model, NULL, 0, NULL, 0, &options, NULL),
                 MTS_ERR_BAD_CONFIG);
    CHECK(mts_model_next_variant(model, NULL, 0, NULL, &options) == NULL, "NULL position");

    /* Descriptors mts_model_check rejects offer nothing. */
    fixture g;
    const unsigned unknown[2] = {0, 3};
    const mts_model *bad = sru_with(&g, 2, unknown);
    CHECK(mts_model_schemes(bad) == 0u, "an unknown scheme");
    at = 0;
    CHECK(mts_model_next_variant(bad, NULL, 0, &at, NULL) == NULL, "an unknown scheme");
    CHECK_STATUS(mts_model_select_variant(bad, "tiled", 5, NULL, 0, &options, NULL),
                 MTS_ERR_BAD_CONFIG);
    model = sru_with(&g, 0, unknown);
    CHECK(mts_model_schemes(model) == 0u, "no layers");
    model = sru_with(&g, 2, quant);
    g.model.stages = NULL;
    CHECK(mts_model_schemes(model) == 0u, "no stage array");
    g.model.stages = g.stages;
    g.stages[1].kind = 9;
    CHECK(mts_model_schemes(model) == 0u, "an unknown stage kind");
    g.stages[1].kind = MTS_STAGE_SRU;
    g.model.num_stages = MTS_MAX_STAGES + 1u;
    CHECK(mts_model_schemes(model) == 0u, "too many stages");

    /* A QRNN stage reads its own descriptor. */
    mts_stage qrnn[2];
    memset(qrnn, 0, sizeof qrnn);
    qrnn[0].kind = qrnn[1].kind = MTS_STAGE_QRNN;
    qrnn[1].as.qrnn.quant = MTS_QUANT_INT8_WA;
    const mts_model stack = {2, qrnn};
    CHECK(mts_model_schemes(&stack) ==
              (MTS_SCHEME_BIT(MTS_QUANT_NONE) | MTS_SCHEME_BIT(MTS_QUANT_INT8_WA)),
          "QRNN schemes");

    /* A whole model: the dense stages' schemes count, norm and softmax have
     * no product; a model without products has no schemes. */
    mts_stage whole[4];
    memset(whole, 0, sizeof whole);
    whole[0].kind = MTS_STAGE_NORM;
    whole[1].kind = MTS_STAGE_SRU;
    whole[2].kind = MTS_STAGE_DENSE;
    whole[2].as.dense.quant = MTS_QUANT_INT8_W;
    whole[3].kind = MTS_STAGE_SOFTMAX;
    const mts_model head = {4, whole};
    CHECK(mts_model_schemes(&head) ==
              (MTS_SCHEME_BIT(MTS_QUANT_NONE) | MTS_SCHEME_BIT(MTS_QUANT_INT8_W)),
          "whole-model schemes");
    const mts_model no_products = {1, &whole[3]};
    CHECK(mts_model_schemes(&no_products) == 0u, "a model without products");
    CHECK_STATUS(mts_model_select_variant(&stack, "reference", 9, NULL, 0, &options, NULL),
                 MTS_OK);
    CHECK(options.gemm == mts_gemm_f32_reference && options.gemm_i8i8 == mts_gemm_i8i8_reference
              && options.gemm_i8f32 == NULL,
          "QRNN: the reference products of its two schemes");
}

/* An entry whose `requires` the CPU lacks is neither walked nor selected
 * (a bit no feature uses: no CPU has it), and the features are stable. */
static void test_cpu_requirements(void)
{
    const uint32_t unknown = 0x80000000u;
    CHECK(mts_cpu_supports(0u), "no requirement: any CPU");
    CHECK(!mts_cpu_supports(unknown), "a feature no CPU has");
    CHECK(mts_cpu_features() == mts_cpu_features() && !(mts_cpu_features() & unknown),
          "the features are the CPU's, the same on every call");
    const mts_gemm_f32_variant board[] = {
        {"future", "needs a feature no CPU has", product_a, unknown},
        {"mine", "a board's own product", product_b, 0},
    };
    fixture f;
    const unsigned float_only[1] = {0};
    const mts_model *model = sru_with(&f, 1, float_only);
    size_t at = 0;
    mts_run_options options = {.block = 1};
    const char *first = mts_model_next_variant(model, board, 2, &at, &options);
    CHECK(first != NULL && strcmp(first, "mine") == 0 && options.gemm == product_b,
          "the walk starts at the first entry the CPU runs");
    CHECK(mts_model_next_variant(model, board, 2, &at, &options) == NULL, "and ends there");
    CHECK_STATUS(mts_model_select_variant(model, "future", 6, board, 2, &options, NULL),
                 MTS_ERR_BAD_CONFIG);
    /* Every kernel entry the CPU runs is selectable; the others are not. */
    for (size_t v = 0; v < mts_gemm_f32_variant_count; v++) {
        const mts_gemm_f32_variant *entry = &mts_gemm_f32_variants[v];
        const mts_status status = mts_model_select_variant(
            model, entry->name, strlen(entry->name), NULL, 0, &options, NULL);
        CHECK(mts_cpu_supports(entry->requires) ? status == MTS_OK : status != MTS_OK,
              "%s: selectable exactly when the CPU runs it", entry->name);
    }
    printf("cpu features 0x%lx\n", (unsigned long)mts_cpu_features());
}

/* Every bit a variant requires or the CPU has is a named feature; the
 * names are distinct, lower case, and bits past the mask's width have none. */
static void test_cpu_feature_names(void)
{
    uint32_t named = 0;
    for (unsigned bit = 0; bit < MTS_CPU_FEATURE_BITS; bit++) {
        const char *name = mts_cpu_feature_name(bit);
        if (name == NULL)
            continue;
        named |= 1u << bit;
        CHECK(name[0] != '\0', "bit %u: a non-empty name", bit);
        for (const char *c = name; *c != '\0'; c++)
            CHECK((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9'),
                  "bit %u: %s is lower case", bit, name);
        for (unsigned other = 0; other < bit; other++) {
            const char *seen = mts_cpu_feature_name(other);
            CHECK(seen == NULL || strcmp(seen, name) != 0, "bit %u: %s named once", bit, name);
        }
    }
    CHECK(mts_cpu_feature_name(MTS_CPU_FEATURE_BITS) == NULL, "no bit past the mask");
    CHECK((mts_cpu_features() & ~named) == 0u, "the CPU's features are named");
    for (size_t v = 0; v < mts_gemm_f32_variant_count; v++)
        CHECK((mts_gemm_f32_variants[v].requires & ~named) == 0u, "%s: needs named features",
              mts_gemm_f32_variants[v].name);
    for (size_t v = 0; v < mts_gemm_i8f32_variant_count; v++)
        CHECK((mts_gemm_i8f32_variants[v].requires & ~named) == 0u, "%s: needs named features",
              mts_gemm_i8f32_variants[v].name);
    for (size_t v = 0; v < mts_gemm_i8i8_variant_count; v++)
        CHECK((mts_gemm_i8i8_variants[v].requires & ~named) == 0u, "%s: needs named features",
              mts_gemm_i8i8_variants[v].name);
}

int main(void)
{
    test_cpu_requirements();
    test_cpu_feature_names();
    test_one_scheme();
    test_names();
    test_float_table();
    test_three_schemes();
    test_bad_models();
    return check_summary("test_variant");
}
