/* The commands that describe and choose (docs/protocol.md, "Commands"):
 * id, model, reset, and variant with its alias kernel.
 */
#include <string.h>

#include "mts_device_internal.h"
#include "mtsrnn/file.h"

static const char *const counter_names[MTS_NUM_COUNTERS] = {"cycles", "instructions", "ns"};

/* The weight schemes as `m-model ... weights=` names them, by mts_quant. */
#define NUM_SCHEMES 3u
static const char *const scheme_names[NUM_SCHEMES] = {"float32", "int8-w", "int8-wa"};

const mts_dev_variant_words mts_dev_variant_command = {
    "variant", "m-variant", "m-selected-variant",
    "variant takes no argument or a variant name", " (`variant` lists them)"};

/* Protocol 1.0's words, for hosts that predate `variant`. */
const mts_dev_variant_words mts_dev_kernel_alias = {
    "kernel", "m-kernel", "m-selected-kernel",
    "kernel takes no argument or a kernel name", " (`kernel` lists its products)"};

void mts_dev_send_no_variant(mts_device *device, const mts_dev_variant_words *words,
                             mts_dev_word name)
{
    mts_dev_out_begin(device, "e-bad-args no ");
    mts_dev_out_text(device, words->command);
    mts_dev_out_text(device, " ");
    mts_dev_out_shown_word(device, name);
    mts_dev_out_text(device, " for model ");
    mts_dev_out_u64(device, device->selected);
    mts_dev_out_text(device, words->lists);
    /* A bench-only peer's outputs are not the model's: never a variant. */
    if (mts_dev_find_peer(device, name) != NULL)
        mts_dev_out_text(device, "; it is a bench-only peer (bench ... peer=)");
    mts_dev_out_send(device);
}

void mts_dev_send_kernel_error(mts_device *device, mts_status status)
{
    mts_dev_send_error(device, "kernel", mts_status_str(status));
}

/* Bytes of weights a pass streams (mts_stage_describe): the float32
 * parameters, and each product's weights: float32, or for a quantised layer
 * int8 (one byte each) plus their float32 scales (one per row). */
static uint64_t stage_weight_bytes(const mts_stage *stage)
{
    mts_stage_info info;
    if (mts_stage_describe(stage, &info) != MTS_OK)
        return 0;
    uint64_t bytes = sizeof(float) * (uint64_t)info.other_floats;
    for (uint32_t p = 0; p < info.num_products; p++) {
        const mts_stage_product *product = &info.products[p];
        const uint64_t weights = (uint64_t)product->rows * product->depth;
        bytes += product->quant != MTS_QUANT_NONE
                     ? weights + sizeof(float) * (uint64_t)product->rows
                     : sizeof(float) * weights;
    }
    return bytes;
}

static uint64_t model_weight_bytes(const mts_model *model)
{
    uint64_t bytes = 0;
    for (uint32_t s = 0; s < model->num_stages; s++)
        bytes += stage_weight_bytes(&model->stages[s]);
    return bytes;
}

/* The cell of a model's recurrent stages (those with state,
 * mts_stage_describe: sru, qrnn, mingru, minlstm, indrnn) when they all share
 * one, "mixed" when not, "none" without any; and how many there are. */
static const char *model_cell(const mts_model *model, uint32_t *recurrent)
{
    uint32_t cell = 0, count = 0;
    int mixed = 0;
    for (uint32_t s = 0; s < model->num_stages; s++) {
        const uint32_t kind = model->stages[s].kind;
        mts_stage_info info;
        if (mts_stage_describe(&model->stages[s], &info) != MTS_OK || info.state_floats == 0u)
            continue;
        mixed |= cell != 0 && kind != cell;
        cell = kind;
        count++;
    }
    *recurrent = count;
    return mixed ? "mixed" : cell != 0 ? mts_stage_kind_name(cell) : "none";
}


/* The end of a model's m-model line: `stages=` and its stages in order
 * (protocol 2.0), continued in `m-stages index=<i> stages=...` lines when
 * they do not fit one line (64 stages of up to 7 letters do not). */
static void send_stages(mts_device *device, uint32_t index, const mts_model *model)
{
    mts_dev_out_text(device, " stages=");
    const char *separator = "";
    for (uint32_t s = 0; s < model->num_stages; s++) {
        const char *name = mts_stage_kind_name(model->stages[s].kind);
        if (strlen(separator) + strlen(name) > mts_dev_out_room(device)) {
            mts_dev_out_send(device);
            mts_dev_out_begin(device, "m-stages");
            mts_dev_out_key_u64(device, "index", index);
            mts_dev_out_text(device, " stages=");
            separator = "";
        }
        mts_dev_out_text(device, separator);
        mts_dev_out_text(device, name);
        separator = ",";
    }
    mts_dev_out_send(device);
}

void mts_dev_command_id(mts_device *device, size_t count)
{
    const mts_board *board = device->board;
    if (count != 1u) {
        mts_dev_send_error(device, "bad-args", "id takes no arguments");
        return;
    }
    mts_dev_out_begin(device, "m-fw name=" MTS_FW_NAME " version=" MTS_FW_VERSION " protocol=");
    mts_dev_out_u64(device, MTS_PROTO_VERSION);
    mts_dev_out_key_u64(device, "protocol_minor", MTS_PROTO_MINOR);
    mts_dev_out_send(device);

    mts_dev_out_begin(device, "m-board name=");
    mts_dev_out_text(device, board->name != NULL ? board->name : "unknown");
    mts_dev_out_text(device, " core=");
    mts_dev_out_text(device, board->core != NULL ? board->core : "unknown");
    mts_dev_out_key_u64(device, "clock_hz", board->clock_hz);
    mts_dev_out_send(device);

    mts_dev_out_begin(device, "m-counters");
    for (unsigned i = 0; i < MTS_NUM_COUNTERS; i++) {
        mts_dev_out_text(device, " ");
        mts_dev_out_text(device, counter_names[i]);
        mts_dev_out_text(device, board->counters_available & MTS_COUNTER_BIT(i)
                                     ? "=available"
                                     : "=unavailable");
    }
    mts_dev_out_send(device);

    mts_dev_out_begin(device, "m-limits");
    mts_dev_out_key_u64(device, "max_block", device->config.max_block);
    mts_dev_out_key_u64(device, "max_steps", device->config.max_steps);
    /* Protocol 2.1: what an uploaded model must fit (docs/protocol.md). */
    mts_dev_out_key_u64(device, "built_in", device->config.num_models);
    mts_dev_out_key_u64(device, "arena", MTS_DEVICE_ARENA_HALF(device->config.arena_bytes));
    mts_dev_out_key_u64(device, "stage_descriptor", sizeof(mts_stage));
    mts_dev_out_key_u64(device, "workspace_bytes", device->config.workspace_bytes);
    mts_dev_out_key_u64(device, "state_floats", device->config.state_floats);
    mts_dev_out_key_u64(device, "input_floats", device->config.input_floats);
    mts_dev_out_key_u64(device, "output_floats", device->config.output_floats);
    mts_dev_out_send(device);

    for (uint32_t i = 0; i < mts_dev_num_models(device); i++) {
        const mts_device_model *entry = mts_dev_model_entry(device, i);
        size_t input = 0, output = 0;
        (void)mts_model_io_sizes(entry->model, &input, &output);
        mts_dev_out_begin(device, "m-model");
        mts_dev_out_key_u64(device, "index", i);
        mts_dev_out_text(device, " name=");
        mts_dev_out_text(device, entry->name);
        if (i == device->config.num_models) {
            /* The uploaded model: which file it is (protocol 2.1), early in
             * the line, where no long stage list can crowd it out. */
            mts_dev_out_key_u64(device, "bytes", device->upload_bytes);
            mts_dev_out_text(device, " crc32=");
            mts_dev_out_hex32(device, device->upload_crc);
        }
        uint32_t recurrent = 0;
        mts_dev_out_text(device, " cell=");
        mts_dev_out_text(device, model_cell(entry->model, &recurrent));
        mts_dev_out_key_u64(device, "layers", recurrent);
        mts_dev_out_key_u64(device, "input", input);
        mts_dev_out_key_u64(device, "output", output);
        mts_dev_out_key_u64(device, "weight_bytes", model_weight_bytes(entry->model));
        mts_dev_out_text(device, " dtype=f32 weights=");
        const uint32_t schemes = mts_model_schemes(entry->model);
        const char *separator = "";
        for (unsigned scheme = 0; scheme < NUM_SCHEMES; scheme++) {
            if (schemes & MTS_SCHEME_BIT(scheme)) {
                mts_dev_out_text(device, separator);
                mts_dev_out_text(device, scheme_names[scheme]);
                separator = "+";
            }
        }
        send_stages(device, i, entry->model);
    }

    mts_dev_out_begin(device, "m-selected");
    mts_dev_out_key_u64(device, "index", device->selected);
    mts_dev_out_send(device);
}

void mts_dev_command_model(mts_device *device, const mts_dev_word *words, size_t count)
{
    uint32_t index;
    if (count != 2u || !mts_dev_parse_u32(words[1].text, words[1].length, &index) ||
        index >= mts_dev_num_models(device)) {
        mts_dev_out_begin(device, "e-bad-args model needs <index> 0..");
        mts_dev_out_u64(device, mts_dev_num_models(device) - 1u);
        mts_dev_out_send(device);
        return;
    }
    device->selected = index;
    mts_dev_reset_selected(device);
    mts_dev_out_begin(device, "m-selected");
    mts_dev_out_key_u64(device, "index", index);
    mts_dev_out_send(device);
}

void mts_dev_command_reset(mts_device *device, size_t count)
{
    if (count != 1u) {
        mts_dev_send_error(device, "bad-args", "reset takes no arguments");
        return;
    }
    mts_dev_reset_selected(device);
    mts_dev_send_line(device, "m-reset");
}

/* " index=<k> name=<name>" */
static void out_variant(mts_device *device, uint32_t index, const char *name)
{
    mts_dev_out_key_u64(device, "index", index);
    mts_dev_out_text(device, " name=");
    mts_dev_out_text(device, name);
}

/* `variant`: list the selected model's variants; `variant <name>`: choose
 * one. `kernel` likewise, in its own words (names). */
void mts_dev_command_variant(mts_device *device, const mts_dev_variant_words *names,
                             const mts_dev_word *words, size_t count)
{
    if (count > 2u) {
        mts_dev_send_error(device, "bad-args", names->usage);
        return;
    }
    const mts_model *model = mts_dev_selected_model(device)->model;
    mts_run_options options = {.block = 1};
    if (count == 2u) {
        const char *chosen;
        if (mts_model_select_variant(model, words[1].text, words[1].length, device->variants,
                                     device->num_variants, &options, &chosen) != MTS_OK) {
            mts_dev_send_no_variant(device, names, words[1]);
            return;
        }
        device->variant_choice = chosen;
    } else {
        size_t position = 0;
        const char *name;
        for (uint32_t k = 0; (name = mts_dev_next_variant(device, model, &position, NULL)); k++) {
            mts_dev_out_begin(device, names->listed);
            out_variant(device, k, name);
            mts_dev_out_send(device);
        }
    }
    uint32_t index;
    const char *selected = mts_dev_model_variant(device, model, &options, &index);
    mts_dev_out_begin(device, names->selected);
    out_variant(device, index, selected);
    mts_dev_out_send(device);
}
