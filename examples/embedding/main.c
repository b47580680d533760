/* Runs a model exported by `mtsrnn export-c MODEL.mts -o DIR --name demo`
 * on its golden input, from the zero state, and checks the output against
 * the golden output the export computed on the host (docs/embedding.md).
 * Exit status 0 when every value is within DEMO_GOLDEN_TOLERANCE. */
#include <stdio.h>

#include "demo.h" /* demo_model, its sizes, the golden vectors */
#include "mtsrnn/model.h"

/* Caller-owned buffers, sized by the export (no malloc in the kernels). */
static float state[DEMO_STATE_FLOATS];
static float h[DEMO_GOLDEN_STEPS][DEMO_OUTPUT_SIZE];
static float workspace[DEMO_WORKSPACE_BYTES / sizeof(float) + 1];

int main(void)
{
    mts_status status = mts_model_reset_state(&demo_model, state, DEMO_STATE_FLOATS);
    const mts_run_options options = {.block = DEMO_BLOCK}; /* default products */
    if (status == MTS_OK)
        status = mts_model_forward(&demo_model, &options, state, DEMO_STATE_FLOATS,
                                   &demo_golden_input[0][0], DEMO_GOLDEN_STEPS, &h[0][0],
                                   workspace, sizeof workspace);
    if (status != MTS_OK) {
        printf("mts_model_forward: %s\n", mts_status_str(status));
        return 1;
    }
    float worst = 0.0f;
    for (unsigned t = 0; t < DEMO_GOLDEN_STEPS; t++)
        for (unsigned i = 0; i < DEMO_OUTPUT_SIZE; i++) {
            float error = h[t][i] - demo_golden_output[t][i];
            error = error < 0.0f ? -error : error;
            if (!(error <= worst)) /* NaN counts as the worst */
                worst = error;
        }
    const int ok = worst <= DEMO_GOLDEN_TOLERANCE;
    printf("golden check: max abs error %g (tolerance %g): %s\n", (double)worst,
           (double)DEMO_GOLDEN_TOLERANCE, ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
