/* libFuzzer target for the .mts loader (kernels/src/file.c).
 *
 * Each input is loaded twice: with the CRC check (what a device does) and
 * without it (so mutations reach the checks behind the CRC). Whatever loads
 * must also run: a few frames go through the model with an exactly sized
 * workspace, so ASan sees any access the loader let through; the loader's
 * detail (mts_file_error) must be consistent with the file. Build and run:
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
    for (size_t s = 0; s < model->num_stages; s++) {
        size_t own;
        /* each stage's own rows fit in the model's workspace with the slack */
        if (mts_model_stage_workspace_size(model, s, block, &own) != MTS_OK ||
            own + 64u > workspace_bytes)
            abort();
    }
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

static uint32_t read_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The detail of a load must be consistent with its status and the file:
 * field never NULL; indices within the header's counts (a header that got
 * as far as naming them passed its checks) and kinds within the cell's;
 * every rejection names a layer, a tensor or a field; a success says
 * nothing. The text form must fit and end. In 2.0 files the detail's cell
 * is the kind of the stage at fault. */
static void check_detail(mts_status status, const mts_file_error *e, const uint8_t *image,
                         size_t size)
{
    if (e->field == NULL || (e->has & ~(MTS_FILE_ERROR_FOUND | MTS_FILE_ERROR_EXPECTED)) != 0 ||
        e->shape_ndim > 2)
        abort();
    const int named = e->layer != MTS_FILE_NO_INDEX || e->tensor != MTS_FILE_NO_INDEX ||
                      e->kind != 0;
    if (status == MTS_OK) {
        if (named || e->field[0] != '\0' || e->has != 0 || e->shape_ndim != 0)
            abort();
        return;
    }
    if (!named && e->field[0] == '\0')
        abort();
    if (e->version_major > MTS_FILE_STAGES_VERSION_MAJOR)
        abort();
    if (named || e->cell != 0) {
        /* Only a header that passed its checks gets this far. */
        if (size < MTS_FILE_HEADER_SIZE || e->version_major == 0)
            abort();
        const uint32_t stages = read_u32(image + 24);
        if ((e->layer != MTS_FILE_NO_INDEX && e->layer >= stages) ||
            (e->tensor != MTS_FILE_NO_INDEX && e->tensor >= read_u32(image + 28)))
            abort();
        /* The kind of the stage at fault: 1.x the header's cell; 2.0 the
         * stage record's kind, once that record named a valid one. */
        if (e->version_major == MTS_FILE_VERSION_MAJOR && e->cell != read_u32(image + 20))
            abort();
        if (e->version_major == MTS_FILE_STAGES_VERSION_MAJOR && e->cell != 0 &&
            (e->cell > MTS_STAGE_KINDS || e->layer == MTS_FILE_NO_INDEX ||
             e->cell != read_u32(image + MTS_FILE_HEADER_SIZE +
                                 (size_t)MTS_FILE_STAGE_RECORD_SIZE * e->layer)))
            abort();
        if (e->kind > mts_file_kinds_of(e->cell) ||
            (e->kind != 0 && mts_file_kind_name(e->cell, e->kind)[0] == '\0'))
            abort();
    }
    char text[160];
    const size_t length = mts_file_error_text(status, e, text, sizeof text);
    if (length >= sizeof text || text[length] != '\0' || length == 0)
        abort();
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
        mts_file_error detail;
        const mts_status header = mts_file_descriptor_size(image, size, &bytes, &detail);
        check_detail(header, &detail, image, size);
        if (header != MTS_OK)
            break;
        void *descriptors = malloc(bytes);
        mts_model model;
        if (descriptors != NULL) {
            const mts_status status =
                mts_file_load(image, size, flags, descriptors, bytes, &model, &detail);
            check_detail(status, &detail, image, size);
            if (status == MTS_OK)
                run_model(&model);
        }
        free(descriptors);
    }
    free(image);
    return 0;
}
