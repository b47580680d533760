/* The names the loader's detail uses (tensor kinds, stage kinds) and the
 * detail as one line of text (mts_file_error_text). */
#include "file_internal.h"

const char *mts_file_kind_name(uint32_t stage_kind, uint32_t kind)
{
    static const char *const sru[MTS_SRU_KINDS + 1] = {
        "", "weight", "weight_proj", "weight_c", "bias", "norm_weight", "norm_bias",
        "weight_scale", "weight_proj_scale",
    };
    static const char *const qrnn[MTS_QRNN_KINDS + 1] = {"", "weight", "bias", "weight_scale"};
    static const char *const norm[MTS_NORM_KINDS + 1] = {"", "weight", "bias"};
    static const char *const dense[MTS_DENSE_KINDS + 1] = {"", "weight", "bias",
                                                           "weight_scale"};
    static const char *const min[MTS_MIN_KINDS + 1] = {"", "weight", "weight_out",
                                                       "weight_scale", "weight_out_scale"};
    static const char *const indrnn[MTS_INDRNN_KINDS + 1] = {"", "weight", "bias",
                                                             "weight_scale", "weight_hh"};
    if (kind > mts_file_kinds_of(stage_kind))
        return "";
    switch (stage_kind) {
    case MTS_STAGE_SRU: return sru[kind];
    case MTS_STAGE_QRNN: return qrnn[kind];
    case MTS_STAGE_NORM: return norm[kind];
    case MTS_STAGE_DENSE: return dense[kind];
    case MTS_STAGE_MINGRU:
    case MTS_STAGE_MINLSTM: return min[kind];
    case MTS_STAGE_INDRNN: return indrnn[kind];
    default: return "";
    }
}

uint32_t mts_file_kinds_of(uint32_t stage_kind)
{
    switch (stage_kind) {
    case MTS_STAGE_SRU: return MTS_SRU_KINDS;
    case MTS_STAGE_QRNN: return MTS_QRNN_KINDS;
    case MTS_STAGE_NORM: return MTS_NORM_KINDS;
    case MTS_STAGE_DENSE: return MTS_DENSE_KINDS;
    case MTS_STAGE_MINGRU:
    case MTS_STAGE_MINLSTM: return MTS_MIN_KINDS;
    case MTS_STAGE_INDRNN: return MTS_INDRNN_KINDS;
    default: return 0u;
    }
}

const char *mts_stage_kind_name(uint32_t stage_kind)
{
    static const char *const names[MTS_STAGE_KINDS + 1] = {"", "sru", "qrnn", "norm", "dense",
                                                          "softmax", "mingru", "minlstm",
                                                          "indrnn"};
    return stage_kind <= MTS_STAGE_KINDS ? names[stage_kind] : "";
}

/* ---- the detail as text ------------------------------------------------ */

static void append_text(char *text, size_t size, size_t *n, const char *part)
{
    while (*part != '\0' && *n + 1 < size)
        text[(*n)++] = *part++;
}

/* Decimal up to 32 bits, else hex: 64-bit division would need a runtime
 * helper that a 32-bit core's native modules cannot always link. */
static void append_number(char *text, size_t size, size_t *n, uint64_t value)
{
    char digits[20];
    size_t count = 0;
    if (value > 0xFFFFFFFFu) {
        for (; value != 0; value >>= 4)
            digits[count++] = "0123456789abcdef"[value & 15u];
        digits[count++] = 'x';
        digits[count++] = '0';
    } else {
        uint32_t small = (uint32_t)value;
        do {
            digits[count++] = (char)('0' + small % 10u);
            small /= 10u;
        } while (small != 0);
    }
    while (count > 0 && *n + 1 < size)
        text[(*n)++] = digits[--count];
}

/* ", <label><number>" (": " before the first part). */
static void append_part(char *text, size_t size, size_t *n, int *parts, const char *label,
                        int with_number, uint64_t value)
{
    append_text(text, size, n, (*parts)++ ? ", " : ": ");
    append_text(text, size, n, label);
    if (with_number)
        append_number(text, size, n, value);
}

size_t mts_file_error_text(mts_status status, const mts_file_error *error, char *text,
                           size_t size)
{
    if (text == NULL || size == 0)
        return 0;
    size_t n = 0;
    int parts = 0;
    const char *name = mts_status_name(status);
    append_text(text, size, &n, mts_status_str(status));
    append_text(text, size, &n, " (");
    append_text(text, size, &n, name != NULL ? name : "?");
    append_text(text, size, &n, ")");
    if (error != NULL) {
        const mts_file_error *e = error;
        const int stages = e->version_major == MTS_FILE_STAGES_VERSION_MAJOR;
        if (e->layer != MTS_FILE_NO_INDEX) {
            append_part(text, size, &n, &parts, stages ? "stage " : "layer ", 1, e->layer);
            if (stages && mts_stage_kind_name(e->cell)[0] != '\0') {
                append_text(text, size, &n, " (");
                append_text(text, size, &n, mts_stage_kind_name(e->cell));
                append_text(text, size, &n, ")");
            }
        }
        if (e->tensor != MTS_FILE_NO_INDEX)
            append_part(text, size, &n, &parts, "tensor record ", 1, e->tensor);
        if (e->kind != 0) {
            append_part(text, size, &n, &parts, "kind ", 1, e->kind);
            append_text(text, size, &n, " (");
            append_text(text, size, &n, mts_file_kind_name(e->cell, e->kind));
            append_text(text, size, &n, ")");
        }
        if (e->field != NULL && e->field[0] != '\0')
            append_part(text, size, &n, &parts, e->field, 0, 0);
        if (e->has & MTS_FILE_ERROR_FOUND)
            append_part(text, size, &n, &parts, "found ", 1, e->found);
        if (e->has & MTS_FILE_ERROR_EXPECTED)
            append_part(text, size, &n, &parts, "expected ", 1, e->expected);
        if (e->shape_ndim == 1 || e->shape_ndim == 2) {
            append_part(text, size, &n, &parts, "shape (", 1, e->shape[0]);
            if (e->shape_ndim == 2)
                append_part(text, size, &n, &parts, "", 1, e->shape[1]);
            append_text(text, size, &n, e->shape_ndim == 1 ? ",)" : ")");
        }
    }
    text[n] = '\0';
    return n;
}

