/* mtsrnn-dram-probe: runs one layer of the kernels over a stream, for
 * `mtsrnn bench dram`, which runs it under valgrind's cachegrind with an
 * embedded-sized cache model and counts last-level misses and instructions
 * per time step.
 *
 *   mtsrnn-dram-probe CELL HIDDEN BLOCK STEPS REPEATS [WEIGHTS [GEMM]]
 *   mtsrnn-dram-probe --list
 *
 * CELL is sru, qrnn, mingru or minlstm (one layer, input = hidden, the same
 * configurations `mtsrnn bench host` uses: SRU with a scaled-input skip
 * term, QRNN with fo-pooling and window 1, minGRU / minLSTM without an
 * output projection), or head (a whole model, as bench host's: affine norm
 * -> that SRU layer -> dense relu HIDDEN -> dense HEAD_CLASSES -> softmax,
 * every product with the weights' scheme); BLOCK is T; STEPS the sequence length of one
 * forward call, made REPEATS times in a row (the stream continues); WEIGHTS
 * the weights' scheme, float32 (default), int8-w or int8-wa
 * (docs/quantization.md); GEMM a product variant name of that scheme's table
 * (default: the table's first entry). Two runs that differ only in REPEATS
 * differ by exactly the cost of the extra calls: setup and checksum cancel
 * out. The weights are a fixed pseudo-random pattern: cache behaviour does
 * not depend on their values. Prints the scheme and variant used and a
 * checksum of h (so that no work can be dropped); exits non-zero on bad
 * arguments or a kernel error. `--list` prints one line per scheme: its name
 * and the variants built, default first.
 *
 * Built for valgrind: the host build compiles this program's copy of the
 * kernels without AVX-512, which valgrind does not decode.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtsrnn/gemm.h"
#include "mtsrnn/model.h"
#include "mtsrnn/quantize.h"

/* One weight scheme: its name, mts_quant code and product variant table.
 * The three variant structs differ only in their function pointer type
 * (name, summary, fn, requires in that order), so a table is walked by its
 * stride. */
typedef struct scheme {
    const char *name;
    mts_quant quant;
    const void *variants;
    size_t count, stride;
} scheme;

/* Entry v's name, or NULL when the running CPU cannot run it (under
 * valgrind: an AVX-512 product, which valgrind's CPUID does not offer). */
static const char *variant_name(const scheme *s, size_t v)
{
    const char *entry = (const char *)s->variants + v * s->stride;
    uint32_t requires;
    memcpy(&requires, entry + offsetof(mts_gemm_f32_variant, requires), sizeof requires);
    return mts_cpu_supports(requires) ? *(const char *const *)(const void *)entry : NULL;
}

/* The first entry the CPU runs (the portable ones always do). */
static size_t default_variant(const scheme *s)
{
    size_t v = 0;
    while (v + 1u < s->count && variant_name(s, v) == NULL)
        v++;
    return v;
}

/* floats in [-scale, scale) from a 32-bit LCG (values only need to be tame). */
static float *pattern(size_t count, float scale, uint32_t seed)
{
    float *a = malloc(count ? count * sizeof(float) : 1);
    if (a == NULL)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        seed = seed * 1664525u + 1013904223u;
        a[i] = scale * ((float)(seed >> 8) * (1.0f / 8388608.0f) - 1.0f);
    }
    return a;
}

#define HEAD_CLASSES 16u

/* A dense stage of `rows` x `depth` pattern weights under the scheme `quant`
 * (int8 rows by the kernels' quantiser); its arrays are appended to owned[]
 * for the caller to free. 0 when out of memory. */
static int dense_stage(mts_stage *stage, uint32_t rows, uint32_t depth, uint8_t activation,
                       mts_quant quant, uint32_t seed, void **owned, size_t *count)
{
    float *w = pattern((size_t)rows * depth, 1.0f / (float)depth, seed);
    float *b = pattern(rows, 0.1f, seed + 1u);
    owned[(*count)++] = w;
    owned[(*count)++] = b;
    if (w == NULL || b == NULL)
        return 0;
    memset(stage, 0, sizeof *stage);
    stage->kind = MTS_STAGE_DENSE;
    stage->as.dense.input_size = depth;
    stage->as.dense.output_size = rows;
    stage->as.dense.activation = activation;
    stage->as.dense.bias = b;
    stage->as.dense.quant = (uint8_t)quant;
    if (quant == MTS_QUANT_NONE) {
        stage->as.dense.weight = w;
        return 1;
    }
    int8_t *wq = malloc((size_t)rows * depth);
    float *ws = malloc(rows * sizeof(float));
    owned[(*count)++] = wq;
    owned[(*count)++] = ws;
    if (wq == NULL || ws == NULL)
        return 0;
    mts_quantize_rows_i8(rows, depth, w, depth, wq, depth, ws);
    stage->as.dense.weight_q = wq;
    stage->as.dense.weight_scale = ws;
    return 1;
}

static int parse_size(const char *text, size_t *value)
{
    char *end;
    const unsigned long long parsed = strtoull(text, &end, 10);
    if (*text == '\0' || *end != '\0' || parsed == 0 || parsed > 1u << 20)
        return -1;
    *value = (size_t)parsed;
    return 0;
}

int main(int argc, char **argv)
{
    const scheme schemes[] = {
        {"float32", MTS_QUANT_NONE, mts_gemm_f32_variants, mts_gemm_f32_variant_count,
         sizeof mts_gemm_f32_variants[0]},
        {"int8-w", MTS_QUANT_INT8_W, mts_gemm_i8f32_variants, mts_gemm_i8f32_variant_count,
         sizeof mts_gemm_i8f32_variants[0]},
        {"int8-wa", MTS_QUANT_INT8_WA, mts_gemm_i8i8_variants, mts_gemm_i8i8_variant_count,
         sizeof mts_gemm_i8i8_variants[0]},
    };
    const size_t scheme_count = sizeof schemes / sizeof schemes[0];
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (size_t s = 0; s < scheme_count; s++) {
            printf("%s", schemes[s].name);
            for (size_t v = 0; v < schemes[s].count; v++)
                if (variant_name(&schemes[s], v) != NULL)
                    printf(" %s", variant_name(&schemes[s], v));
            printf("\n");
        }
        return 0;
    }
    size_t hidden, block, steps, repeats;
    if (argc < 6 || argc > 8 || parse_size(argv[2], &hidden) || parse_size(argv[3], &block) ||
        parse_size(argv[4], &steps) || parse_size(argv[5], &repeats) ||
        (strcmp(argv[1], "sru") && strcmp(argv[1], "qrnn") && strcmp(argv[1], "mingru") &&
         strcmp(argv[1], "minlstm") && strcmp(argv[1], "head"))) {
        fprintf(stderr, "usage: %s sru|qrnn|mingru|minlstm|head HIDDEN BLOCK STEPS REPEATS "
                        "[float32|int8-w|int8-wa [GEMM]] (numbers 1..2^20), or --list\n",
                argv[0]);
        return 2;
    }
    const scheme *weights = NULL;
    for (size_t s = 0; s < scheme_count; s++)
        if (strcmp(argc >= 7 ? argv[6] : "float32", schemes[s].name) == 0)
            weights = &schemes[s];
    if (weights == NULL) {
        fprintf(stderr, "unknown weight scheme '%s'; expected float32, int8-w or int8-wa\n",
                argv[6]);
        return 2;
    }
    size_t variant = default_variant(weights);
    if (argc == 8) {
        variant = weights->count;
        for (size_t v = 0; v < weights->count; v++)
            if (variant_name(weights, v) != NULL && strcmp(argv[7], variant_name(weights, v)) == 0)
                variant = v;
        if (variant == weights->count) {
            fprintf(stderr, "unknown %s gemm variant '%s'; this CPU runs:", weights->name,
                    argv[7]);
            for (size_t v = 0; v < weights->count; v++)
                if (variant_name(weights, v) != NULL)
                    fprintf(stderr, " %s", variant_name(weights, v));
            fprintf(stderr, "\n");
            return 2;
        }
    }

    /* The products have 3n output rows of depth n (SRU k = 3; QRNN Z, F, O
     * with window 1; minLSTM's three blocks), minGRU's 2n. */
    const int min_gru = strcmp(argv[1], "mingru") == 0;
    const int min_cell = min_gru || strcmp(argv[1], "minlstm") == 0;
    const uint32_t n = (uint32_t)hidden;
    const size_t rows = (size_t)(min_gru ? 2 : 3) * n;
    float *weight = pattern(rows * n, 1.0f / (float)n, 1u);
    float *vectors = pattern((size_t)4 * n, 0.5f, 2u); /* SRU weight_c | bias; QRNN bias */
    int8_t *weight_q = NULL;
    float *weight_scale = NULL;
    if (weights->quant != MTS_QUANT_NONE && weight != NULL) {
        /* Per output row: s_r = max_i |W[r][i]| / 127, Wq = round(W / s_r),
         * by the kernels' own per-row quantiser (the activations' one, in
         * float32; mtsrnn.quantize computes s_r in float64, which can differ
         * in the last bit and does not change what is read from memory). */
        weight_q = malloc(rows * n);
        weight_scale = malloc(rows * sizeof(float));
        if (weight_q != NULL && weight_scale != NULL)
            mts_quantize_rows_i8(rows, n, weight, n, weight_q, n, weight_scale);
        free(weight); /* the quantised layer reads only weight_q */
        weight = NULL;
    }
    mts_stage stage;
    mts_sru_layer sru;
    mts_qrnn_layer qrnn;
    mts_min_layer min;
    memset(&stage, 0, sizeof stage);
    if (min_cell) {
        memset(&min, 0, sizeof min);
        min.input_size = n;
        min.hidden_size = n;
        min.output_size = n;
        min.weight = weight;
        min.quant = (uint8_t)weights->quant;
        min.weight_q = weight_q;
        min.weight_scale = weight_scale;
        stage.kind = min_gru ? MTS_STAGE_MINGRU : MTS_STAGE_MINLSTM;
        stage.as.min = min;
    } else if (argv[1][0] == 's' || argv[1][0] == 'h') {
        memset(&sru, 0, sizeof sru);
        sru.input_size = n;
        sru.hidden_size = n;
        sru.num_directions = 1;
        sru.skip = MTS_SKIP_SCALED_INPUT;
        sru.scale_x = 1.0f;
        sru.norm_eps = 1e-5f;
        sru.weight = weight;
        sru.weight_c = vectors;
        sru.bias = vectors ? vectors + 2 * (size_t)n : NULL;
        sru.quant = (uint8_t)weights->quant;
        sru.weight_q = weight_q;
        sru.weight_scale = weight_scale;
        stage.kind = MTS_STAGE_SRU;
        stage.as.sru = sru;
    } else {
        memset(&qrnn, 0, sizeof qrnn);
        qrnn.input_size = n;
        qrnn.hidden_size = n;
        qrnn.window = 1;
        qrnn.output_gate = 1;
        qrnn.weight = weight;
        qrnn.bias = vectors;
        qrnn.quant = (uint8_t)weights->quant;
        qrnn.weight_q = weight_q;
        qrnn.weight_scale = weight_scale;
        stage.kind = MTS_STAGE_QRNN;
        stage.as.qrnn = qrnn;
    }
    /* head: norm -> the SRU stage -> dense relu -> dense -> softmax. */
    const int head = strcmp(argv[1], "head") == 0;
    mts_stage stages[5];
    void *owned[8] = {NULL};
    size_t owned_count = 0;
    stages[0] = stage;
    if (head) {
        float *scale = pattern(n, 0.5f, 4u), *shift = pattern(n, 0.5f, 5u);
        owned[owned_count++] = scale;
        owned[owned_count++] = shift;
        memset(&stages[0], 0, sizeof stages[0]);
        stages[0].kind = MTS_STAGE_NORM;
        stages[0].as.norm.size = n;
        stages[0].as.norm.weight = scale;
        stages[0].as.norm.bias = shift;
        stages[1] = stage;
        memset(&stages[4], 0, sizeof stages[4]);
        stages[4].kind = MTS_STAGE_SOFTMAX;
        stages[4].as.softmax.size = HEAD_CLASSES;
        if (scale == NULL || shift == NULL ||
            !dense_stage(&stages[2], n, n, MTS_DENSE_RELU, weights->quant, 6u, owned,
                         &owned_count) ||
            !dense_stage(&stages[3], HEAD_CLASSES, n, MTS_DENSE_IDENTITY, weights->quant, 8u,
                         owned, &owned_count)) {
            fprintf(stderr, "out of memory\n");
            return 1;
        }
    }
    const mts_model model = {head ? 5u : 1u, stages};
    size_t state_floats = 0, workspace_bytes = 0, in_size = 0, out_size = 0;
    mts_status status = mts_model_io_sizes(&model, &in_size, &out_size);
    if (status == MTS_OK)
        status = mts_model_state_size(&model, &state_floats);
    if (status == MTS_OK)
        status = mts_model_workspace_size(&model, block, steps, &workspace_bytes);
    float *x = pattern(steps * hidden, 1.0f, 3u);
    float *h = malloc(steps * (out_size ? out_size : 1) * sizeof(float));
    float *state = calloc(state_floats ? state_floats : 1, sizeof(float));
    void *workspace = malloc(workspace_bytes ? workspace_bytes : 1);
    if ((weight == NULL && weight_q == NULL) || vectors == NULL ||
        (weights->quant != MTS_QUANT_NONE && (weight_q == NULL || weight_scale == NULL)) ||
        x == NULL || h == NULL || state == NULL || workspace == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    /* Only the product of the layer's scheme is used; the others stay NULL. */
    mts_run_options options = {.block = block};
    if (weights->quant == MTS_QUANT_NONE)
        options.gemm = mts_gemm_f32_variants[variant].fn;
    else if (weights->quant == MTS_QUANT_INT8_W)
        options.gemm_i8f32 = mts_gemm_i8f32_variants[variant].fn;
    else
        options.gemm_i8i8 = mts_gemm_i8i8_variants[variant].fn;
    for (size_t r = 0; r < repeats && status == MTS_OK; r++)
        status = mts_model_forward(&model, &options, state, state_floats, x, steps, h,
                                   workspace, workspace_bytes);
    if (status != MTS_OK) {
        fprintf(stderr, "mtsrnn: %s\n", mts_status_str(status));
        return 1;
    }
    double checksum = 0.0;
    for (size_t i = 0; i < steps * out_size; i++)
        checksum += (double)h[i];
    printf("weights %s gemm %s checksum %.9g\n", weights->name, variant_name(weights, variant),
           checksum);
    for (size_t i = 0; i < owned_count; i++)
        free(owned[i]);
    free(weight);
    free(weight_q);
    free(weight_scale);
    free(vectors);
    free(x);
    free(h);
    free(state);
    free(workspace);
    return 0;
}
