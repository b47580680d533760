/* mtsrnn-dram-probe: runs one layer of the kernels over a stream, for
 * `mtsrnn bench dram`, which runs it under valgrind's cachegrind with an
 * embedded-sized cache model and counts last-level misses and instructions
 * per time step.
 *
 *   mtsrnn-dram-probe CELL HIDDEN BLOCK STEPS REPEATS [GEMM]
 *
 * CELL is sru or qrnn (one layer, input = hidden, the same configurations
 * `mtsrnn bench host` uses: SRU with a scaled-input skip term, QRNN with
 * fo-pooling and window 1); BLOCK is T; STEPS the sequence length of one
 * forward call, made REPEATS times in a row (the stream continues); GEMM a
 * product variant name (default: the first of mts_gemm_f32_variants). Two
 * runs that differ only in REPEATS differ by exactly the cost of the extra
 * calls: setup and checksum cancel out. The
 * weights are a fixed pseudo-random pattern: cache behaviour does not depend
 * on their values. Prints the variant used and a checksum of h (so that no
 * work can be dropped); exits non-zero on bad arguments or a kernel error.
 *
 * Built for valgrind: the host build compiles this program's copy of the
 * kernels without AVX-512, which valgrind does not decode.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtsrnn/gemm.h"
#include "mtsrnn/model.h"

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
    size_t hidden, block, steps, repeats;
    if (argc < 6 || argc > 7 || parse_size(argv[2], &hidden) || parse_size(argv[3], &block) ||
        parse_size(argv[4], &steps) || parse_size(argv[5], &repeats) ||
        (strcmp(argv[1], "sru") && strcmp(argv[1], "qrnn"))) {
        fprintf(stderr, "usage: %s sru|qrnn HIDDEN BLOCK STEPS REPEATS [GEMM] "
                        "(numbers 1..2^20)\n", argv[0]);
        return 2;
    }
    const mts_gemm_f32_variant *variant = &mts_gemm_f32_variants[0];
    if (argc == 7) {
        variant = NULL;
        for (size_t v = 0; v < mts_gemm_f32_variant_count; v++)
            if (strcmp(argv[6], mts_gemm_f32_variants[v].name) == 0)
                variant = &mts_gemm_f32_variants[v];
        if (variant == NULL) {
            fprintf(stderr, "unknown gemm variant '%s'; built:", argv[6]);
            for (size_t v = 0; v < mts_gemm_f32_variant_count; v++)
                fprintf(stderr, " %s", mts_gemm_f32_variants[v].name);
            fprintf(stderr, "\n");
            return 2;
        }
    }

    const uint32_t n = (uint32_t)hidden;
    mts_sru_layer sru;
    mts_qrnn_layer qrnn;
    mts_model model;
    float *weight, *vectors;
    const float scale = 1.0f / (float)n;
    if (argv[1][0] == 's') {
        memset(&sru, 0, sizeof sru);
        sru.input_size = n;
        sru.hidden_size = n;
        sru.num_directions = 1;
        sru.skip = MTS_SKIP_SCALED_INPUT;
        sru.scale_x = 1.0f;
        sru.norm_eps = 1e-5f;
        weight = pattern((size_t)3 * n * n, scale, 1u);
        vectors = pattern((size_t)4 * n, 0.5f, 2u); /* weight_c | bias */
        sru.weight = weight;
        sru.weight_c = vectors;
        sru.bias = vectors ? vectors + 2 * (size_t)n : NULL;
        model = (mts_model){MTS_CELL_SRU, 1, &sru, NULL};
    } else {
        memset(&qrnn, 0, sizeof qrnn);
        qrnn.input_size = n;
        qrnn.hidden_size = n;
        qrnn.window = 1;
        qrnn.output_gate = 1;
        weight = pattern((size_t)3 * n * n, scale, 1u);
        vectors = pattern((size_t)3 * n, 0.5f, 2u);
        qrnn.weight = weight;
        qrnn.bias = vectors;
        model = (mts_model){MTS_CELL_QRNN, 1, NULL, &qrnn};
    }
    size_t state_floats = 0, workspace_bytes = 0;
    mts_status status = mts_model_state_size(&model, &state_floats);
    if (status == MTS_OK)
        status = mts_model_workspace_size(&model, block, steps, &workspace_bytes);
    float *x = pattern(steps * hidden, 1.0f, 3u);
    float *h = malloc(steps * hidden * sizeof(float));
    float *state = calloc(state_floats ? state_floats : 1, sizeof(float));
    void *workspace = malloc(workspace_bytes ? workspace_bytes : 1);
    if (weight == NULL || vectors == NULL || x == NULL || h == NULL || state == NULL ||
        workspace == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    const mts_run_options options = {.block = block, .gemm = variant->fn};
    for (size_t r = 0; r < repeats && status == MTS_OK; r++)
        status = mts_model_forward(&model, &options, state, state_floats, x, steps, h,
                                   workspace, workspace_bytes);
    if (status != MTS_OK) {
        fprintf(stderr, "mtsrnn: %s\n", mts_status_str(status));
        return 1;
    }
    double checksum = 0.0;
    for (size_t i = 0; i < steps * hidden; i++)
        checksum += (double)h[i];
    printf("gemm %s checksum %.9g\n", variant->name, checksum);
    free(weight);
    free(vectors);
    free(x);
    free(h);
    free(state);
    free(workspace);
    return 0;
}
