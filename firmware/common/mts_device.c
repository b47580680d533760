/* The device side of the protocol (docs/protocol.md), once for every board:
 * the protocol loop, init, and the models' variants. The other files of
 * the library are listed in mts_device_internal.h.
 *
 * Shape: mts_device_run reads lines into device->line and hands each to
 * handle_line, which answers it and ends with `m-ready`.
 */
#include "mts_device.h"

#include <string.h>

#include "mtsrnn/file.h"

#include "mts_device_internal.h"

/* ------------------------------------------------------------ models */

uint32_t mts_dev_num_models(const mts_device *device)
{
    return device->config.num_models + (device->upload_half >= 0 ? 1u : 0u);
}

const mts_device_model *mts_dev_model_entry(const mts_device *device, uint32_t index)
{
    return index < device->config.num_models ? &device->config.models[index]
                                              : &device->upload_entry;
}

const mts_device_model *mts_dev_selected_model(const mts_device *device)
{
    return mts_dev_model_entry(device, device->selected);
}

size_t mts_dev_model_state_floats(const mts_model *model)
{
    size_t floats = 0;
    if (mts_model_state_size(model, &floats) != MTS_OK)
        return 0;
    return floats;
}

void mts_dev_reset_state(mts_device *device, const mts_model *model)
{
    device->generation++;
    (void)mts_model_reset_state(model, device->config.state, mts_dev_model_state_floats(model));
}

void mts_dev_reset_selected(mts_device *device)
{
    mts_dev_reset_state(device, mts_dev_selected_model(device)->model);
}

const char *mts_dev_next_variant(const mts_device *device, const mts_model *model,
                                 size_t *position, mts_run_options *options)
{
    return mts_model_next_variant(model, device->variants, device->num_variants, position,
                                  options);
}

const char *mts_dev_model_variant(const mts_device *device, const mts_model *model,
                                  mts_run_options *options, uint32_t *index)
{
    mts_run_options first = *options;
    const char *first_name = NULL, *name;
    size_t position = 0;
    *index = 0;
    for (uint32_t i = 0; (name = mts_dev_next_variant(device, model, &position, options)); i++) {
        if (i == 0u) {
            first = *options;
            first_name = name;
        }
        if (device->variant_choice == NULL)
            break;
        if (strcmp(name, device->variant_choice) == 0) {
            *index = i;
            return name;
        }
    }
    *options = first;
    return first_name;
}

/* ------------------------------------------------------------ the loop */

static void send_init_error(mts_device *device)
{
    mts_dev_out_begin(device, "e-init model ");
    mts_dev_out_u64(device, device->init_model);
    mts_dev_out_text(device, ": ");
    mts_dev_out_text(device, mts_status_str(device->init_status));
    mts_dev_out_send(device);
}

/* Take the check off the end of device->line: " #" and 8 hex digits.
 * Returns 0 when the line has none, 1 when it matches the CRC-32 of the
 * rest, -1 when it does not. device->answering gets the check it carried
 * (its reply's re=). */
static int take_check(mts_device *device)
{
    const size_t n = device->line_length;
    device->answering_known = 0;
    if (n < MTS_PROTO_CHECK_BYTES || device->line[n - 10u] != ' ' ||
        device->line[n - 9u] != '#')
        return 0;
    const mts_dev_word digits = {device->line + n - 8u, 8u};
    uint32_t claimed;
    if (!mts_dev_parse_crc(digits, &claimed))
        return 0;
    device->answering = claimed;
    device->answering_known = 1;
    device->line_length = n - MTS_PROTO_CHECK_BYTES;
    return mts_crc32(0, device->line, device->line_length) == claimed ? 1 : -1;
}

/* Answer one line (not overlong). Returns -1 at end of input. */
static int handle_line(mts_device *device)
{
    int result = 0;
    device->answering_known = 0;
    if (device->line_length == 0u) {
        mts_dev_send_ready(device); /* the handshake */
        return 0;
    }
    const int check = take_check(device);
    mts_dev_word words[MTS_DEV_MAX_WORDS];
    const size_t count = mts_dev_split_words(device->line, device->line_length, words);
    const mts_dev_word name = words[0];
    if (check > 0)
        device->checked = 1;
    if (check < 0) {
        /* Corrupted on the way: never executed as whatever it now reads. */
        mts_dev_out_begin(device, "e-check mismatch: the line ");
        mts_dev_out_shown_word(device, name);
        mts_dev_out_text(device, " ... has CRC-32 ");
        mts_dev_out_hex32(device, mts_crc32(0, device->line, device->line_length));
        mts_dev_out_text(device, ", its check says ");
        mts_dev_out_hex32(device, device->answering);
        mts_dev_out_text(device, "; not executed");
        mts_dev_out_send(device);
    } else if (check == 0 && device->checked) {
        mts_dev_out_begin(device, "e-check missing: in checked mode a command ends with "
                                  "#<crc32>; not executed: ");
        mts_dev_out_shown_word(device, name);
        mts_dev_out_send(device);
    } else if (device->init_status != MTS_OK)
        send_init_error(device);
    else if (mts_dev_word_is(name, "id"))
        mts_dev_command_id(device, count);
    else if (mts_dev_word_is(name, "model"))
        mts_dev_command_model(device, words, count);
    else if (mts_dev_word_is(name, "reset"))
        mts_dev_command_reset(device, count);
    else if (mts_dev_word_is(name, "variant"))
        mts_dev_command_variant(device, &mts_dev_variant_command, words, count);
    else if (mts_dev_word_is(name, "kernel"))
        mts_dev_command_variant(device, &mts_dev_kernel_alias, words, count);
    else if (mts_dev_word_is(name, "infer"))
        result = mts_dev_command_infer(device, words, count);
    else if (mts_dev_word_is(name, "bench"))
        mts_dev_command_bench(device, words, count);
    else if (mts_dev_word_is(name, "selftest"))
        mts_dev_command_selftest(device, count);
    else if (mts_dev_word_is(name, "peer"))
        mts_dev_command_peer(device, words, count);
    else if (mts_dev_word_is(name, "upload"))
        result = mts_dev_command_upload(device, words, count);
    else if (mts_dev_word_is(name, "interactive") && count == 1u) {
        device->checked = 0;
        mts_dev_send_line(device, "m-interactive");
    } else {
        mts_dev_out_begin(device, "e-unknown-command ");
        mts_dev_out_shown_word(device, name);
        mts_dev_out_send(device);
    }
    if (result == 0)
        mts_dev_send_ready(device);
    return result;
}

void mts_device_run(mts_device *device)
{
    device->checked = 0;
    device->answering_known = 0;
    mts_dev_send_ready(device);
    for (;;) {
        if (mts_dev_read_line(device) < 0)
            return;
        device->answering_known = 0;
        if (device->line_overflow) {
            mts_dev_send_overflow(device);
            mts_dev_send_ready(device);
            continue;
        }
        if (handle_line(device) < 0)
            return;
    }
}

/* ------------------------------------------------------------ init */

/* Whether a model offers at least one variant with the device's products. */
static int offers_a_variant(const mts_device *device, const mts_model *model)
{
    size_t position = 0;
    return mts_dev_next_variant(device, model, &position, NULL) != NULL;
}

mts_status mts_dev_check_model(const mts_device *device, const mts_device_config *config,
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
    if (!offers_a_variant(device, model))
        return MTS_ERR_BAD_CONFIG; /* mixed schemes without a variant name in common */
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
    device->generation = 0;
    device->checked = 0;
    device->answering = 0;
    device->answering_known = 0;
    device->line_length = 0;
    device->line_overflow = 0;
    device->out_length = 0;
    device->init_model = 0;
    device->init_status = MTS_OK;
    device->variants = mts_gemm_f32_variants;
    device->num_variants = (uint32_t)mts_gemm_f32_variant_count;
    device->variant_choice = NULL;
    device->peers = NULL;
    device->num_peers = 0;
    device->upload_half = -1;
    device->upload_crc = 0u;
    device->upload_bytes = 0u;
    if (board == NULL || config == NULL || board->write == NULL || board->read_byte == NULL)
        return MTS_ERR_NULL_POINTER; /* nothing to report through */
    device->config = *config;
    mts_status status = MTS_OK;
    if (config->models == NULL || config->state == NULL || config->workspace == NULL ||
        config->input == NULL || config->output == NULL)
        status = MTS_ERR_NULL_POINTER;
    else if (config->num_models == 0u || config->max_block == 0u || config->max_steps == 0u)
        status = MTS_ERR_BAD_SIZE;
    else if (config->arena_bytes > 0u &&
             (config->arena == NULL || ((uintptr_t)config->arena & 63u) != 0u))
        status = MTS_ERR_BAD_CONFIG; /* the file's data alignment needs 64 */
    for (uint32_t i = 0; status == MTS_OK && i < config->num_models; i++) {
        status = mts_dev_check_model(device, config, &config->models[i]);
        if (status != MTS_OK)
            device->init_model = i;
    }
    device->init_status = status;
    if (status == MTS_OK)
        mts_dev_reset_selected(device);
    return status;
}

mts_status mts_device_set_variants(mts_device *device, const mts_gemm_f32_variant *variants,
                                   uint32_t num_variants)
{
    if (device == NULL || variants == NULL)
        return MTS_ERR_NULL_POINTER;
    if (num_variants == 0u)
        return MTS_ERR_BAD_SIZE;
    for (uint32_t k = 0; k < num_variants; k++) {
        const char *name = variants[k].name;
        if (variants[k].fn == NULL || name == NULL)
            return MTS_ERR_NULL_POINTER;
        if (name[0] == '\0' || strchr(name, ' ') != NULL)
            return MTS_ERR_BAD_SIZE;
    }
    const mts_gemm_f32_variant *const old_variants = device->variants;
    const uint32_t old_count = device->num_variants;
    device->variants = variants;
    device->num_variants = num_variants;
    if (device->init_status == MTS_OK) {
        for (uint32_t m = 0; m < mts_dev_num_models(device); m++) {
            if (!offers_a_variant(device, mts_dev_model_entry(device, m)->model)) {
                device->variants = old_variants;
                device->num_variants = old_count;
                return MTS_ERR_BAD_CONFIG;
            }
        }
    }
    device->variant_choice = NULL;
    return MTS_OK;
}
