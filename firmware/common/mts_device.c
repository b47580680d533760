/* The device side of the protocol (docs/protocol.md), once for every board.
 *
 * Shape: mts_device_run reads lines into device->line and hands each to
 * handle_line, which answers it and ends with `m-ready`. A reply line is
 * composed in device->out (reply_* helpers) and sent whole. `infer` reads
 * its `d` lines with read_payload. Nothing here allocates, prints through
 * stdio or uses libm; the only state is in the caller's mts_device.
 */
#include "mts_device.h"

#include <string.h>

#include "mtsrnn/file.h"

/* Arguments a command line is split into (more are counted, not kept). */
#define MAX_WORDS 8u
#define MAX_SHOWN_WORD 32u       /* bytes of an unknown word echoed back */
#define CHUNK_HEX_DIGITS (2u * MTS_PROTO_CHUNK_BYTES)

static const char hex_digits[16] = {'0', '1', '2', '3', '4', '5', '6', '7',
                                    '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
static const char *const counter_names[MTS_NUM_COUNTERS] = {"cycles", "instructions", "ns"};

typedef struct word {
    const char *text;
    size_t length;
} word;

/* ------------------------------------------------------------ formatting */

size_t mts_format_u64(char *buf, uint64_t value)
{
    char reversed[20];
    size_t n = 0;
    do {
        reversed[n++] = (char)('0' + (int)(value % 10u));
        value /= 10u;
    } while (value != 0u);
    for (size_t i = 0; i < n; i++)
        buf[i] = reversed[n - 1 - i];
    buf[n] = '\0';
    return n;
}

static size_t put_text(char *buf, size_t at, const char *text)
{
    while (*text != '\0')
        buf[at++] = *text++;
    return at;
}

size_t mts_format_float(char *buf, float value)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    const int negative = (bits >> 31) != 0u;
    const uint32_t exponent_bits = (bits >> 23) & 0xFFu;
    size_t n = 0;
    if (exponent_bits == 0xFFu && (bits & 0x7FFFFFu) != 0u) {
        n = put_text(buf, 0, "nan");
        buf[n] = '\0';
        return n;
    }
    if (negative)
        buf[n++] = '-';
    if (exponent_bits == 0xFFu) {
        n = put_text(buf, n, "inf");
        buf[n] = '\0';
        return n;
    }
    if ((bits & 0x7FFFFFFFu) == 0u) {
        buf[n++] = '0';
        buf[n] = '\0';
        return n;
    }
    /* Scale |value| into [1, 10) by powers 10^(2^i) (float range: |e10| <= 45),
     * in double so that the 7 digits are right. */
    static const double powers[6] = {1e1, 1e2, 1e4, 1e8, 1e16, 1e32};
    double x = negative ? -(double)value : (double)value;
    int e10 = 0;
    if (x >= 10.0) {
        for (int i = 5; i >= 0; i--) {
            if (x >= powers[i]) {
                x /= powers[i];
                e10 += 1 << i;
            }
        }
    } else if (x < 1.0) {
        for (int i = 5; i >= 0; i--) {
            if (x * powers[i] < 10.0) {
                x *= powers[i];
                e10 -= 1 << i;
            }
        }
    }
    /* 7 digits, rounded half to even as printf does. */
    const double scaled = x * 1e6;
    uint32_t mantissa = (uint32_t)scaled;
    const double fraction = scaled - (double)mantissa;
    if (fraction > 0.5 || (fraction == 0.5 && (mantissa & 1u) != 0u))
        mantissa++;
    if (mantissa >= 10000000u) {
        mantissa = 1000000u;
        e10++;
    }
    char digits[7];
    for (int i = 6; i >= 0; i--) {
        digits[i] = (char)('0' + (int)(mantissa % 10u));
        mantissa /= 10u;
    }
    int last = 6; /* the last significant digit kept (trailing zeros dropped) */
    while (last > 0 && digits[last] == '0')
        last--;
    if (e10 < -4 || e10 >= 7) { /* d.dddddde+XX, as %g */
        buf[n++] = digits[0];
        if (last > 0) {
            buf[n++] = '.';
            for (int i = 1; i <= last; i++)
                buf[n++] = digits[i];
        }
        buf[n++] = 'e';
        buf[n++] = e10 < 0 ? '-' : '+';
        const int magnitude = e10 < 0 ? -e10 : e10;
        buf[n++] = (char)('0' + magnitude / 10);
        buf[n++] = (char)('0' + magnitude % 10);
    } else if (e10 < 0) { /* 0.000ddd */
        buf[n++] = '0';
        buf[n++] = '.';
        for (int i = -1; i > e10; i--)
            buf[n++] = '0';
        for (int i = 0; i <= last; i++)
            buf[n++] = digits[i];
    } else { /* ddd.dddd */
        for (int i = 0; i <= e10; i++)
            buf[n++] = digits[i];
        if (last > e10) {
            buf[n++] = '.';
            for (int i = e10 + 1; i <= last; i++)
                buf[n++] = digits[i];
        }
    }
    buf[n] = '\0';
    return n;
}

/* ------------------------------------------------------------ reply lines */

/* Room for the '\n' is kept at the end of device->out; text beyond it is cut. */
static void out_bytes(mts_device *device, const char *bytes, size_t n)
{
    const size_t room = sizeof device->out - 1u - device->out_length;
    if (n > room)
        n = room;
    memcpy(device->out + device->out_length, bytes, n);
    device->out_length += n;
}

static void out_text(mts_device *device, const char *text)
{
    out_bytes(device, text, strlen(text));
}

static void out_u64(mts_device *device, uint64_t value)
{
    char buf[21];
    out_bytes(device, buf, mts_format_u64(buf, value));
}

static void out_float(mts_device *device, float value)
{
    char buf[16];
    out_bytes(device, buf, mts_format_float(buf, value));
}

static void out_hex32(mts_device *device, uint32_t value)
{
    char buf[8];
    for (int i = 7; i >= 0; i--) {
        buf[i] = hex_digits[value & 15u];
        value >>= 4;
    }
    out_bytes(device, buf, sizeof buf);
}

/* " key=<value>" */
static void out_key_u64(mts_device *device, const char *key, uint64_t value)
{
    out_text(device, " ");
    out_text(device, key);
    out_text(device, "=");
    out_u64(device, value);
}

/* A word of the received line, at most MAX_SHOWN_WORD bytes, non-printable
 * bytes as '?'. */
static void out_shown_word(mts_device *device, word w)
{
    const size_t n = w.length < MAX_SHOWN_WORD ? w.length : MAX_SHOWN_WORD;
    for (size_t i = 0; i < n; i++) {
        const unsigned char c = (unsigned char)w.text[i];
        const char shown = c >= 0x21u && c <= 0x7Eu ? (char)c : '?';
        out_bytes(device, &shown, 1);
    }
}

static void out_begin(mts_device *device, const char *text)
{
    device->out_length = 0;
    out_text(device, text);
}

static void out_send(mts_device *device)
{
    device->out[device->out_length++] = '\n';
    device->board->write(device->board->ctx, device->out, device->out_length);
    device->out_length = 0;
}

static void send_line(mts_device *device, const char *text)
{
    out_begin(device, text);
    out_send(device);
}

static void send_ready(mts_device *device)
{
    send_line(device, "m-ready");
}

static void send_error(mts_device *device, const char *code, const char *reason)
{
    out_begin(device, "e-");
    out_text(device, code);
    out_text(device, " ");
    out_text(device, reason);
    out_send(device);
}

/* ------------------------------------------------------------ parsing */

static int word_is(word w, const char *text)
{
    const size_t n = strlen(text);
    return w.length == n && memcmp(w.text, text, n) == 0;
}

/* A decimal integer 0..UINT32_MAX, digits only. */
static int parse_u32(const char *text, size_t length, uint32_t *value)
{
    if (length == 0u || length > 10u)
        return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < length; i++) {
        if (text[i] < '0' || text[i] > '9')
            return 0;
        v = v * 10u + (uint64_t)(text[i] - '0');
    }
    if (v > 0xFFFFFFFFu)
        return 0;
    *value = (uint32_t)v;
    return 1;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Exactly 8 hex digits. */
static int parse_crc(word w, uint32_t *value)
{
    if (w.length != 8u)
        return 0;
    uint32_t v = 0;
    for (size_t i = 0; i < 8u; i++) {
        const int digit = hex_value(w.text[i]);
        if (digit < 0)
            return 0;
        v = (v << 4) | (uint32_t)digit;
    }
    *value = v;
    return 1;
}

/* Split the line at single spaces; returns the number of words (all of
 * them, though only MAX_WORDS are stored). */
static size_t split_words(const char *line, size_t length, word *words)
{
    size_t count = 0, start = 0;
    for (size_t i = 0; i <= length; i++) {
        if (i == length || line[i] == ' ') {
            if (count < MAX_WORDS) {
                words[count].text = line + start;
                words[count].length = i - start;
            }
            count++;
            start = i + 1;
        }
    }
    return count;
}

/* ------------------------------------------------------------ lines in */

/* Read one line into device->line (without '\n' and a '\r' before it).
 * Returns 0, or -1 at end of input. device->line_overflow says the line was
 * longer than MTS_PROTO_MAX_LINE (its bytes were discarded). */
static int read_line(mts_device *device)
{
    const mts_board *board = device->board;
    device->line_length = 0;
    device->line_overflow = 0;
    for (;;) {
        const int c = board->read_byte(board->ctx);
        if (c < 0)
            return -1;
        if (c == '\n')
            break;
        if (device->line_overflow)
            continue;
        if (device->line_length == MTS_PROTO_MAX_LINE) {
            device->line_overflow = 1;
            continue;
        }
        device->line[device->line_length++] = (char)c;
    }
    if (!device->line_overflow && device->line_length > 0u &&
        device->line[device->line_length - 1u] == '\r')
        device->line_length--;
    return 0;
}

static void send_overflow(mts_device *device)
{
    out_begin(device, "e-overflow line longer than ");
    out_u64(device, MTS_PROTO_MAX_LINE);
    out_text(device, " bytes");
    out_send(device);
}

/* ------------------------------------------------------------ models */

static const mts_device_model *selected_model(const mts_device *device)
{
    return &device->config.models[device->selected];
}

static size_t model_state_floats(const mts_model *model)
{
    size_t floats = 0;
    if (mts_model_state_size(model, &floats) != MTS_OK)
        return 0;
    return floats;
}

static void reset_state(mts_device *device, const mts_model *model)
{
    (void)mts_model_reset_state(model, device->config.state, model_state_floats(model));
}

static void reset_selected(mts_device *device)
{
    reset_state(device, selected_model(device)->model);
}

/* Bytes of weights a pass streams: float32 arrays, and for a quantised
 * layer its int8 product weights (one byte each) plus their float32 scales
 * (one per row) instead of the float ones. */
static uint64_t model_weight_bytes(const mts_model *model)
{
    uint64_t bytes = 0;
    for (uint32_t l = 0; l < model->num_layers; l++) {
        if (model->cell == MTS_CELL_SRU) {
            const mts_sru_layer *layer = &model->sru[l];
            mts_sru_array_sizes s;
            if (mts_sru_layer_array_sizes(layer, &s) != MTS_OK)
                continue;
            const uint64_t products = (uint64_t)s.weight + s.weight_proj;
            bytes += layer->quant != MTS_QUANT_NONE
                         ? products + sizeof(float) * ((uint64_t)s.weight_rows + s.weight_proj_rows)
                         : sizeof(float) * products;
            bytes += sizeof(float) * ((uint64_t)s.bias + s.norm_weight + s.norm_bias);
            if (layer->weight_c != NULL)
                bytes += sizeof(float) * (uint64_t)s.weight_c;
        } else {
            const mts_qrnn_layer *layer = &model->qrnn[l];
            mts_qrnn_array_sizes s;
            if (mts_qrnn_layer_array_sizes(layer, &s) != MTS_OK)
                continue;
            bytes += layer->quant != MTS_QUANT_NONE
                         ? (uint64_t)s.weight + sizeof(float) * (uint64_t)s.weight_rows
                         : sizeof(float) * (uint64_t)s.weight;
            bytes += sizeof(float) * (uint64_t)s.bias;
        }
    }
    return bytes;
}

/* ------------------------------------------------------------ products */

/* The weight schemes of a model's layers: a mask of SCHEME_BIT(mts_quant). */
#define NUM_SCHEMES 3u
#define SCHEME_BIT(quant) (1u << (quant))
static const char *const scheme_names[NUM_SCHEMES] = {"float32", "int8-w", "int8-wa"};

static uint32_t model_schemes(const mts_model *model)
{
    uint32_t mask = 0;
    for (uint32_t l = 0; l < model->num_layers; l++) {
        const unsigned quant = model->cell == MTS_CELL_SRU ? model->sru[l].quant
                                                           : model->qrnn[l].quant;
        if (quant < NUM_SCHEMES)
            mask |= SCHEME_BIT(quant);
    }
    return mask;
}

/* A blocked product by name: its function in the table of each scheme a
 * model uses (NULL for the schemes it does not use). */
typedef struct product {
    const char *name;
    mts_gemm_f32_fn f32;
    mts_gemm_i8f32_fn i8f32;
    mts_gemm_i8i8_fn i8i8;
} product;

static size_t table_count(const mts_device *device, unsigned scheme)
{
    if (scheme == MTS_QUANT_INT8_W)
        return mts_gemm_i8f32_variant_count;
    if (scheme == MTS_QUANT_INT8_WA)
        return mts_gemm_i8i8_variant_count;
    return device->num_kernels;
}

static const char *table_name(const mts_device *device, unsigned scheme, size_t k)
{
    if (scheme == MTS_QUANT_INT8_W)
        return mts_gemm_i8f32_variants[k].name;
    if (scheme == MTS_QUANT_INT8_WA)
        return mts_gemm_i8i8_variants[k].name;
    return device->kernels[k].name;
}

/* The product `name` for a model of `schemes`: 1 when every table those
 * schemes use has it (*out filled), else 0. */
static int find_product(const mts_device *device, uint32_t schemes, word name, product *out)
{
    product found = {NULL, NULL, NULL, NULL};
    for (unsigned scheme = 0; scheme < NUM_SCHEMES; scheme++) {
        if (!(schemes & SCHEME_BIT(scheme)))
            continue;
        const size_t count = table_count(device, scheme);
        size_t k = 0;
        while (k < count && !word_is(name, table_name(device, scheme, k)))
            k++;
        if (k == count)
            return 0;
        if (found.name == NULL)
            found.name = table_name(device, scheme, k);
        if (scheme == MTS_QUANT_INT8_W)
            found.i8f32 = mts_gemm_i8f32_variants[k].fn;
        else if (scheme == MTS_QUANT_INT8_WA)
            found.i8i8 = mts_gemm_i8i8_variants[k].fn;
        else
            found.f32 = device->kernels[k].fn;
    }
    if (found.name == NULL)
        return 0;
    *out = found;
    return 1;
}

static word word_of(const char *text)
{
    const word w = {text, strlen(text)};
    return w;
}

/* The products a model of `schemes` offers, in the order of the table of
 * its first scheme: the names of that table present in every other table
 * it uses. Walks them: *position (0 to start) is where to go on in that
 * table; returns 1 with the next product in *out, or 0 after the last. */
static int next_product(const mts_device *device, uint32_t schemes, size_t *position,
                        product *out)
{
    unsigned first = 0;
    while (first < NUM_SCHEMES && !(schemes & SCHEME_BIT(first)))
        first++;
    if (first == NUM_SCHEMES)
        return 0;
    while (*position < table_count(device, first)) {
        const char *name = table_name(device, first, (*position)++);
        if (find_product(device, schemes, word_of(name), out))
            return 1;
    }
    return 0;
}

/* The product a model runs: the chosen one when it offers it, else its
 * default (the first it offers). *index gets its position among the
 * model's products. */
static product model_product(const mts_device *device, const mts_model *model, uint32_t *index)
{
    const uint32_t schemes = model_schemes(model);
    product first = {NULL, NULL, NULL, NULL}, p;
    size_t position = 0;
    *index = 0;
    for (uint32_t i = 0; next_product(device, schemes, &position, &p); i++) {
        if (i == 0u)
            first = p;
        if (device->kernel_choice == NULL)
            break;
        if (strcmp(p.name, device->kernel_choice) == 0) {
            *index = i;
            return p;
        }
    }
    return first;
}

/* Start the counters, run `model` with the blocked products `kernel` over
 * `steps` frames, stop them. Returns the kernel's status; *valid gets the
 * mask of counters read. */
static mts_status timed_forward(mts_device *device, const mts_model *model,
                                const product *kernel, uint32_t block,
                                const float *x, uint32_t steps, float *h,
                                uint64_t values[MTS_NUM_COUNTERS], uint32_t *valid)
{
    const mts_board *board = device->board;
    const mts_run_options options = {.block = block,
                                     .gemm = kernel->f32,
                                     .gemm_i8f32 = kernel->i8f32,
                                     .gemm_i8i8 = kernel->i8i8};
    const size_t state_floats = model_state_floats(model);
    for (unsigned i = 0; i < MTS_NUM_COUNTERS; i++)
        values[i] = 0;
    *valid = 0;
    const int counting = board->counters_available != 0u && board->counters_start != NULL &&
                         board->counters_stop != NULL;
    if (counting)
        board->counters_start(board->ctx);
    const mts_status status =
        mts_model_forward(model, &options, device->config.state, state_floats, x, steps, h,
                          device->config.workspace, device->config.workspace_bytes);
    if (counting)
        *valid = board->counters_stop(board->ctx, values) & board->counters_available;
    return status;
}

static void out_counters(mts_device *device, const uint64_t values[MTS_NUM_COUNTERS],
                         uint32_t valid)
{
    for (unsigned i = 0; i < MTS_NUM_COUNTERS; i++)
        if (valid & MTS_COUNTER_BIT(i))
            out_key_u64(device, counter_names[i], values[i]);
}

/* " index=<k> name=<name>" */
static void out_kernel(mts_device *device, uint32_t index, const char *name)
{
    out_key_u64(device, "index", index);
    out_text(device, " name=");
    out_text(device, name);
}

static void send_no_kernel(mts_device *device, word name)
{
    out_begin(device, "e-bad-args no kernel ");
    out_shown_word(device, name);
    out_text(device, " for model ");
    out_u64(device, device->selected);
    out_text(device, " (`kernel` lists its products)");
    out_send(device);
}

static void send_kernel_error(mts_device *device, mts_status status)
{
    send_error(device, "kernel", mts_status_str(status));
}

/* ------------------------------------------------------------ commands */

static void command_id(mts_device *device, size_t count)
{
    const mts_board *board = device->board;
    if (count != 1u) {
        send_error(device, "bad-args", "id takes no arguments");
        return;
    }
    out_begin(device, "m-fw name=" MTS_FW_NAME " version=" MTS_FW_VERSION " protocol=");
    out_u64(device, MTS_PROTO_VERSION);
    out_send(device);

    out_begin(device, "m-board name=");
    out_text(device, board->name != NULL ? board->name : "unknown");
    out_text(device, " core=");
    out_text(device, board->core != NULL ? board->core : "unknown");
    out_key_u64(device, "clock_hz", board->clock_hz);
    out_send(device);

    out_begin(device, "m-counters");
    for (unsigned i = 0; i < MTS_NUM_COUNTERS; i++) {
        out_text(device, " ");
        out_text(device, counter_names[i]);
        out_text(device, board->counters_available & MTS_COUNTER_BIT(i) ? "=available"
                                                                         : "=unavailable");
    }
    out_send(device);

    out_begin(device, "m-limits");
    out_key_u64(device, "max_block", device->config.max_block);
    out_key_u64(device, "max_steps", device->config.max_steps);
    out_send(device);

    for (uint32_t i = 0; i < device->config.num_models; i++) {
        const mts_device_model *entry = &device->config.models[i];
        size_t input = 0, output = 0;
        (void)mts_model_io_sizes(entry->model, &input, &output);
        out_begin(device, "m-model");
        out_key_u64(device, "index", i);
        out_text(device, " name=");
        out_text(device, entry->name);
        out_text(device, entry->model->cell == MTS_CELL_SRU ? " cell=sru" : " cell=qrnn");
        out_key_u64(device, "layers", entry->model->num_layers);
        out_key_u64(device, "input", input);
        out_key_u64(device, "output", output);
        out_key_u64(device, "weight_bytes", model_weight_bytes(entry->model));
        out_text(device, " dtype=f32 weights=");
        const uint32_t schemes = model_schemes(entry->model);
        const char *separator = "";
        for (unsigned scheme = 0; scheme < NUM_SCHEMES; scheme++) {
            if (schemes & SCHEME_BIT(scheme)) {
                out_text(device, separator);
                out_text(device, scheme_names[scheme]);
                separator = "+";
            }
        }
        out_send(device);
    }

    out_begin(device, "m-selected");
    out_key_u64(device, "index", device->selected);
    out_send(device);
}

static void command_model(mts_device *device, const word *words, size_t count)
{
    uint32_t index;
    if (count != 2u || !parse_u32(words[1].text, words[1].length, &index) ||
        index >= device->config.num_models) {
        out_begin(device, "e-bad-args model needs <index> 0..");
        out_u64(device, device->config.num_models - 1u);
        out_send(device);
        return;
    }
    device->selected = index;
    reset_selected(device);
    out_begin(device, "m-selected");
    out_key_u64(device, "index", index);
    out_send(device);
}

static void command_reset(mts_device *device, size_t count)
{
    if (count != 1u) {
        send_error(device, "bad-args", "reset takes no arguments");
        return;
    }
    reset_selected(device);
    send_line(device, "m-reset");
}

/* `kernel`: list the selected model's products; `kernel <name>`: choose one. */
static void command_kernel(mts_device *device, const word *words, size_t count)
{
    if (count > 2u) {
        send_error(device, "bad-args", "kernel takes no argument or a kernel name");
        return;
    }
    const mts_model *model = selected_model(device)->model;
    const uint32_t schemes = model_schemes(model);
    if (count == 2u) {
        product chosen;
        if (!find_product(device, schemes, words[1], &chosen)) {
            send_no_kernel(device, words[1]);
            return;
        }
        device->kernel_choice = chosen.name;
    } else {
        product p;
        size_t position = 0;
        for (uint32_t k = 0; next_product(device, schemes, &position, &p); k++) {
            out_begin(device, "m-kernel");
            out_kernel(device, k, p.name);
            out_send(device);
        }
    }
    uint32_t index;
    const product selected = model_product(device, model, &index);
    out_begin(device, "m-selected-kernel");
    out_kernel(device, index, selected.name);
    out_send(device);
}

typedef enum payload_result {
    PAYLOAD_OK,        /* all bytes arrived, CRC matched */
    PAYLOAD_BAD,       /* all announced bytes were counted; device->out holds e-payload */
    PAYLOAD_ABORTED,   /* another line came: its error was sent already */
    PAYLOAD_EOF
} payload_result;

/* Compose the first payload error of a command in device->out; returns 1
 * when this was the first (the caller may append details). */
static int payload_error(mts_device *device, int *failed, uint32_t chunk, const char *what)
{
    if (*failed)
        return 0;
    *failed = 1;
    out_begin(device, "e-payload chunk ");
    out_u64(device, chunk);
    out_text(device, " ");
    out_text(device, what);
    return 1;
}

/* Read `d <hex>` lines until `bytes` bytes have been counted, into dest
 * (NULL: check and drop). A malformed chunk counts as half its digits
 * (rounded up), so a damaged payload still ends where the host's does and
 * gets one error reply. */
static payload_result read_payload(mts_device *device, unsigned char *dest, uint32_t bytes,
                                   uint32_t announced_crc)
{
    uint32_t received = 0, chunk = 0, crc = 0;
    int failed = 0;
    while (received < bytes) {
        if (read_line(device) < 0)
            return PAYLOAD_EOF;
        if (device->line_overflow) {
            send_overflow(device);
            return PAYLOAD_ABORTED;
        }
        const char *line = device->line;
        const size_t length = device->line_length;
        if (!(length >= 1u && line[0] == 'd' && (length == 1u || line[1] == ' '))) {
            word first = {line, 0};
            while (first.length < length && line[first.length] != ' ')
                first.length++;
            out_begin(device, "e-payload expected a d line, got ");
            if (length == 0u)
                out_text(device, "an empty line");
            else
                out_shown_word(device, first);
            out_send(device);
            return PAYLOAD_ABORTED;
        }
        chunk++;
        const char *hex = length > 2u ? line + 2 : line + length;
        const size_t digits = length > 2u ? length - 2u : 0u;
        size_t count = (digits + 1u) / 2u;
        int good = 1;
        if (digits == 0u || digits % 2u != 0u || digits > CHUNK_HEX_DIGITS) {
            if (payload_error(device, &failed, chunk, "has ")) {
                out_u64(device, digits);
                out_text(device, " hex digits (even, 2..128)");
            }
            good = 0;
        } else {
            for (size_t i = 0; i < digits; i++) {
                if (hex_value(hex[i]) < 0) {
                    payload_error(device, &failed, chunk, "is not hex");
                    good = 0;
                    break;
                }
            }
        }
        if (count > bytes - received) {
            payload_error(device, &failed, chunk, "brings more bytes than announced");
            count = bytes - received;
            good = 0;
        }
        if (good && !failed) {
            unsigned char decoded[MTS_PROTO_CHUNK_BYTES];
            for (size_t i = 0; i < count; i++)
                decoded[i] = (unsigned char)(hex_value(hex[2 * i]) * 16 + hex_value(hex[2 * i + 1]));
            crc = mts_crc32(crc, decoded, count);
            if (dest != NULL)
                memcpy(dest + received, decoded, count);
        }
        received += (uint32_t)count;
    }
    if (!failed && crc != announced_crc) {
        out_begin(device, "e-payload crc32 mismatch: data ");
        out_hex32(device, crc);
        out_text(device, ", announced ");
        out_hex32(device, announced_crc);
        failed = 1;
    }
    return failed ? PAYLOAD_BAD : PAYLOAD_OK;
}

/* m-payload bytes=<n> crc32=<hex>, then d-<hex> lines of 64 bytes. */
static void send_payload(mts_device *device, const void *data, size_t bytes)
{
    const unsigned char *p = (const unsigned char *)data;
    out_begin(device, "m-payload");
    out_key_u64(device, "bytes", bytes);
    out_text(device, " crc32=");
    out_hex32(device, mts_crc32(0, data, bytes));
    out_send(device);
    for (size_t at = 0; at < bytes; at += MTS_PROTO_CHUNK_BYTES) {
        const size_t n = bytes - at < MTS_PROTO_CHUNK_BYTES ? bytes - at : MTS_PROTO_CHUNK_BYTES;
        out_begin(device, "d-");
        for (size_t i = 0; i < n; i++) {
            char pair[2] = {hex_digits[p[at + i] >> 4], hex_digits[p[at + i] & 15u]};
            out_bytes(device, pair, 2);
        }
        out_send(device);
    }
}

/* infer <steps> <block> <bytes> <crc32>, then d lines. Returns -1 at EOF. */
static int command_infer(mts_device *device, const word *words, size_t count)
{
    static const char usage[] = "infer needs <steps> <block> <bytes> <crc32>";
    uint32_t steps, block, bytes, crc;
    if (count != 5u || !parse_u32(words[1].text, words[1].length, &steps) ||
        !parse_u32(words[2].text, words[2].length, &block) ||
        !parse_u32(words[3].text, words[3].length, &bytes) || !parse_crc(words[4], &crc)) {
        send_error(device, "bad-args", usage);
        return 0;
    }
    const mts_model *model = selected_model(device)->model;
    size_t input = 0, output = 0;
    (void)mts_model_io_sizes(model, &input, &output);
    /* The arguments are checked after the payload is read, so that a
     * rejected command still consumes its d lines and gets one reply. */
    const char *bad = NULL;
    if (steps < 1u || steps > device->config.max_steps)
        bad = "steps out of 1..max_steps";
    else if (block < 1u || block > device->config.max_block)
        bad = "block out of 1..max_block";
    else if ((uint64_t)bytes != (uint64_t)steps * input * sizeof(float))
        bad = "bytes must be steps * input * 4";
    const payload_result result =
        read_payload(device, bad == NULL ? (unsigned char *)device->config.input : NULL, bytes,
                     crc);
    if (result == PAYLOAD_EOF)
        return -1;
    if (result == PAYLOAD_ABORTED)
        return 0;
    if (bad != NULL) {
        send_error(device, "bad-args", bad);
        return 0;
    }
    if (result == PAYLOAD_BAD) {
        out_send(device);
        return 0;
    }
    uint64_t values[MTS_NUM_COUNTERS];
    uint32_t valid;
    uint32_t index;
    const product kernel = model_product(device, model, &index);
    const mts_status status = timed_forward(device, model, &kernel, block,
                                            device->config.input, steps,
                                            device->config.output, values, &valid);
    if (status != MTS_OK) {
        send_kernel_error(device, status);
        return 0;
    }
    out_begin(device, "m-counter");
    out_counters(device, values, valid);
    out_send(device);
    send_payload(device, device->config.output, (size_t)steps * output * sizeof(float));
    return 0;
}

/* The golden input of `mtsrnn export-c` (export_c.golden_input): exact
 * values in [-1, 1) from a 32-bit linear congruential sequence. */
static void fill_fixed_input(float *x, size_t n)
{
    uint32_t state = 0x2545F491u;
    for (size_t i = 0; i < n; i++) {
        state = state * 1664525u + 1013904223u;
        x[i] = (float)(state >> 8) * (1.0f / 8388608.0f) - 1.0f;
    }
}

/* One T of a comma-separated list: 1..max_block. */
static int next_block(const mts_device *device, word *list, uint32_t *block)
{
    size_t n = 0;
    while (n < list->length && list->text[n] != ',')
        n++;
    if (!parse_u32(list->text, n, block) || *block < 1u || *block > device->config.max_block)
        return 0;
    if (n < list->length) {
        n++; /* the comma; a trailing one leaves an empty item: rejected */
        if (n == list->length)
            return 0;
    }
    list->text += n;
    list->length -= n;
    return 1;
}

static void command_bench(mts_device *device, const word *words, size_t count)
{
    static const char usage[] = "bench needs <T1,T2,...> [steps=<n>] [kernel=<name>], T in "
                                "1..max_block, n in 1..max_steps";
    uint32_t steps = device->config.max_steps, block = 0;
    const mts_model *model = selected_model(device)->model;
    uint32_t index;
    product kernel = model_product(device, model, &index);
    int seen_steps = 0, seen_kernel = 0;
    if (count < 2u || count > 4u) {
        send_error(device, "bad-args", usage);
        return;
    }
    for (size_t a = 2; a < count; a++) {
        const word w = words[a];
        if (!seen_steps && w.length >= 6u && memcmp(w.text, "steps=", 6) == 0) {
            seen_steps = 1;
            if (!parse_u32(w.text + 6, w.length - 6u, &steps) || steps < 1u ||
                steps > device->config.max_steps) {
                send_error(device, "bad-args", usage);
                return;
            }
        } else if (!seen_kernel && w.length >= 7u && memcmp(w.text, "kernel=", 7) == 0) {
            seen_kernel = 1;
            const word name = {w.text + 7, w.length - 7u};
            if (!find_product(device, model_schemes(model), name, &kernel)) {
                send_no_kernel(device, name);
                return;
            }
        } else {
            send_error(device, "bad-args", usage);
            return;
        }
    }
    word list = words[1];
    while (list.length > 0u) {
        if (!next_block(device, &list, &block)) {
            send_error(device, "bad-args", usage);
            return;
        }
    }
    size_t input = 0, output = 0;
    (void)mts_model_io_sizes(model, &input, &output);
    fill_fixed_input(device->config.input, (size_t)steps * input);
    list = words[1];
    while (list.length > 0u) {
        (void)next_block(device, &list, &block);
        uint64_t values[MTS_NUM_COUNTERS];
        uint32_t valid;
        reset_state(device, model);
        const mts_status status = timed_forward(device, model, &kernel, block,
                                                device->config.input, steps,
                                                device->config.output, values, &valid);
        if (status != MTS_OK) {
            send_kernel_error(device, status);
            break;
        }
        out_begin(device, "m-bench");
        out_key_u64(device, "block", block);
        out_key_u64(device, "steps", steps);
        out_counters(device, values, valid);
        out_send(device);
    }
    reset_state(device, model);
}

/* Run a model's golden input through `kernel` from the zero state, in
 * pieces of up to max_steps frames (the state carried between) with
 * T = max_block. Returns the kernel's status; *error gets the largest
 * absolute difference from the golden output, *not_a_number whether any
 * difference was NaN. */
static mts_status golden_error(mts_device *device, const mts_device_model *entry,
                               const product *kernel, float *error,
                               int *not_a_number)
{
    size_t input = 0, output = 0;
    (void)mts_model_io_sizes(entry->model, &input, &output);
    reset_state(device, entry->model);
    mts_status status = MTS_OK;
    for (uint32_t done = 0; done < entry->golden_steps && status == MTS_OK;) {
        uint32_t steps = entry->golden_steps - done;
        if (steps > device->config.max_steps)
            steps = device->config.max_steps;
        uint64_t values[MTS_NUM_COUNTERS];
        uint32_t valid;
        status = timed_forward(device, entry->model, kernel, device->config.max_block,
                               entry->golden_input + (size_t)done * input, steps,
                               device->config.output, values, &valid);
        const float *expected = entry->golden_output + (size_t)done * output;
        for (size_t i = 0; status == MTS_OK && i < (size_t)steps * output; i++) {
            float diff = device->config.output[i] - expected[i];
            if (diff < 0.0f)
                diff = -diff;
            if (diff != diff)
                *not_a_number = 1;
            else if (diff > *error)
                *error = diff;
        }
        done += steps;
    }
    return status;
}

/* Per model, the golden vectors through every product it offers: the
 * largest error over all of them, and the product that gave it. */
static void command_selftest(mts_device *device, size_t count)
{
    if (count != 1u) {
        send_error(device, "bad-args", "selftest takes no arguments");
        return;
    }
    for (uint32_t m = 0; m < device->config.num_models; m++) {
        const mts_device_model *entry = &device->config.models[m];
        out_begin(device, "m-selftest");
        out_key_u64(device, "index", m);
        out_text(device, " name=");
        out_text(device, entry->name);
        if (entry->golden_input == NULL || entry->golden_output == NULL ||
            entry->golden_steps == 0u) {
            out_text(device, " result=skip");
            out_send(device);
            continue;
        }
        float error = 0.0f;
        int not_a_number = 0;
        const uint32_t schemes = model_schemes(entry->model);
        product kernel;
        size_t position = 0;
        const char *worst = NULL;
        mts_status status = MTS_OK;
        uint32_t offered = 0;
        while (status == MTS_OK && next_product(device, schemes, &position, &kernel)) {
            if (offered++ == 0u)
                worst = kernel.name;
            float kernel_error = 0.0f;
            int kernel_nan = 0;
            status = golden_error(device, entry, &kernel, &kernel_error, &kernel_nan);
            /* A NaN is worse than any number; the first NaN names the kernel. */
            const int worse = kernel_nan ? !not_a_number
                                         : !not_a_number && kernel_error > error;
            if (worse)
                worst = kernel.name;
            if (kernel_error > error)
                error = kernel_error;
            not_a_number |= kernel_nan;
        }
        if (status != MTS_OK) {
            device->out_length = 0;
            send_kernel_error(device, status);
            continue;
        }
        out_text(device, " max_abs_err=");
        if (not_a_number)
            out_text(device, "nan");
        else
            out_float(device, error);
        out_text(device, " tolerance=");
        out_float(device, entry->golden_tolerance);
        out_key_u64(device, "kernels", offered);
        out_text(device, " worst_kernel=");
        out_text(device, worst);
        out_text(device, !not_a_number && error <= entry->golden_tolerance ? " result=pass"
                                                                           : " result=fail");
        out_send(device);
    }
    reset_selected(device);
}

static void send_init_error(mts_device *device)
{
    out_begin(device, "e-init model ");
    out_u64(device, device->init_model);
    out_text(device, ": ");
    out_text(device, mts_status_str(device->init_status));
    out_send(device);
}

/* Answer one line (not overlong). Returns -1 at end of input. */
static int handle_line(mts_device *device)
{
    int result = 0;
    if (device->line_length == 0u) {
        send_ready(device); /* the handshake */
        return 0;
    }
    word words[MAX_WORDS];
    const size_t count = split_words(device->line, device->line_length, words);
    const word name = words[0];
    if (device->init_status != MTS_OK)
        send_init_error(device);
    else if (word_is(name, "id"))
        command_id(device, count);
    else if (word_is(name, "model"))
        command_model(device, words, count);
    else if (word_is(name, "reset"))
        command_reset(device, count);
    else if (word_is(name, "kernel"))
        command_kernel(device, words, count);
    else if (word_is(name, "infer"))
        result = command_infer(device, words, count);
    else if (word_is(name, "bench"))
        command_bench(device, words, count);
    else if (word_is(name, "selftest"))
        command_selftest(device, count);
    else {
        out_begin(device, "e-unknown-command ");
        out_shown_word(device, name);
        out_send(device);
    }
    if (result == 0)
        send_ready(device);
    return result;
}

void mts_device_run(mts_device *device)
{
    send_ready(device);
    for (;;) {
        if (read_line(device) < 0)
            return;
        if (device->line_overflow) {
            send_overflow(device);
            send_ready(device);
            continue;
        }
        if (handle_line(device) < 0)
            return;
    }
}

/* ------------------------------------------------------------ init */

static mts_status check_model(const mts_device *device, const mts_device_config *config,
                              const mts_device_model *entry)
{
    const mts_model *model = entry->model;
    if (model == NULL || entry->name == NULL)
        return MTS_ERR_NULL_POINTER;
    mts_status status = mts_model_check(model);
    if (status != MTS_OK)
        return status;
    size_t state = 0, input = 0, output = 0, workspace = 0;
    if ((status = mts_model_state_size(model, &state)) != MTS_OK ||
        (status = mts_model_io_sizes(model, &input, &output)) != MTS_OK ||
        (status = mts_model_workspace_size(model, config->max_block, config->max_steps,
                                           &workspace)) != MTS_OK)
        return status;
    if (workspace > config->workspace_bytes)
        return MTS_ERR_WORKSPACE_TOO_SMALL;
    product any;
    if (!next_product(device, model_schemes(model), &(size_t){0}, &any))
        return MTS_ERR_BAD_CONFIG; /* mixed schemes without a product name in common */
    if (state > config->state_floats)
        return MTS_ERR_BAD_STATE_SIZE;
    if ((uint64_t)input * config->max_steps > (uint64_t)config->input_floats ||
        (uint64_t)output * config->max_steps > (uint64_t)config->output_floats)
        return MTS_ERR_BUFFER_TOO_SMALL;
    return MTS_OK;
}

mts_status mts_device_init(mts_device *device, const mts_board *board,
                           const mts_device_config *config)
{
    if (device == NULL)
        return MTS_ERR_NULL_POINTER;
    device->board = board;
    device->selected = 0;
    device->line_length = 0;
    device->line_overflow = 0;
    device->out_length = 0;
    device->init_model = 0;
    device->init_status = MTS_OK;
    device->kernels = mts_gemm_f32_variants;
    device->num_kernels = (uint32_t)mts_gemm_f32_variant_count;
    device->kernel_choice = NULL;
    if (board == NULL || config == NULL || board->write == NULL || board->read_byte == NULL)
        return MTS_ERR_NULL_POINTER; /* nothing to report through */
    device->config = *config;
    mts_status status = MTS_OK;
    if (config->models == NULL || config->state == NULL || config->workspace == NULL ||
        config->input == NULL || config->output == NULL)
        status = MTS_ERR_NULL_POINTER;
    else if (config->num_models == 0u || config->max_block == 0u || config->max_steps == 0u)
        status = MTS_ERR_BAD_SIZE;
    for (uint32_t i = 0; status == MTS_OK && i < config->num_models; i++) {
        status = check_model(device, config, &config->models[i]);
        if (status != MTS_OK)
            device->init_model = i;
    }
    device->init_status = status;
    if (status == MTS_OK)
        reset_selected(device);
    return status;
}

mts_status mts_device_set_kernels(mts_device *device, const mts_gemm_f32_variant *kernels,
                                  uint32_t num_kernels)
{
    if (device == NULL || kernels == NULL)
        return MTS_ERR_NULL_POINTER;
    if (num_kernels == 0u)
        return MTS_ERR_BAD_SIZE;
    for (uint32_t k = 0; k < num_kernels; k++) {
        const char *name = kernels[k].name;
        if (kernels[k].fn == NULL || name == NULL)
            return MTS_ERR_NULL_POINTER;
        if (name[0] == '\0' || strchr(name, ' ') != NULL)
            return MTS_ERR_BAD_SIZE;
    }
    const mts_gemm_f32_variant *const old_kernels = device->kernels;
    const uint32_t old_count = device->num_kernels;
    device->kernels = kernels;
    device->num_kernels = num_kernels;
    if (device->init_status == MTS_OK) {
        for (uint32_t m = 0; m < device->config.num_models; m++) {
            product any;
            if (!next_product(device, model_schemes(device->config.models[m].model),
                              &(size_t){0}, &any)) {
                device->kernels = old_kernels;
                device->num_kernels = old_count;
                return MTS_ERR_BAD_CONFIG;
            }
        }
    }
    device->kernel_choice = NULL;
    return MTS_OK;
}
