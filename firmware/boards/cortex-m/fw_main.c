#include "fw_main.h"

#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "fw_models.h"
#if MTS_FW_CMSIS_BASELINE
#include "cmsis_baseline.h"
#endif

/* The device's buffers, for T <= MTS_FW_MAX_BLOCK and up to MTS_FW_MAX_STEPS
 * frames per call (sizes generated with the models). The build reports
 * sizeof(mts_fw_workspace) after linking. */
/* An image with the demo models also sizes them for uploaded models of up
 * to MTS_FW_UPLOAD_WIDTH inputs and outputs, MTS_FW_UPLOAD_STATE_FLOATS of
 * state and MTS_FW_UPLOAD_WORKSPACE_BYTES of workspace (per board,
 * firmware/boards/CMakeLists.txt; 0: the built-in models' sizes only). */
#ifndef MTS_FW_UPLOAD_WIDTH
#define MTS_FW_UPLOAD_WIDTH 0u
#define MTS_FW_UPLOAD_STATE_FLOATS 0u
#define MTS_FW_UPLOAD_WORKSPACE_BYTES 0u
#endif
#define FW_AT_LEAST(size, floor) ((size) > (floor) ? (size) : (floor))
#define FW_STATE_FLOATS FW_AT_LEAST(MTS_FW_STATE_FLOATS, MTS_FW_UPLOAD_STATE_FLOATS)
#define FW_WORKSPACE_BYTES FW_AT_LEAST(MTS_FW_WORKSPACE_BYTES, MTS_FW_UPLOAD_WORKSPACE_BYTES)
#define FW_INPUT_FLOATS FW_AT_LEAST(MTS_FW_INPUT_FLOATS, MTS_FW_MAX_STEPS * MTS_FW_UPLOAD_WIDTH)
#define FW_OUTPUT_FLOATS FW_AT_LEAST(MTS_FW_OUTPUT_FLOATS, MTS_FW_MAX_STEPS * MTS_FW_UPLOAD_WIDTH)

static mts_device device;
static float mts_fw_state[FW_STATE_FLOATS] __attribute__((aligned(16)));
unsigned char mts_fw_workspace[FW_WORKSPACE_BYTES] __attribute__((aligned(64)));
static float mts_fw_input[FW_INPUT_FLOATS] __attribute__((aligned(16)));
static float mts_fw_output[FW_OUTPUT_FLOATS] __attribute__((aligned(16)));
/* The upload arena (`upload`, docs/protocol.md): both halves, the size set
 * per board in firmware/boards/CMakeLists.txt (its RAM budget); 0: none. */
#ifndef MTS_FW_ARENA_BYTES
#define MTS_FW_ARENA_BYTES 0u
#endif
#if MTS_FW_ARENA_BYTES > 0
static unsigned char mts_fw_arena[MTS_FW_ARENA_BYTES] __attribute__((aligned(64)));
#define MTS_FW_ARENA mts_fw_arena
#else
#define MTS_FW_ARENA NULL
#endif

static mts_fw_ticks ticks_as;

/* The float32 variants `variant` offers: the kernels' variant table (the
 * default first), then the CMSIS-DSP per-step baseline when it is built in. */
#define MTS_FW_MAX_VARIANTS 8u
static mts_gemm_f32_variant variants[MTS_FW_MAX_VARIANTS];

static uint32_t list_variants(void)
{
    uint32_t n = 0;
    for (size_t k = 0; k < mts_gemm_f32_variant_count && n + 1u < MTS_FW_MAX_VARIANTS; k++)
        variants[n++] = mts_gemm_f32_variants[k];
#if MTS_FW_CMSIS_BASELINE
    variants[n].name = "cmsis-dsp-matvec";
    variants[n].summary = "CMSIS-DSP arm_mat_vec_mult_f32, one call per time step";
    variants[n].fn = mts_fw_cmsis_matvec;
    n++;
#endif
    return n;
}

#if MTS_FW_CMSIS_BASELINE
/* The bench-only peer beside the int8-wa products (mts_device_set_peers):
 * CMSIS-DSP's q7 product, whose outputs are not the model's. */
static const mts_gemm_i8i8_variant peers[] = {
    {"cmsis-dsp-q7", "CMSIS-DSP arm_mat_vec_mult_q7, one call per time step (saturated q7)",
     mts_fw_cmsis_q7, 0u},
};
#define MTS_FW_NUM_PEERS 1u
#else
#define peers NULL
#define MTS_FW_NUM_PEERS 0u
#endif

static void counters_start(void *ctx)
{
    (void)ctx;
    mts_counters_start();
}

static uint32_t counters_stop(void *ctx, uint64_t values[MTS_NUM_COUNTERS])
{
    (void)ctx;
    mts_counter_values v = mts_counters_stop();
    uint32_t valid = 0;
    if (v.cycles_valid) {
        values[MTS_COUNTER_CYCLES] = v.cycles;
        valid |= MTS_COUNTER_BIT(MTS_COUNTER_CYCLES);
    }
    if (ticks_as == MTS_FW_TICKS_CYCLES && v.ticks_valid) {
        values[MTS_COUNTER_CYCLES] = v.ticks;
        valid |= MTS_COUNTER_BIT(MTS_COUNTER_CYCLES);
    }
    if (ticks_as == MTS_FW_TICKS_INSTRUCTIONS && v.ticks_valid) {
        values[MTS_COUNTER_INSTRUCTIONS] = mts_counters_ticks_to_ns(v.ticks);
        valid |= MTS_COUNTER_BIT(MTS_COUNTER_INSTRUCTIONS);
    }
    return valid;
}

void mts_fw_run(mts_board *board, mts_fw_ticks ticks)
{
    ticks_as = ticks;
    board->counters_available = 0;
    if (mts_counters_cycles_available() || ticks == MTS_FW_TICKS_CYCLES) {
        board->counters_available |= MTS_COUNTER_BIT(MTS_COUNTER_CYCLES);
    }
    if (ticks == MTS_FW_TICKS_INSTRUCTIONS) {
        board->counters_available |= MTS_COUNTER_BIT(MTS_COUNTER_INSTRUCTIONS);
    }
    board->counters_start = counters_start;
    board->counters_stop = counters_stop;

    const mts_device_config config = {
        .models = mts_fw_models,
        .num_models = MTS_FW_NUM_MODELS,
        .max_block = MTS_FW_MAX_BLOCK,
        .max_steps = MTS_FW_MAX_STEPS,
        .state = mts_fw_state,
        .state_floats = FW_STATE_FLOATS,
        .workspace = mts_fw_workspace,
        .workspace_bytes = sizeof mts_fw_workspace,
        .input = mts_fw_input,
        .input_floats = FW_INPUT_FLOATS,
        .output = mts_fw_output,
        .output_floats = FW_OUTPUT_FLOATS,
        .arena = MTS_FW_ARENA,
        .arena_bytes = MTS_FW_ARENA_BYTES,
    };
    /* On failure the device still runs and answers e-init <reason>. */
    (void)mts_device_init(&device, board, &config);
    (void)mts_device_set_variants(&device, variants, list_variants());
    (void)mts_device_set_peers(&device, peers, MTS_FW_NUM_PEERS);
    for (;;) {
        mts_device_run(&device);    /* returns only if read_byte gives -1 */
    }
}
