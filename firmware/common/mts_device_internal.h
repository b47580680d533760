/* What the files of the device library share (not for boards: they use
 * mts_device.h). The library is split by what each file holds:
 *
 *   mts_device.c           the protocol loop (a line in, its command's
 *                          reply out, `m-ready`), init, the float products
 *   mts_device_io.c        lines in, words, reply lines out, payloads in
 *                          and out with their length and CRC checks
 *   mts_device_format.c    numbers as text: decimal, float, hex
 *   mts_device_commands.c  id, model, reset, variant (kernel)
 *   mts_device_run.c       the commands that run a model: infer, bench,
 *                          selftest
 *   mts_device_mem.c       the memory-traffic window a QEMU plugin watches
 *   mts_device_upload.c    upload: a model file into the RAM arena
 *   mts_device_peer.c      bench-only peers: peer, the probe, the lookup
 *
 * A reply line is composed in device->out (mts_dev_out_*) and sent whole
 * (mts_dev_out_send). Nothing here allocates, prints through stdio or uses
 * libm; the only state is in the caller's mts_device.
 */
#ifndef MTSRNN_DEVICE_INTERNAL_H
#define MTSRNN_DEVICE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mts_device.h"

/* Arguments a command line is split into (more are counted, not kept). */
#define MTS_DEV_MAX_WORDS 8u
#define MTS_DEV_MAX_SHOWN_WORD 32u   /* bytes of an unknown word echoed back */

/* A word of the received line: not NUL-terminated. */
typedef struct mts_dev_word {
    const char *text;
    size_t length;
} mts_dev_word;

/* ---- numbers as text (mts_device_format.c; mts_format_u64 and
 * mts_format_float are public, in mts_device.h) */

/* Exactly 8 lowercase hex digits of value, no NUL. */
void mts_dev_format_hex32(char buf[8], uint32_t value);
/* The 2 lowercase hex digits of a byte, no NUL. */
void mts_dev_format_hex_byte(char pair[2], unsigned char byte);
/* The value 0..15 of a hex digit (either case), or -1. */
int mts_dev_hex_value(char c);

/* ---- the memory-traffic window of bench (mts_device_mem.c): open marks
 * the start and names the span of `model`'s weights, close marks the end. */
void mts_dev_mem_window_open(const mts_model *model);
void mts_dev_mem_window_close(void);

/* ---- words (mts_device_io.c) */

int mts_dev_word_is(mts_dev_word w, const char *text);
/* A decimal integer 0..UINT32_MAX, digits only: 1 with *value set, else 0. */
int mts_dev_parse_u32(const char *text, size_t length, uint32_t *value);
/* Exactly 8 hex digits: 1 with *value set, else 0. */
int mts_dev_parse_crc(mts_dev_word w, uint32_t *value);
/* Split the line at single spaces into words[MTS_DEV_MAX_WORDS]; returns
 * the number of words (all of them, though only MTS_DEV_MAX_WORDS are
 * stored). */
size_t mts_dev_split_words(const char *line, size_t length, mts_dev_word *words);

/* ---- reply lines (mts_device_io.c). Room for the '\n' is kept at the
 * end of device->out; text beyond it is cut. */

void mts_dev_out_begin(mts_device *device, const char *text);
/* Bytes the reply line being composed can still take. */
size_t mts_dev_out_room(const mts_device *device);
void mts_dev_out_bytes(mts_device *device, const char *bytes, size_t n);
void mts_dev_out_text(mts_device *device, const char *text);
void mts_dev_out_u64(mts_device *device, uint64_t value);
void mts_dev_out_float(mts_device *device, float value);
void mts_dev_out_hex32(mts_device *device, uint32_t value);
/* " key=<value>" */
void mts_dev_out_key_u64(mts_device *device, const char *key, uint64_t value);
/* A word of the received line, at most MTS_DEV_MAX_SHOWN_WORD bytes,
 * non-printable bytes as '?'. */
void mts_dev_out_shown_word(mts_device *device, mts_dev_word w);
/* Append '\n' and write the line. */
void mts_dev_out_send(mts_device *device);
void mts_dev_send_line(mts_device *device, const char *text);
void mts_dev_send_ready(mts_device *device);
/* `e-<code> <reason>` */
void mts_dev_send_error(mts_device *device, const char *code, const char *reason);
/* `e-overflow line longer than 512 bytes` */
void mts_dev_send_overflow(mts_device *device);

/* ---- lines and payloads in (mts_device_io.c) */

/* Read one line into device->line (without '\n' and a '\r' before it).
 * Returns 0, or -1 at end of input. device->line_overflow says the line was
 * longer than MTS_PROTO_MAX_LINE (its bytes were discarded). */
int mts_dev_read_line(mts_device *device);

typedef enum mts_dev_payload_result {
    MTS_DEV_PAYLOAD_OK,        /* all bytes arrived, CRC matched */
    MTS_DEV_PAYLOAD_BAD,       /* all announced bytes were counted; device->out holds e-payload */
    MTS_DEV_PAYLOAD_ABORTED,   /* another line came: its error was sent already */
    MTS_DEV_PAYLOAD_EOF
} mts_dev_payload_result;

/* Read `d <hex>` lines until `bytes` bytes have been counted, into dest
 * (NULL: check and drop). A malformed chunk counts as half its digits
 * (rounded up), so a damaged payload still ends where the host's does and
 * gets one error reply. */
mts_dev_payload_result mts_dev_read_payload(mts_device *device, unsigned char *dest,
                                            uint32_t bytes, uint32_t announced_crc);
/* m-payload bytes=<n> crc32=<hex>, then d-<hex> lines of 64 bytes. */
void mts_dev_send_payload(mts_device *device, const void *data, size_t bytes);

/* ---- models and their variants (mts_device.c) */

/* The built-in models, then the uploaded one when there is one. */
uint32_t mts_dev_num_models(const mts_device *device);
const mts_device_model *mts_dev_model_entry(const mts_device *device, uint32_t index);
const mts_device_model *mts_dev_selected_model(const mts_device *device);
/* Whether `entry` fits the device's buffers (workspace, state, input and
 * output for max_block and max_steps) and offers a variant: MTS_OK or the
 * failing check's status (mts_device_init's checks). */
mts_status mts_dev_check_model(const mts_device *device, const mts_device_config *config,
                               const mts_device_model *entry);
/* The model's state (in config.state) to zeros. */
void mts_dev_reset_state(mts_device *device, const mts_model *model);
void mts_dev_reset_selected(mts_device *device);
size_t mts_dev_model_state_floats(const mts_model *model);
/* The next variant `model` offers (mts_model_next_variant over the
 * device's float products); its name, or NULL after the last. */
const char *mts_dev_next_variant(const mts_device *device, const mts_model *model,
                                 size_t *position, mts_run_options *options);
/* The variant a model runs: the chosen one when it offers it, else its
 * default (the first it offers). Sets options' products; returns its name
 * and its position among the model's variants in *index. */
const char *mts_dev_model_variant(const mts_device *device, const mts_model *model,
                                  mts_run_options *options, uint32_t *index);

/* ---- the commands (mts_device_commands.c, mts_device_run.c) */

/* The words of the variant commands: `variant` and its alias `kernel`,
 * which answers exactly as in protocol 1.0 (docs/protocol.md). */
typedef struct mts_dev_variant_words {
    const char *command;        /* "variant" or "kernel" */
    const char *listed;         /* the tag of a listed one: "m-variant" */
    const char *selected;       /* "m-selected-variant" */
    const char *usage;          /* e-bad-args reason of a malformed command */
    const char *lists;          /* the end of the no-such-name reply */
} mts_dev_variant_words;

extern const mts_dev_variant_words mts_dev_variant_command;
extern const mts_dev_variant_words mts_dev_kernel_alias;

/* `e-bad-args no <variant|kernel> <name> for model <i> (...)` */
void mts_dev_send_no_variant(mts_device *device, const mts_dev_variant_words *words,
                             mts_dev_word name);
void mts_dev_send_kernel_error(mts_device *device, mts_status status);

void mts_dev_command_id(mts_device *device, size_t count);
void mts_dev_command_model(mts_device *device, const mts_dev_word *words, size_t count);
void mts_dev_command_reset(mts_device *device, size_t count);
void mts_dev_command_variant(mts_device *device, const mts_dev_variant_words *names,
                             const mts_dev_word *words, size_t count);
/* Returns -1 at end of input (while reading the payload), else 0. */
int mts_dev_command_infer(mts_device *device, const mts_dev_word *words, size_t count);
void mts_dev_command_bench(mts_device *device, const mts_dev_word *words, size_t count);
void mts_dev_command_selftest(mts_device *device, size_t count);
/* `peer [<name>]` (mts_device_peer.c). */
void mts_dev_command_peer(mts_device *device, const mts_dev_word *words, size_t count);
/* The peer named `name`, or NULL. */
const mts_gemm_i8i8_variant *mts_dev_find_peer(const mts_device *device, mts_dev_word name);
/* `upload <bytes> <crc32>` (mts_device_upload.c). Returns -1 at end of
 * input (while reading the file), else 0. */
int mts_dev_command_upload(mts_device *device, const mts_dev_word *words, size_t count);

#endif /* MTSRNN_DEVICE_INTERNAL_H */
