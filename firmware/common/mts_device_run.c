/* The commands that run a model (docs/protocol.md, "Commands"): infer
 * (a payload in, the output out), bench (counters per block size) and
 * selftest (the golden vectors through every variant a model offers).
 */
#include <string.h>

#include "mts_device_internal.h"

static const char *const counter_names[MTS_NUM_COUNTERS] = {"cycles", "instructions", "ns"};

/* Start the counters, run `model` with the products of `options` (its
 * block set here) over `steps` frames, stop them. Returns the kernel's
 * status; *valid gets the mask of counters read. */
static mts_status timed_forward(mts_device *device, const mts_model *model,
                                const mts_run_options *variant, uint32_t block,
                                const float *x, uint32_t steps, float *h,
                                uint64_t values[MTS_NUM_COUNTERS], uint32_t *valid)
{
    const mts_board *board = device->board;
    mts_run_options options = *variant;
    options.block = block;
    const size_t state_floats = mts_dev_model_state_floats(model);
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

/* bench's product=1 (docs/protocol.md): the first weighted stage's blocked product
 * alone, `steps` frames in blocks of `block`, with the product `variant`
 * names for the layer's weight scheme: rows = every gate row of the layer,
 * depth = its product's input width, the fixed input as X (its rows reused
 * when the steps need more than it holds; for int8-wa its
 * bytes as Xq, its floats as scales: the values do not matter to a count),
 * Y in the workspace. So the scan of a small model does not hide the
 * product's cost per multiply-add. *macs gets rows * depth * steps. */
static mts_status timed_product(mts_device *device, const mts_model *model,
                                const mts_run_options *variant, uint32_t block,
                                uint32_t steps, uint64_t values[MTS_NUM_COUNTERS],
                                uint32_t *valid, uint64_t *macs)
{
    const mts_board *board = device->board;
    /* The first stage with a blocked product (mts_stage_describe): any but
     * norm and softmax; its product 0, every gate row. */
    mts_stage_info info;
    info.num_products = 0;
    for (uint32_t i = 0; i < model->num_stages && info.num_products == 0u; i++) {
        const mts_status status = mts_stage_describe(&model->stages[i], &info);
        if (status != MTS_OK)
            return status;
    }
    if (info.num_products == 0u)
        return MTS_ERR_BAD_CONFIG; /* no stage with weights: nothing to time */
    const mts_stage_product *product = &info.products[0];
    const size_t rows = product->rows, depth = product->depth;
    const unsigned quant = product->quant;
    const void *w = quant != MTS_QUANT_NONE ? (const void *)product->weight_q
                                            : (const void *)product->weight;
    const float *w_scale = product->weight_scale;
    /* X: the input buffer's rows of `depth` floats, reused from the start
     * when the steps need more rows than it holds (a QRNN's depth is window *
     * input); a block's rows are always contiguous. */
    const size_t fit = depth > 0u ? device->config.input_floats / depth : 0u;
    if (fit < block || (size_t)block * rows * sizeof(float) > device->config.workspace_bytes)
        return MTS_ERR_BUFFER_TOO_SMALL;
    const size_t period = fit / block * block;
    const float *x = device->config.input;
    float *y = (float *)device->config.workspace;
    for (unsigned i = 0; i < MTS_NUM_COUNTERS; i++)
        values[i] = 0;
    *valid = 0;
    *macs = (uint64_t)rows * depth * steps;
    const int counting = board->counters_available != 0u && board->counters_start != NULL &&
                         board->counters_stop != NULL;
    if (counting)
        board->counters_start(board->ctx);
    for (uint32_t done = 0; done < steps; done += block) {
        const size_t n = steps - done < block ? steps - done : block;
        const float *xt = x + ((size_t)done % period) * depth;
        if (quant == MTS_QUANT_INT8_W)
            variant->gemm_i8f32(rows, depth, n, (const int8_t *)w, depth, w_scale, xt, depth,
                                y, rows);
        else if (quant == MTS_QUANT_INT8_WA)
            variant->gemm_i8i8(rows, depth, n, (const int8_t *)w, depth, w_scale,
                               (const int8_t *)xt, depth * sizeof(float), xt, y, rows);
        else
            variant->gemm(rows, depth, n, (const float *)w, depth, xt, depth, y, rows);
    }
    if (counting)
        *valid = board->counters_stop(board->ctx, values) & board->counters_available;
    return MTS_OK;
}

static void out_counters(mts_device *device, const uint64_t values[MTS_NUM_COUNTERS],
                         uint32_t valid)
{
    for (unsigned i = 0; i < MTS_NUM_COUNTERS; i++)
        if (valid & MTS_COUNTER_BIT(i))
            mts_dev_out_key_u64(device, counter_names[i], values[i]);
}

/* ------------------------------------------------------------ infer */

int mts_dev_command_infer(mts_device *device, const mts_dev_word *words, size_t count)
{
    static const char usage[] = "infer needs <steps> <block> <bytes> <crc32>";
    uint32_t steps, block, bytes, crc;
    if (count != 5u || !mts_dev_parse_u32(words[1].text, words[1].length, &steps) ||
        !mts_dev_parse_u32(words[2].text, words[2].length, &block) ||
        !mts_dev_parse_u32(words[3].text, words[3].length, &bytes) ||
        !mts_dev_parse_crc(words[4], &crc)) {
        mts_dev_send_error(device, "bad-args", usage);
        return 0;
    }
    const mts_model *model = mts_dev_selected_model(device)->model;
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
    const mts_dev_payload_result result = mts_dev_read_payload(
        device, bad == NULL ? (unsigned char *)device->config.input : NULL, bytes, crc);
    if (result == MTS_DEV_PAYLOAD_EOF)
        return -1;
    if (result == MTS_DEV_PAYLOAD_ABORTED)
        return 0;
    if (bad != NULL) {
        mts_dev_send_error(device, "bad-args", bad);
        return 0;
    }
    if (result == MTS_DEV_PAYLOAD_BAD) {
        mts_dev_out_send(device);
        return 0;
    }
    uint64_t values[MTS_NUM_COUNTERS];
    uint32_t valid;
    uint32_t index;
    mts_run_options variant = {.block = block};
    const char *variant_name = mts_dev_model_variant(device, model, &variant, &index);
    const uint32_t from = device->generation++; /* the state changes, even on failure */
    const mts_status status = timed_forward(device, model, &variant, block,
                                            device->config.input, steps,
                                            device->config.output, values, &valid);
    if (status != MTS_OK) {
        mts_dev_send_kernel_error(device, status);
        return 0;
    }
    /* What produced the output: the host checks it against what it asked. */
    mts_dev_out_begin(device, "m-infer");
    mts_dev_out_key_u64(device, "model", device->selected);
    mts_dev_out_text(device, " variant=");
    mts_dev_out_text(device, variant_name);
    mts_dev_out_key_u64(device, "block", block);
    mts_dev_out_key_u64(device, "steps", steps);
    mts_dev_out_key_u64(device, "from", from);
    mts_dev_out_key_u64(device, "state", device->generation);
    mts_dev_out_send(device);
    mts_dev_out_begin(device, "m-counter");
    out_counters(device, values, valid);
    mts_dev_out_send(device);
    mts_dev_send_payload(device, device->config.output, (size_t)steps * output * sizeof(float));
    return 0;
}

/* ------------------------------------------------------------ bench */

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
static int next_block(const mts_device *device, mts_dev_word *list, uint32_t *block)
{
    size_t n = 0;
    while (n < list->length && list->text[n] != ',')
        n++;
    if (!mts_dev_parse_u32(list->text, n, block) || *block < 1u ||
        *block > device->config.max_block)
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

/* `<key>=<value>`: 1 with *value set to the value's bytes. */
static int option_is(mts_dev_word w, const char *key, mts_dev_word *value)
{
    const size_t n = strlen(key);
    if (w.length < n + 1u || memcmp(w.text, key, n) != 0 || w.text[n] != '=')
        return 0;
    value->text = w.text + n + 1u;
    value->length = w.length - n - 1u;
    return 1;
}

void mts_dev_command_bench(mts_device *device, const mts_dev_word *words, size_t count)
{
    static const char usage[] = "bench needs <T1,T2,...> [steps=<n>] [variant=<name>] "
                                "[product=1] [peer=<name>], T in 1..max_block, n in "
                                "1..max_steps";
    uint32_t steps = device->config.max_steps, block = 0;
    const mts_model *model = mts_dev_selected_model(device)->model;
    uint32_t index;
    mts_run_options variant = {.block = 1};
    const char *variant_name = mts_dev_model_variant(device, model, &variant, &index);
    int seen_steps = 0, seen_variant = 0, product_only = 0;
    /* peer=<name> (mts_device_peer.c): the peer in place of the int8-wa
     * product, after variant= whatever their order. */
    const mts_gemm_i8i8_variant *peer = NULL;
    if (count < 2u || count > 6u) {
        mts_dev_send_error(device, "bad-args", usage);
        return;
    }
    for (size_t a = 2; a < count; a++) {
        mts_dev_word value;
        /* variant=, or kernel= (its protocol 1.0 name), once. */
        const mts_dev_variant_words *named =
            option_is(words[a], "variant", &value)  ? &mts_dev_variant_command
            : option_is(words[a], "kernel", &value) ? &mts_dev_kernel_alias
                                                    : NULL;
        if (!seen_steps && option_is(words[a], "steps", &value)) {
            seen_steps = 1;
            if (!mts_dev_parse_u32(value.text, value.length, &steps) || steps < 1u ||
                steps > device->config.max_steps) {
                mts_dev_send_error(device, "bad-args", usage);
                return;
            }
        } else if (!product_only && option_is(words[a], "product", &value) &&
                   mts_dev_word_is(value, "1")) {
            product_only = 1;
        } else if (peer == NULL && option_is(words[a], "peer", &value)) {
            peer = mts_dev_find_peer(device, value);
            if (peer == NULL ||
                !(mts_model_schemes(model) & MTS_SCHEME_BIT(MTS_QUANT_INT8_WA))) {
                mts_dev_out_begin(device, "e-bad-args no peer ");
                mts_dev_out_shown_word(device, value);
                mts_dev_out_text(device, " for model ");
                mts_dev_out_u64(device, device->selected);
                mts_dev_out_text(device, " (`peer` lists them; they replace int8-wa products)");
                mts_dev_out_send(device);
                return;
            }
        } else if (!seen_variant && named != NULL) {
            seen_variant = 1;
            if (mts_model_select_variant(model, value.text, value.length, device->variants,
                                         device->num_variants, &variant,
                                         &variant_name) != MTS_OK) {
                mts_dev_send_no_variant(device, named, value);
                return;
            }
        } else {
            mts_dev_send_error(device, "bad-args", usage);
            return;
        }
    }
    mts_dev_word list = words[1];
    while (list.length > 0u) {
        if (!next_block(device, &list, &block)) {
            mts_dev_send_error(device, "bad-args", usage);
            return;
        }
    }
    if (peer != NULL)
        variant.gemm_i8i8 = peer->fn;
    size_t input = 0, output = 0;
    (void)mts_model_io_sizes(model, &input, &output);
    /* The product alone reads steps * depth floats (a QRNN's depth is window *
     * input): fill the whole buffer, so every run reads the same numbers. */
    fill_fixed_input(device->config.input,
                     product_only ? device->config.input_floats : (size_t)steps * input);
    list = words[1];
    while (list.length > 0u) {
        (void)next_block(device, &list, &block);
        uint64_t values[MTS_NUM_COUNTERS];
        uint32_t valid;
        mts_dev_reset_state(device, model);
        uint64_t macs = 0;
        mts_dev_mem_window_open(model);
        const mts_status status =
            product_only ? timed_product(device, model, &variant, block, steps, values, &valid,
                                         &macs)
                         : timed_forward(device, model, &variant, block, device->config.input,
                                         steps, device->config.output, values, &valid);
        mts_dev_mem_window_close();
        if (status != MTS_OK) {
            mts_dev_send_kernel_error(device, status);
            break;
        }
        mts_dev_out_begin(device, "m-bench");
        mts_dev_out_key_u64(device, "model", device->selected);
        mts_dev_out_text(device, " variant=");
        mts_dev_out_text(device, variant_name);
        if (peer != NULL) {
            mts_dev_out_text(device, " peer=");
            mts_dev_out_text(device, peer->name);
        }
        mts_dev_out_key_u64(device, "block", block);
        mts_dev_out_key_u64(device, "steps", steps);
        if (product_only)
            mts_dev_out_key_u64(device, "macs", macs);
        out_counters(device, values, valid);
        mts_dev_out_send(device);
    }
    mts_dev_reset_state(device, model);
}

/* ------------------------------------------------------------ selftest */

/* Run a model's golden input through `variant` from the zero state, in
 * pieces of up to max_steps frames (the state carried between) with
 * T = max_block. Returns the kernel's status; *error gets the largest
 * absolute difference from the golden output, *not_a_number whether any
 * difference was NaN. */
static mts_status golden_error(mts_device *device, const mts_device_model *entry,
                               const mts_run_options *variant, float *error,
                               int *not_a_number)
{
    size_t input = 0, output = 0;
    (void)mts_model_io_sizes(entry->model, &input, &output);
    mts_dev_reset_state(device, entry->model);
    mts_status status = MTS_OK;
    for (uint32_t done = 0; done < entry->golden_steps && status == MTS_OK;) {
        uint32_t steps = entry->golden_steps - done;
        if (steps > device->config.max_steps)
            steps = device->config.max_steps;
        uint64_t values[MTS_NUM_COUNTERS];
        uint32_t valid;
        status = timed_forward(device, entry->model, variant, device->config.max_block,
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

/* Per model, the golden vectors through every variant it offers: the
 * largest error over all of them, and the variant that gave it. */
void mts_dev_command_selftest(mts_device *device, size_t count)
{
    if (count != 1u) {
        mts_dev_send_error(device, "bad-args", "selftest takes no arguments");
        return;
    }
    for (uint32_t m = 0; m < mts_dev_num_models(device); m++) {
        const mts_device_model *entry = mts_dev_model_entry(device, m);
        mts_dev_out_begin(device, "m-selftest");
        mts_dev_out_key_u64(device, "index", m);
        mts_dev_out_text(device, " name=");
        mts_dev_out_text(device, entry->name);
        if (entry->golden_input == NULL || entry->golden_output == NULL ||
            entry->golden_steps == 0u) {
            mts_dev_out_text(device, " result=skip");
            mts_dev_out_send(device);
            continue;
        }
        float error = 0.0f;
        int not_a_number = 0;
        mts_run_options variant = {.block = 1};
        size_t position = 0;
        const char *name, *worst = NULL;
        mts_status status = MTS_OK;
        uint32_t offered = 0;
        while (status == MTS_OK &&
               (name = mts_dev_next_variant(device, entry->model, &position, &variant))) {
            if (offered++ == 0u)
                worst = name;
            float variant_error = 0.0f;
            int variant_nan = 0;
            status = golden_error(device, entry, &variant, &variant_error, &variant_nan);
            /* A NaN is worse than any number; the first NaN names the variant. */
            const int worse = variant_nan ? !not_a_number
                                          : !not_a_number && variant_error > error;
            if (worse)
                worst = name;
            if (variant_error > error)
                error = variant_error;
            not_a_number |= variant_nan;
        }
        if (status != MTS_OK) {
            device->out_length = 0;
            mts_dev_send_kernel_error(device, status);
            continue;
        }
        mts_dev_out_text(device, " max_abs_err=");
        if (not_a_number)
            mts_dev_out_text(device, "nan");
        else
            mts_dev_out_float(device, error);
        mts_dev_out_text(device, " tolerance=");
        mts_dev_out_float(device, entry->golden_tolerance);
        mts_dev_out_key_u64(device, "variants", offered);
        mts_dev_out_key_u64(device, "block", device->config.max_block);
        mts_dev_out_key_u64(device, "steps", entry->golden_steps);
        mts_dev_out_text(device, " worst_variant=");
        mts_dev_out_text(device, worst);
        mts_dev_out_text(device, !not_a_number && error <= entry->golden_tolerance
                                     ? " result=pass"
                                     : " result=fail");
        mts_dev_out_send(device);
    }
    mts_dev_reset_selected(device);
}
