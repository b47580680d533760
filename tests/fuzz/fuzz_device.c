/* libFuzzer target for the device protocol loop (firmware/common): each
 * input is the byte stream a host sends, fed to mts_device_run through a
 * fake board of memory-backed I/O (reads from the input, writes into a
 * buffer, fixed counters), with two small models loaded from .mts files
 * (FUZZ_DEVICE_MODELS="a.mts:b.mts", written by make_corpus.py). Whatever
 * the input, every line the device sends must be well formed: printable
 * ASCII, a type m-/d-/e-, at most the reply buffer, ending with " #" and the
 * CRC-32 of its text; every m-ready names the line it answers (re=- or 8 hex
 * digits); and after the input plus two newlines the last line is an
 * m-ready (the device answers an empty line even in a payload wait).
 * `upload` gets a small arena (ARENA_BYTES, both halves), so that uploads
 * of the seed models fit and larger ones are refused within a run; `peer`
 * and `bench ... peer=` get one bench-only peer (the int8-wa reference
 * product under the name fuzz-peer).
 * Build and run: ci/fuzz.sh (bounded).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mts_device.h"
#include "mtsrnn/file.h"

#define MAX_BLOCK 4u
#define MAX_STEPS 8u
#define MAX_MODELS 2
#define OUTPUT_CAP (1u << 22)
#define ARENA_BYTES 16384u

static unsigned char arena[ARENA_BYTES] __attribute__((aligned(64)));

typedef struct fake_board {
    const uint8_t *input;
    size_t size, position;
    char *output;
    size_t length;
    int overflowed;
} fake_board;

static int fake_read(void *ctx)
{
    fake_board *b = (fake_board *)ctx;
    static const uint8_t tail[2] = {'\n', '\n'};
    if (b->position < b->size)
        return b->input[b->position++];
    if (b->position < b->size + 2u)
        return tail[b->position++ - b->size];
    return -1;
}

static void fake_write(void *ctx, const char *bytes, size_t n)
{
    fake_board *b = (fake_board *)ctx;
    if (b->length + n > OUTPUT_CAP) {
        b->overflowed = 1;
        return;
    }
    memcpy(b->output + b->length, bytes, n);
    b->length += n;
}

static void fake_start(void *ctx)
{
    (void)ctx;
}

static uint32_t fake_stop(void *ctx, uint64_t values[MTS_NUM_COUNTERS])
{
    (void)ctx;
    values[MTS_COUNTER_CYCLES] = 12345u;
    values[MTS_COUNTER_NS] = 678u;
    return MTS_COUNTER_BIT(MTS_COUNTER_CYCLES) | MTS_COUNTER_BIT(MTS_COUNTER_NS);
}

static const mts_gemm_i8i8_variant peers[] = {
    {"fuzz-peer", "the int8-wa reference as a bench-only peer", mts_gemm_i8i8_reference, 0u},
};

static mts_device_model models[MAX_MODELS];
static mts_model loaded[MAX_MODELS];
static uint32_t num_models;
static mts_device_config config;

static void *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    const long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *data = n > 0 ? malloc((size_t)n) : NULL; /* malloc aligns for any type */
    if (data == NULL || fread(data, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(data);
        return NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return data;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *list = getenv("FUZZ_DEVICE_MODELS");
    if (list == NULL) {
        fprintf(stderr, "fuzz_device: set FUZZ_DEVICE_MODELS=a.mts:b.mts\n");
        abort();
    }
    char paths[1024];
    snprintf(paths, sizeof paths, "%s", list);
    size_t state = 0, workspace = 0, input = 0, output = 0;
    for (char *path = strtok(paths, ":"); path && num_models < MAX_MODELS;
         path = strtok(NULL, ":")) {
        size_t size = 0, descriptor_bytes = 0;
        void *data = read_file(path, &size);
        if (data == NULL || mts_file_descriptor_size(data, size, &descriptor_bytes, NULL) != MTS_OK)
            abort();
        void *descriptors = malloc(descriptor_bytes);
        mts_model *model = &loaded[num_models];
        if (mts_file_load(data, size, 0, descriptors, descriptor_bytes, model, NULL) != MTS_OK)
            abort();
        size_t s, w, in, out;
        if (mts_model_state_size(model, &s) != MTS_OK ||
            mts_model_workspace_size(model, MAX_BLOCK, MAX_STEPS, &w) != MTS_OK ||
            mts_model_io_sizes(model, &in, &out) != MTS_OK)
            abort();
        state = s > state ? s : state;
        workspace = w > workspace ? w : workspace;
        input = in > input ? in : input;
        output = out > output ? out : output;
        models[num_models] = (mts_device_model){"fuzz", model, NULL, NULL, 0, 0.0f};
        num_models++;
    }
    config = (mts_device_config){models, num_models, MAX_BLOCK, MAX_STEPS,
                                 malloc(state * sizeof(float)), state,
                                 malloc(workspace), workspace,
                                 malloc(MAX_STEPS * input * sizeof(float)), MAX_STEPS * input,
                                 malloc(MAX_STEPS * output * sizeof(float)), MAX_STEPS * output,
                                 arena, sizeof arena};
    return 0;
}

static int hex_digit(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* One sent line, without its '\n': well formed, or abort. */
static void check_line(const char *line, size_t n, int *ready)
{
    if (n < 2u + MTS_PROTO_CHECK_BYTES || n > 255u)
        abort();
    if (!((line[0] == 'm' || line[0] == 'd' || line[0] == 'e') && line[1] == '-'))
        abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)line[i] < 0x20u || (unsigned char)line[i] > 0x7Eu)
            abort();
    const size_t text = n - MTS_PROTO_CHECK_BYTES;
    if (line[text] != ' ' || line[text + 1] != '#')
        abort();
    uint32_t check = 0;
    for (size_t i = text + 2; i < n; i++) {
        if (!hex_digit(line[i]))
            abort();
        check = check << 4 | (uint32_t)(line[i] <= '9' ? line[i] - '0' : line[i] - 'a' + 10);
    }
    if (mts_crc32(0, line, text) != check)
        abort();
    *ready = text >= 7u && memcmp(line, "m-ready", 7) == 0 && (text == 7u || line[7] == ' ');
    if (*ready) {
        /* re=- or re=<8 hex>, last before the check */
        const char *re = NULL;
        for (size_t i = 7; i + 4 <= text; i++)
            if (memcmp(line + i, " re=", 4) == 0)
                re = line + i + 4;
        if (re == NULL)
            abort();
        const size_t rest = (size_t)(line + text - re);
        if (!(rest == 1u && re[0] == '-')) {
            if (rest != 8u)
                abort();
            for (size_t i = 0; i < 8u; i++)
                if (!hex_digit(re[i]))
                    abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char *output;
    if (output == NULL)
        output = malloc(OUTPUT_CAP);
    fake_board fake = {data, size, 0, output, 0, 0};
    const mts_board board = {"fuzz", "host", 0, &fake, fake_write, fake_read,
                             MTS_COUNTER_BIT(MTS_COUNTER_CYCLES) |
                                 MTS_COUNTER_BIT(MTS_COUNTER_NS),
                             fake_start, fake_stop};
    mts_device device;
    if (mts_device_init(&device, &board, &config) != MTS_OK ||
        mts_device_set_peers(&device, peers, 1u) != MTS_OK)
        abort();
    mts_device_run(&device);
    if (fake.overflowed)
        return 0; /* a flood of replies: checked up to the cap only */
    int ready = 0;
    size_t start = 0;
    for (size_t i = 0; i < fake.length; i++) {
        if (output[i] == '\n') {
            check_line(output + start, i - start, &ready);
            start = i + 1;
        }
    }
    if (start != fake.length || !ready)
        abort(); /* a partial last line, or the stream does not end ready */
    return 0;
}
