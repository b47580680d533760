/* libFuzzer target for the .mts loader (kernels/src/file.c).
 *
 * Each input is loaded twice: with the CRC check (what a device does) and
 * without it (so mutations reach the checks behind the CRC). Whatever loads
 * must also run: a few frames go through the model with an exactly sized
 * workspace, so ASan sees any access the loader let through. Build and run:
 * ci/fuzz.sh (bounded), or by hand for longer runs (docs/model-format.md).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mtsrnn/file.h"
#include "mtsrnn/model.h"

/* Keep each run fast: models bigger than this load but are not run. */
#define FUZZ_MAX_RUN_BYTES (1u << 20)

static void run_model(const mts_model *model)
{
    size_t in_size, out_size, state_floats, workspace_bytes;
    const size_t steps = 3, block = 2;
    if (mts_model_io_sizes(model, &in_size, &out_size) != MTS_OK ||
        mts_model_state_size(model, &state_floats) != MTS_OK ||
        mts_model_workspace_size(model, block, steps, &workspace_bytes) != MTS_OK)
        abort(); /* a loaded model must answer its size queries */
    if (workspace_bytes > FUZZ_MAX_RUN_BYTES || in_size > FUZZ_MAX_RUN_BYTES / 64 ||
        out_size > FUZZ_MAX_RUN_BYTES / 64 || state_floats > FUZZ_MAX_RUN_BYTES)
        return;
    float *x = calloc(steps * in_size, sizeof(float));
    float *h = malloc(steps * out_size * sizeof(float));
    float *state = calloc(state_floats, sizeof(float));
    void *workspace = malloc(workspace_bytes);
    if (x && h && state && workspace) {
        for (size_t i = 0; i < steps * in_size; i++)
            x[i] = (float)(i % 7) - 3.0f;
        const mts_run_options options = {.block = block};
        if (mts_model_forward(model, &options, state, state_floats, x, steps, h, workspace,
                              workspace_bytes) != MTS_OK)
            abort();
    }
    free(x);
    free(h);
    free(state);
    free(workspace);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size, 16-byte aligned copy: reads past the end are caught. */
    uint8_t *image = malloc(size ? size : 1);
    if (image == NULL)
        return 0;
    memcpy(image, data, size);
    for (uint32_t flags = 0; flags <= MTS_LOAD_SKIP_CRC; flags++) {
        size_t bytes;
        if (mts_file_descriptor_size(image, size, &bytes) != MTS_OK)
            break;
        void *descriptors = malloc(bytes);
        mts_model model;
        if (descriptors != NULL &&
            mts_file_load(image, size, flags, descriptors, bytes, &model) == MTS_OK)
            run_model(&model);
        free(descriptors);
    }
    free(image);
    return 0;
}
