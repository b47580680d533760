/* The device side of the mtsrnn device protocol (docs/protocol.md, version 2.2),
 * written once for every board: MCU firmware over a UART, the Linux program
 * mtsrnn-device over stdin/stdout, a tty or TCP.
 *
 * Portable C99: no malloc, no stdio, no libm, no writable static data. All
 * memory is the board's: it allocates an mts_device (the context: line
 * buffer, selection, counters of the protocol state) and the buffers of an
 * mts_device_config (model state, kernel workspace, input and output frames),
 * statically on an MCU. The board talks to the world through an mts_board:
 * write bytes, read one byte (blocking), start and stop its counters.
 *
 * Use:
 *
 *     static mts_device device;                      // ~1 KB
 *     static const mts_device_model models[] = {
 *         { "demo_sru", &demo_sru_model, &demo_sru_golden_input[0][0],
 *           &demo_sru_golden_output[0][0], DEMO_SRU_GOLDEN_STEPS,
 *           DEMO_SRU_GOLDEN_TOLERANCE },
 *     };
 *     static unsigned char arena[2 * 65536] __attribute__((aligned(64)));
 *     mts_device_config config = { models, 1, MAX_BLOCK, MAX_STEPS,
 *         state, STATE_FLOATS, workspace, sizeof workspace,
 *         input, INPUT_FLOATS, output, OUTPUT_FLOATS,
 *         arena, sizeof arena };   // `upload`; NULL, 0: none
 *     mts_device_init(&device, &board, &config);   // checks every size
 *     mts_device_run(&device);                     // returns at EOF only
 *
 * Buffer sizes, for max_block = T and max_steps = S over the built-in models
 * (the macros of `mtsrnn export-c`, exported with `--block T`):
 *   state      >= max of <NAME>_STATE_FLOATS                      floats
 *   workspace  >= max of <NAME>_WORKSPACE_BYTES                   bytes
 *                 (mts_model_workspace_size(model, T, S); a stack with a
 *                 bidirectional layer also depends on S: export it with
 *                 --golden-steps S or size it with that function)
 *   input      >= S * max of <NAME>_INPUT_SIZE                    floats
 *   output     >= S * max of <NAME>_OUTPUT_SIZE                   floats
 * MTS_DEVICE_IO_FLOATS(S, size) spells the last two. mts_device_init checks
 * all of them against every model and fails with MTS_ERR_WORKSPACE_TOO_SMALL
 * (workspace), MTS_ERR_BAD_STATE_SIZE (state) or MTS_ERR_BUFFER_TOO_SMALL
 * (input, output) otherwise.
 *
 * Variants: a model's blocked products are the variants of the table of
 * its weights' scheme (docs/quantization.md): float32 layers the board's
 * list (mts_device_set_variants; default mts_gemm_f32_variants), int8-w
 * layers mts_gemm_i8f32_variants, int8-wa layers mts_gemm_i8i8_variants,
 * resolved by name with the kernels' mts_model_select_variant /
 * mts_model_next_variant (mtsrnn/model.h). A model whose layers mix
 * schemes is offered the names present in every table its layers use (in
 * the order of the first of them: float32, int8-w, int8-wa). `variant
 * <name>` records the choice by name; every model offering that name runs
 * it, the others their default (the first they offer). `selftest` checks
 * each model with every variant it offers.
 *
 * State: the selected model's streaming state lives in `state` and carries
 * across `infer` commands. `bench` and `selftest` run in the same buffer, so
 * they leave the selected model's state reset to zeros (as after `reset`).
 *
 * Payloads are little-endian float32; the device copies bytes to and from
 * its float buffers, so it supports little-endian targets only (as the .mts
 * loader does).
 */
#ifndef MTSRNN_DEVICE_H
#define MTSRNN_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "mtsrnn/model.h"
#include "mtsrnn/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 2.0: every reply line carries a check, commands may carry one (and must,
 * once the device is in checked mode), replies name what produced them
 * (docs/protocol.md, "Versions"); `id` describes each model's stages
 * (`stages=`). */
#define MTS_PROTO_VERSION 2
/* 2.1: `upload` (a model file into the RAM arena), `id`'s m-limits names the
 * arena and the buffers an uploaded model must fit. */
/* 2.2: bench-only peers: `peer`, `bench ... peer=<name>`. */
#define MTS_PROTO_MINOR 2
#define MTS_PROTO_MAX_LINE 512u     /* bytes of a line before its '\n' */
#define MTS_PROTO_CHUNK_BYTES 64u   /* payload bytes per d line */
/* The check every line the device sends ends with, and a command may:
 * " #" and the 8 hex digits of the CRC-32 of the bytes before it. */
#define MTS_PROTO_CHECK_BYTES 10u
#define MTS_FW_NAME "mtsrnn"
#define MTS_FW_VERSION "0.1.0"

#define MTS_DEVICE_IO_FLOATS(max_steps, size) ((size_t)(max_steps) * (size_t)(size))

/* The counters a board may have, in the order `id` lists them. */
typedef enum mts_counter_id {
    MTS_COUNTER_CYCLES = 0,         /* hardware cycles (DWT CYCCNT, PMCCNTR) */
    MTS_COUNTER_INSTRUCTIONS = 1,   /* retired instructions (QEMU -icount SysTick) */
    MTS_COUNTER_NS = 2,             /* nanoseconds of wall time (CLOCK_MONOTONIC) */
    MTS_NUM_COUNTERS = 3
} mts_counter_id;

#define MTS_COUNTER_BIT(id) (1u << (id))

/* What a board provides. The device only reads it; every function gets the
 * board's ctx as its first argument. */
typedef struct mts_board {
    const char *name;               /* e.g. "mps2-an386", "linux"; no spaces */
    const char *core;               /* e.g. "cortex-m4f", "x86_64"; no spaces */
    uint32_t clock_hz;              /* core clock, 0 when unknown */
    void *ctx;
    /* Send n bytes (blocking; a failed write is the board's business). */
    void (*write)(void *ctx, const char *bytes, size_t n);
    /* The next received byte 0..255 (blocking), or -1 at end of input:
     * mts_device_run then returns. An MCU never returns -1. */
    int (*read_byte)(void *ctx);
    /* MTS_COUNTER_BIT mask of the counters that count on this board (`id`
     * reports the others as unavailable). 0: no counters; then the two
     * functions below may be NULL. */
    uint32_t counters_available;
    /* Zero and start the counters, right before a kernel call. */
    void (*counters_start)(void *ctx);
    /* Stop them right after it and store each counter's count since start
     * in values[id]; return the MTS_COUNTER_BIT mask of the values that are
     * valid this time (normally counters_available). */
    uint32_t (*counters_stop)(void *ctx, uint64_t values[MTS_NUM_COUNTERS]);
} mts_board;

/* A built-in model. Everything is borrowed and must outlive the device. */
typedef struct mts_device_model {
    const char *name;               /* shown by `id`; no spaces */
    const mts_model *model;
    /* Golden vectors of `mtsrnn export-c` (<name>_golden_input/_output,
     * row-major [golden_steps][input] / [golden_steps][output]), run by
     * `selftest` from the zero state; NULL when the model has none (then
     * selftest reports it with result=skip). */
    const float *golden_input;
    const float *golden_output;
    uint32_t golden_steps;          /* <NAME>_GOLDEN_STEPS */
    float golden_tolerance;         /* <NAME>_GOLDEN_TOLERANCE, max abs error */
} mts_device_model;

/* The models and the buffers the board lends to the device (sizes above). */
typedef struct mts_device_config {
    const mts_device_model *models;
    uint32_t num_models;            /* >= 1 */
    uint32_t max_block;             /* largest T `infer` and `bench` accept */
    uint32_t max_steps;             /* largest frame count of one `infer` */
    float *state;
    size_t state_floats;
    void *workspace;
    size_t workspace_bytes;
    float *input;
    size_t input_floats;
    float *output;
    size_t output_floats;
    /* The upload arena (`upload`, docs/protocol.md): arena_bytes of RAM,
     * 64-byte aligned, that the device splits into two halves of
     * MTS_DEVICE_ARENA_HALF(arena_bytes) bytes: one holds the uploaded
     * model in use, the other receives the next upload, which replaces it
     * only once the loader accepted it and it fits the buffers above. A
     * half holds the file and its stage descriptors. NULL and 0: no
     * uploads (`id` reports arena=0). */
    void *arena;
    size_t arena_bytes;
} mts_device_config;

/* Bytes of each half of an upload arena of `bytes` (64-byte multiples, so
 * that each half keeps the file's data alignment). */
#define MTS_DEVICE_ARENA_HALF(bytes) (((size_t)(bytes) / 2u) & ~(size_t)63u)

/* The device context. Allocated by the board (no field is for the board to
 * touch), set up by mts_device_init. */
typedef struct mts_device {
    const mts_board *board;
    mts_device_config config;
    /* The float32 variants (default: the kernels' variant table,
     * mts_gemm_f32_variants); the int8 ones are the kernels' int8 tables. */
    const mts_gemm_f32_variant *variants;
    uint32_t num_variants;
    /* The variant chosen by `variant <name>` (a name out of one of the
     * tables), or NULL for each model's default. */
    const char *variant_choice;
    /* Bench-only peers for int8-wa layers (mts_device_set_peers; none by
     * default). */
    const mts_gemm_i8i8_variant *peers;
    uint32_t num_peers;
    mts_status init_status;         /* MTS_OK after a successful init */
    uint32_t init_model;            /* the model that failed the init checks */
    uint32_t selected;              /* index of the selected model */
    /* Counts the changes of the selected model's state (model, reset,
     * infer, bench, selftest): replies name it, so a host can tell the
     * state it runs on. Wraps at 2^32. */
    uint32_t generation;
    /* Checked mode: from the first command carrying a valid check on,
     * every command must carry one (docs/protocol.md, "Checks"). */
    int checked;
    /* The check the line being answered carried (`re=` of m-ready). */
    uint32_t answering;
    int answering_known;
    size_t line_length;
    int line_overflow;              /* discarding the rest of an overlong line */
    /* The uploaded model: upload_models[upload_half] (its descriptors are
     * in that half of the arena), listed after the built-in models as
     * model config.num_models; upload_half is -1 until an upload
     * succeeded. The other half receives the next upload. */
    int upload_half;
    mts_model upload_models[2];
    mts_device_model upload_entry;
    /* The uploaded file's CRC-32 and length, named by its `m-model` line:
     * a host whose upload got no reply tells by them which file the
     * upload index holds (docs/protocol.md, "What the host guarantees"). */
    uint32_t upload_crc;
    uint32_t upload_bytes;
    char line[MTS_PROTO_MAX_LINE];
    char out[256];                  /* the reply line being composed */
    size_t out_length;
    int out_truncated;              /* it did not fit: sent as e-overflow */
} mts_device;

/* Check the config against every model (mts_model_check, state, workspace,
 * input and output sizes for max_block and max_steps, and that a model
 * mixing weight schemes has a variant name common to their tables:
 * MTS_ERR_BAD_CONFIG otherwise), select model 0 and
 * zero its state. On failure the device still runs, answering every
 * command with `e-init <reason>` (so a board with only a UART can say
 * what is wrong); device->init_model tells which model failed. */
mts_status mts_device_init(mts_device *device, const mts_board *board,
                           const mts_device_config *config);

/* Offer these variants (e.g. the kernels' variant table plus a peer
 * library's per-step product) for float32 layers to `variant`, `bench ...
 * variant=` and `selftest` instead of mts_gemm_f32_variants; every model
 * then runs its default (the first it offers). Each must compute the
 * product of mtsrnn/gemm.h. Borrowed: must outlive the device. Returns
 * MTS_ERR_NULL_POINTER, MTS_ERR_BAD_SIZE (an empty list, or a name that is
 * empty or contains a space) or MTS_ERR_BAD_CONFIG (a model mixing schemes
 * would be left with no name common to its tables), leaving the list as
 * it was. */
mts_status mts_device_set_variants(mts_device *device, const mts_gemm_f32_variant *variants,
                                   uint32_t num_variants);

/* Offer these products to `bench ... peer=<name>` and `peer` only (never
 * to `variant`, `infer` or `selftest`): peers whose outputs are not the
 * int8-wa product's, measured beside it, e.g. CMSIS-DSP's
 * arm_mat_vec_mult_q7 (saturated q7 outputs). Each takes the int8-wa
 * product's signature and replaces the int8-wa product of every layer that
 * has one. Borrowed: must outlive the device. NULL, 0: none (the default).
 * Returns MTS_ERR_NULL_POINTER or MTS_ERR_BAD_SIZE (a name that is empty
 * or contains a space), leaving the list as it was. Call after
 * mts_device_init. */
mts_status mts_device_set_peers(mts_device *device, const mts_gemm_i8i8_variant *peers,
                                uint32_t num_peers);

/* The protocol loop: sends `m-ready`, then reads and answers commands until
 * board->read_byte returns -1. Can be called again after it returned (e.g.
 * for the next TCP client): the selection and the state are kept, a
 * partial line is dropped, and checked mode is left (a new peer may be a
 * person at a terminal). */
void mts_device_run(mts_device *device);

/* Helpers the boards may use for their own messages (no printf on MCUs).
 * Each writes a NUL-terminated string into buf and returns its length
 * (without the NUL); buf needs 21 bytes (u64), 16 (float). */
size_t mts_format_u64(char *buf, uint64_t value);
/* ~7 significant digits, like printf("%.7g"): "0.0001", "1.234567e-06",
 * "nan", "inf", "-inf". */
size_t mts_format_float(char *buf, float value);

#ifdef __cplusplus
}
#endif

#endif /* MTSRNN_DEVICE_H */
