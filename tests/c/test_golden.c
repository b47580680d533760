/* The kernels against the host's golden data, on whatever target runs this
 * (natively, or cross-built under qemu-aarch64 / qemu-arm, NEON or plain C).
 *
 * The data (golden_cases.h, written at build time by tests/c/make_golden.py)
 * are the configurations of the host's golden test (tests/python/conftest.py)
 * exported with `mtsrnn export-c`: the weights in the kernels' layout, a
 * golden input and the output of the float64 NumPy reference
 * (mtsrnn.reference) from the zero state. For every model, every blocked-
 * product variant built here and every block size T, the whole sequence in
 * one call and (unidirectional models) the same sequence streamed in three
 * calls must match the reference to the tolerance of the host's golden test.
 * Buffers have exactly the sizes the API asks for. Last line:
 * "golden: N passed, N failed".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtsrnn/gemm.h"
#include "mtsrnn/model.h"

#include "check.h"

typedef struct golden_case {
    const char *name;
    const mts_model *model;
    const float *input;    /* steps x input size */
    const float *output;   /* steps x output size, the float64 reference rounded */
    size_t steps;
    float tolerance;       /* max abs error */
} golden_case;

#include "golden_cases.h"

static void *alloc_or_die(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

static int bidirectional(const mts_model *model)
{
    for (uint32_t s = 0; s < model->num_stages; s++)
        if (model->stages[s].kind == MTS_STAGE_SRU &&
            model->stages[s].as.sru.num_directions == 2)
            return 1;
    return 0;
}

/* Runs the golden input in the pieces [cuts[k], cuts[k+1]) from the zero
 * state; returns the max abs error against the golden output (inf on a
 * status other than MTS_OK, NaN results count as inf). */
static double run(const golden_case *gc, const mts_gemm_f32_variant *variant, size_t block,
                  const size_t *cuts, size_t num_cuts)
{
    size_t state_floats, in_size, out_size, workspace_bytes;
    if (mts_model_state_size(gc->model, &state_floats) != MTS_OK ||
        mts_model_io_sizes(gc->model, &in_size, &out_size) != MTS_OK ||
        mts_model_workspace_size(gc->model, block, gc->steps, &workspace_bytes) != MTS_OK)
        return HUGE_VAL;
    float *state = alloc_or_die(state_floats * sizeof(float));
    float *h = alloc_or_die(gc->steps * out_size * sizeof(float));
    void *workspace = alloc_or_die(workspace_bytes);
    memset(state, 0, state_floats * sizeof(float));
    const mts_run_options options = {.block = block, .gemm = variant->fn};
    double worst = 0.0;
    for (size_t k = 0; k + 1 < num_cuts && worst < HUGE_VAL; k++) {
        const size_t t0 = cuts[k], length = cuts[k + 1] - cuts[k];
        const mts_status status =
            mts_model_forward(gc->model, &options, state, state_floats, gc->input + t0 * in_size,
                              length, h + t0 * out_size, workspace, workspace_bytes);
        if (status != MTS_OK) {
            fprintf(stderr, "%s: %s, T = %lu: %s\n", gc->name, variant->name, (unsigned long)block,
                    mts_status_str(status));
            worst = HUGE_VAL;
        }
    }
    for (size_t i = 0; i < gc->steps * out_size && worst < HUGE_VAL; i++) {
        const double err = fabs((double)h[i] - (double)gc->output[i]);
        worst = err == err ? (err > worst ? err : worst) : HUGE_VAL;
    }
    free(state);
    free(h);
    free(workspace);
    return worst;
}

int main(void)
{
    static const size_t blocks[] = {1, 2, 3, 4, 5, 8, 16, 32, 64};
    const size_t num_cases = sizeof golden_cases / sizeof golden_cases[0];
    for (size_t v = 0; v < mts_gemm_f32_variant_count; v++) {
        const mts_gemm_f32_variant *variant = &mts_gemm_f32_variants[v];
        if (!mts_cpu_supports(variant->requires))
            continue; /* built, but this CPU lacks its instruction set */
        double variant_worst = 0.0;
        for (size_t c = 0; c < num_cases; c++) {
            const golden_case *gc = &golden_cases[c];
            for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++) {
                const size_t whole[] = {0, gc->steps};
                const size_t streamed[] = {0, 5, 6, gc->steps};
                double err = run(gc, variant, blocks[b], whole, 2);
                const char *how = "one call";
                if (!bidirectional(gc->model)) {
                    const double err_streamed = run(gc, variant, blocks[b], streamed, 4);
                    if (err_streamed > err) {
                        err = err_streamed;
                        how = "streamed in 3 calls";
                    }
                }
                CHECK(err <= (double)gc->tolerance,
                      "%s, gemm %s, T = %lu (%s): max abs error %.3g > %.3g", gc->name,
                      variant->name, (unsigned long)blocks[b], how, err,
                      (double)gc->tolerance);
                variant_worst = err > variant_worst ? err : variant_worst;
            }
        }
        printf("# gemm %-10s %lu models x %lu block sizes: max abs error %.3g\n", variant->name,
               (unsigned long)num_cases, (unsigned long)(sizeof blocks / sizeof blocks[0]),
               variant_worst);
    }
    return check_summary("golden");
}
