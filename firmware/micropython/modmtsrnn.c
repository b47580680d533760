/* The mtsrnn kernels as a MicroPython module. One source, two builds:
 *
 *   user C module    compiled into a firmware (micropython.mk for make,
 *                    micropython.cmake for CMake ports); the types are const
 *                    and live in flash;
 *   native module    a dynamic .mpy (Makefile, MICROPY_ENABLE_DYNRUNTIME):
 *                    the types are filled in RAM by mpy_init, as the dynamic
 *                    runtime requires.
 *
 * Python API (docs/micropython.md):
 *
 *   m = mtsrnn.Model(buf, check_crc=True)
 *       buf: a bytes, bytearray or memoryview holding an .mts file (read from
 *       a file, or a bytes constant frozen into the firmware). The weights
 *       are used in place, never copied, so m keeps a reference to buf.
 *   m.input_size, m.output_size, m.num_stages, m.num_layers (the recurrent
 *   stages), m.state_size, m.cell ('sru' or 'qrnn' when every recurrent
 *   stage has that cell, 'mixed', or 'none')
 *   s = m.stream(block=8, max_steps=0)
 *       block: T, the time steps per pass over the weights (>= 1).
 *       max_steps: the longest push; needed only by models whose workspace
 *       grows with the sequence (a bidirectional layer among several layers).
 *       State and workspace are allocated here, once, from the heap.
 *   n = s.push(x, y)
 *       x: array('f') of steps * input_size floats (whole frames), y: a
 *       caller-provided array('f') of steps * output_size floats; returns
 *       steps. The state carries from one push to the next.
 *   s.reset()  back to the start of a sequence (all-zero state).
 *
 * Every wrong size, type or model raises ValueError saying what was found
 * and what was expected; kernel statuses come with mts_status_str().
 */
#include <stddef.h>
#include <stdint.h>

#include "mtsrnn/file.h"
#include "mtsrnn/model.h"
#include "mtsrnn/status.h"

/* MicroPython's headers leave parameters of inline functions unused; this
 * file keeps the project's -Wextra for its own code. */
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#endif
#if MICROPY_ENABLE_DYNRUNTIME
#include "py/dynruntime.h"
#else
#include "py/obj.h"
#include "py/runtime.h"
#endif
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

typedef struct mtsrnn_model_obj {
    mp_obj_base_t base;
    mp_obj_t source;            /* the buffer object holding the .mts file: kept alive */
    const void *data;           /* its data and length at load time, checked before */
    size_t size;                /* every run (a bytearray can be resized and move) */
    void *descriptors;          /* layer descriptors (heap), pointing into data */
    mts_model model;
    size_t input_size, output_size, state_floats;
} mtsrnn_model_obj_t;

typedef struct mtsrnn_stream_obj {
    mp_obj_base_t base;
    mtsrnn_model_obj_t *model;
    mts_run_options options;
    float *state;               /* model->state_floats floats (heap) */
    void *workspace;            /* workspace_bytes (heap) */
    size_t workspace_bytes;
    size_t max_steps;           /* longest push the workspace holds; 0: any */
    int needs_max_steps;        /* the workspace grows with the sequence length */
} mtsrnn_stream_obj_t;

#if MICROPY_ENABLE_DYNRUNTIME
/* The dynamic runtime links no const type objects: mpy_init fills these.
 * Not static: mpy_ld cannot relocate static bss. */
mp_obj_full_type_t mtsrnn_model_type;
mp_obj_full_type_t mtsrnn_stream_type;
#define MODEL_TYPE ((const mp_obj_type_t *)&mtsrnn_model_type)
#define STREAM_TYPE ((const mp_obj_type_t *)&mtsrnn_stream_type)
#else
extern const mp_obj_type_t mtsrnn_model_type;
extern const mp_obj_type_t mtsrnn_stream_type;
#define MODEL_TYPE (&mtsrnn_model_type)
#define STREAM_TYPE (&mtsrnn_stream_type)
#endif

/* ------------------------------------------------------------------ errors */

/* Length of a NUL-terminated string (the dynamic runtime has no libc). */
static size_t text_length(const char *text)
{
    size_t n = 0;
    while (text[n] != '\0')
        n++;
    return n;
}

/* ValueError(format % values): formatted by the runtime's str % tuple, which
 * both builds have, so messages can carry the sizes found and expected. */
static MP_NORETURN void raise_value_error(const char *format, size_t num_values,
                                          const mp_obj_t *values)
{
    mp_obj_t text = mp_obj_new_str(format, text_length(format));
    if (num_values > 0)
        text = mp_binary_op(MP_BINARY_OP_MODULO, text,
                            mp_obj_new_tuple(num_values, (mp_obj_t *)values));
    mp_raise_type_arg(&mp_type_ValueError, text);
}

/* ValueError with up to three sizes (format has count %d's). */
static MP_NORETURN void raise_sizes(const char *format, size_t count, size_t a, size_t b,
                                    size_t c)
{
    const mp_obj_t values[3] = {mp_obj_new_int_from_uint(a), mp_obj_new_int_from_uint(b),
                                mp_obj_new_int_from_uint(c)};
    raise_value_error(format, count, values);
}

/* Raise for a kernel status other than MTS_OK: "<what>: <status text>". */
static void check_status(mts_status status, const char *what)
{
    if (status == MTS_OK)
        return;
    const char *reason = mts_status_str(status);
    const mp_obj_t values[3] = {mp_obj_new_str(what, text_length(what)),
                                mp_obj_new_str(reason, text_length(reason)),
                                mp_obj_new_int((mp_int_t)status)};
    raise_value_error("%s: %s (mts_status %d)", 3, values);
}

/* Raise for a file the loader rejects: "not a valid .mts model: " and the
 * loader's one line of detail (mts_file_error_text). */
static void check_file_status(mts_status status, const mts_file_error *detail)
{
    if (status == MTS_OK)
        return;
    char text[200];
    const size_t length = mts_file_error_text(status, detail, text, sizeof text);
    const mp_obj_t value = mp_obj_new_str(text, length);
    raise_value_error("not a valid .mts model: %s", 1, &value);
}

/* A float32 buffer of x or y: typecode 'f' (array('f') or a memoryview of
 * one), 4-byte aligned. */
static void get_float_buffer(mp_obj_t obj, mp_buffer_info_t *info, int writable,
                             const char *name)
{
    const mp_obj_t name_obj = mp_obj_new_str(name, text_length(name));
    if (!mp_get_buffer(obj, info, writable ? MP_BUFFER_WRITE : MP_BUFFER_READ))
        raise_value_error(writable ? "%s must be a writable array('f'), got an object "
                                     "without a writable buffer"
                                   : "%s must be an array('f'), got an object without a "
                                     "buffer", 1, &name_obj);
    if (info->typecode != 'f') {
        const char code = (char)info->typecode;
        const mp_obj_t values[2] = {name_obj, mp_obj_new_str(&code, 1)};
        raise_value_error("%s must be an array('f') of float32, got typecode '%s'", 2,
                          values);
    }
    if ((uintptr_t)info->buf % sizeof(float) != 0)
        raise_value_error("%s is not 4-byte aligned; float32 data must be", 1, &name_obj);
}

/* ------------------------------------------------------------------- Model */

/* The model's buffer must still be where the descriptors point. */
static void check_source(const mtsrnn_model_obj_t *self)
{
    mp_buffer_info_t info;
    if (!mp_get_buffer(self->source, &info, MP_BUFFER_READ) || info.buf != self->data
        || info.len < self->size)
        raise_value_error("the model's buffer was resized or moved since the model was "
                          "loaded (its weights are used in place); load the model again", 0,
                          NULL);
}

static mp_obj_t model_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
                               const mp_obj_t *args)
{
    enum { ARG_buf, ARG_check_crc };
    /* Not static: qstrs of a dynamic module are not compile-time constants. */
    const mp_arg_t allowed[] = {
        {MP_QSTR_buf, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL}},
        {MP_QSTR_check_crc, MP_ARG_BOOL, {.u_bool = true}},
    };
    mp_arg_val_t values[2];
    mp_arg_parse_all_kw_array(n_args, n_kw, args, 2, allowed, values);

    mp_buffer_info_t info;
    if (!mp_get_buffer(values[ARG_buf].u_obj, &info, MP_BUFFER_READ))
        raise_value_error("Model needs a bytes, bytearray or memoryview holding an .mts "
                          "file, got an object without a buffer", 0, NULL);
    if ((uintptr_t)info.buf % 4 != 0)
        raise_value_error("the .mts buffer is not 4-byte aligned: the weights are read in "
                          "place as float32 (copy it into a bytearray, or align the frozen "
                          "data)", 0, NULL);
    size_t descriptor_bytes = 0;
    mts_file_error detail;
    check_file_status(mts_file_descriptor_size(info.buf, info.len, &descriptor_bytes, &detail),
                      &detail);

    mtsrnn_model_obj_t *self = mp_obj_malloc(mtsrnn_model_obj_t, type);
    self->source = values[ARG_buf].u_obj;
    self->data = info.buf;
    self->size = info.len;
    self->descriptors = m_malloc(descriptor_bytes);
    const uint32_t flags = values[ARG_check_crc].u_bool ? 0u : MTS_LOAD_SKIP_CRC;
    check_file_status(mts_file_load(info.buf, info.len, flags, self->descriptors,
                                    descriptor_bytes, &self->model, &detail),
                      &detail);
    check_status(mts_model_io_sizes(&self->model, &self->input_size, &self->output_size),
                 "model sizes");
    check_status(mts_model_state_size(&self->model, &self->state_floats), "model state size");
    return MP_OBJ_FROM_PTR(self);
}

static mp_obj_t model_stream(size_t n_args, const mp_obj_t *args, mp_map_t *kw_args)
{
    enum { ARG_block, ARG_max_steps };
    const mp_arg_t allowed[] = {
        {MP_QSTR_block, MP_ARG_REQUIRED | MP_ARG_INT, {.u_int = 0}},
        {MP_QSTR_max_steps, MP_ARG_INT, {.u_int = 0}},
    };
    mp_arg_val_t values[2];
    mp_arg_parse_all(n_args - 1, args + 1, kw_args, 2, allowed, values);
    mtsrnn_model_obj_t *model = MP_OBJ_TO_PTR(args[0]);
    const mp_int_t block = values[ARG_block].u_int;
    const mp_int_t max_steps = values[ARG_max_steps].u_int;
    if (block < 1) {
        const mp_obj_t value = mp_obj_new_int(block);
        raise_value_error("block must be >= 1 (time steps per pass over the weights), got %d",
                          1, &value);
    }
    if (max_steps < 0) {
        const mp_obj_t value = mp_obj_new_int(max_steps);
        raise_value_error("max_steps must be >= 0 (0: no limit), got %d", 1, &value);
    }
    /* The workspace depends on the sequence length only for a bidirectional
     * layer among several layers; compare two lengths to find out. */
    size_t one_step = 0, two_steps = 0, workspace_bytes = 0;
    check_status(mts_model_workspace_size(&model->model, (size_t)block, 1, &one_step),
                 "workspace size");
    check_status(mts_model_workspace_size(&model->model, (size_t)block, 2, &two_steps),
                 "workspace size");
    const int needs_max_steps = one_step != two_steps;
    if (needs_max_steps && max_steps == 0)
        raise_value_error("this model has a bidirectional layer among several layers, so its "
                          "workspace holds a whole sequence: give max_steps, the longest push",
                          0, NULL);
    check_status(mts_model_workspace_size(&model->model, (size_t)block, (size_t)max_steps,
                                          &workspace_bytes), "workspace size");

    mtsrnn_stream_obj_t *self = mp_obj_malloc(mtsrnn_stream_obj_t, STREAM_TYPE);
    self->model = model;
    self->options.block = (size_t)block;
    self->options.gemm = NULL;          /* the default product of each dtype */
    self->options.gemm_i8f32 = NULL;
    self->options.gemm_i8i8 = NULL;
    self->max_steps = (size_t)max_steps;
    self->needs_max_steps = needs_max_steps;
    /* At least one float: a model without a recurrent stage has no state,
     * and m_malloc(0) may give NULL, which the kernels refuse. */
    self->state = m_malloc((model->state_floats > 0 ? model->state_floats : 1) * sizeof(float));
    self->workspace_bytes = workspace_bytes;
    self->workspace = m_malloc(workspace_bytes);
    check_status(mts_model_reset_state(&model->model, self->state, model->state_floats),
                 "reset");
    return MP_OBJ_FROM_PTR(self);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(model_stream_obj, 1, model_stream);

static void model_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest)
{
    const mtsrnn_model_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (dest[0] != MP_OBJ_NULL)
        return;                 /* read-only: no store or delete */
    /* if/else, not switch: a dynamic module's qstrs are not constants. */
    if (attr == MP_QSTR_stream) {
        dest[0] = MP_OBJ_FROM_PTR(&model_stream_obj);
        dest[1] = self_in;
    } else if (attr == MP_QSTR_input_size) {
        dest[0] = mp_obj_new_int_from_uint(self->input_size);
    } else if (attr == MP_QSTR_output_size) {
        dest[0] = mp_obj_new_int_from_uint(self->output_size);
    } else if (attr == MP_QSTR_num_stages) {
        dest[0] = mp_obj_new_int_from_uint(self->model.num_stages);
    } else if (attr == MP_QSTR_num_layers || attr == MP_QSTR_cell) {
        uint32_t recurrent = 0, cell = 0;
        int mixed = 0;
        for (uint32_t s = 0; s < self->model.num_stages; s++) {
            /* The recurrent stages: those with state (mts_stage_describe). */
            const uint32_t kind = self->model.stages[s].kind;
            mts_stage_info info;
            if (mts_stage_describe(&self->model.stages[s], &info) != MTS_OK ||
                info.state_floats == 0u)
                continue;
            mixed |= cell != 0 && kind != cell;
            cell = kind;
            recurrent++;
        }
        if (attr == MP_QSTR_num_layers)
            dest[0] = mp_obj_new_int_from_uint(recurrent);
        else
            dest[0] = mixed                       ? MP_OBJ_NEW_QSTR(MP_QSTR_mixed)
                      : cell == MTS_STAGE_SRU     ? MP_OBJ_NEW_QSTR(MP_QSTR_sru)
                      : cell == MTS_STAGE_QRNN    ? MP_OBJ_NEW_QSTR(MP_QSTR_qrnn)
                      : cell == MTS_STAGE_MINGRU  ? MP_OBJ_NEW_QSTR(MP_QSTR_mingru)
                      : cell == MTS_STAGE_MINLSTM ? MP_OBJ_NEW_QSTR(MP_QSTR_minlstm)
                      : cell == MTS_STAGE_INDRNN  ? MP_OBJ_NEW_QSTR(MP_QSTR_indrnn)
                                                  : MP_OBJ_NEW_QSTR(MP_QSTR_none);
    } else if (attr == MP_QSTR_state_size) {
        dest[0] = mp_obj_new_int_from_uint(self->state_floats);
    }
}

/* ------------------------------------------------------------------ Stream */

static mp_obj_t stream_push(mp_obj_t self_in, mp_obj_t x_in, mp_obj_t y_in)
{
    mtsrnn_stream_obj_t *self = MP_OBJ_TO_PTR(self_in);
    const mtsrnn_model_obj_t *model = self->model;
    check_source(model);
    mp_buffer_info_t x, y;
    get_float_buffer(x_in, &x, 0, "x");
    get_float_buffer(y_in, &y, 1, "y");
    const size_t x_floats = x.len / sizeof(float);
    const size_t y_floats = y.len / sizeof(float);
    if (x_floats % model->input_size != 0)
        raise_sizes("x holds %d floats, not a whole number of frames of input_size %d", 2,
                    x_floats, model->input_size, 0);
    const size_t steps = x_floats / model->input_size;
    if (y_floats != steps * model->output_size)
        raise_sizes("y holds %d floats; it must hold steps * output_size = %d * %d", 3, y_floats,
                    steps, model->output_size);
    if (self->needs_max_steps && steps > self->max_steps)
        raise_sizes("push of %d steps exceeds this stream's max_steps %d (the model's "
                    "bidirectional layer needs the sequence in one workspace)", 2, steps,
                    self->max_steps, 0);
    check_status(mts_model_forward(&model->model, &self->options, self->state,
                                   model->state_floats, x.buf, steps, y.buf, self->workspace,
                                   self->workspace_bytes), "push");
    return mp_obj_new_int_from_uint(steps);
}
static MP_DEFINE_CONST_FUN_OBJ_3(stream_push_obj, stream_push);

static mp_obj_t stream_reset(mp_obj_t self_in)
{
    mtsrnn_stream_obj_t *self = MP_OBJ_TO_PTR(self_in);
    check_status(mts_model_reset_state(&self->model->model, self->state,
                                       self->model->state_floats), "reset");
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(stream_reset_obj, stream_reset);

static void stream_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest)
{
    const mtsrnn_stream_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (dest[0] != MP_OBJ_NULL)
        return;
    if (attr == MP_QSTR_push) {
        dest[0] = MP_OBJ_FROM_PTR(&stream_push_obj);
        dest[1] = self_in;
    } else if (attr == MP_QSTR_reset) {
        dest[0] = MP_OBJ_FROM_PTR(&stream_reset_obj);
        dest[1] = self_in;
    } else if (attr == MP_QSTR_block) {
        dest[0] = mp_obj_new_int_from_uint(self->options.block);
    } else if (attr == MP_QSTR_max_steps) {
        dest[0] = mp_obj_new_int_from_uint(self->max_steps);
    } else if (attr == MP_QSTR_model) {
        dest[0] = MP_OBJ_FROM_PTR(self->model);
    }
}

/* ------------------------------------------------------------------ module */

#if MICROPY_ENABLE_DYNRUNTIME

/* A native module links no libc; GCC emits memset for the kernels' zero
 * initialisers of structs ({0}). MicroPython's own natmod examples forward it
 * to the runtime the same way. */
void *memset(void *s, int c, size_t n)
{
    return mp_fun_table.memset_(s, c, n);
}

/* ... and memcpy for assignments of large structs (the loader copies whole
 * layer descriptors). */
void *memcpy(void *dst, const void *src, size_t n)
{
    return mp_fun_table.memmove_(dst, src, n);
}

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args)
{
    MP_DYNRUNTIME_INIT_ENTRY
    (void)n_args;
    (void)n_kw;
    (void)args;

    mtsrnn_model_type.base.type = (void *)&mp_type_type;
    mtsrnn_model_type.flags = MP_TYPE_FLAG_NONE;
    mtsrnn_model_type.name = MP_QSTR_Model;
    MP_OBJ_TYPE_SET_SLOT(&mtsrnn_model_type, make_new, model_make_new, 0);
    MP_OBJ_TYPE_SET_SLOT(&mtsrnn_model_type, attr, model_attr, 1);
    mp_store_global(MP_QSTR_Model, MP_OBJ_FROM_PTR(&mtsrnn_model_type));

    mtsrnn_stream_type.base.type = (void *)&mp_type_type;
    mtsrnn_stream_type.flags = MP_TYPE_FLAG_NONE;
    mtsrnn_stream_type.name = MP_QSTR_Stream;
    MP_OBJ_TYPE_SET_SLOT(&mtsrnn_stream_type, attr, stream_attr, 0);
    mp_store_global(MP_QSTR_Stream, MP_OBJ_FROM_PTR(&mtsrnn_stream_type));

    mp_store_global(MP_QSTR_implementation, MP_OBJ_NEW_QSTR(MP_QSTR_native));

    MP_DYNRUNTIME_INIT_EXIT
}

#else

MP_DEFINE_CONST_OBJ_TYPE(mtsrnn_model_type, MP_QSTR_Model, MP_TYPE_FLAG_NONE,
                         make_new, model_make_new, attr, model_attr);
MP_DEFINE_CONST_OBJ_TYPE(mtsrnn_stream_type, MP_QSTR_Stream, MP_TYPE_FLAG_NONE,
                         attr, stream_attr);

static const mp_rom_map_elem_t mtsrnn_module_globals_table[] = {
    {MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_mtsrnn)},
    {MP_ROM_QSTR(MP_QSTR_Model), MP_ROM_PTR(&mtsrnn_model_type)},
    {MP_ROM_QSTR(MP_QSTR_Stream), MP_ROM_PTR(&mtsrnn_stream_type)},
    {MP_ROM_QSTR(MP_QSTR_implementation), MP_ROM_QSTR(MP_QSTR_c)},
};
static MP_DEFINE_CONST_DICT(mtsrnn_module_globals, mtsrnn_module_globals_table);

const mp_obj_module_t mtsrnn_user_cmodule = {
    .base = {&mp_type_module},
    .globals = (mp_obj_dict_t *)&mtsrnn_module_globals,
};
MP_REGISTER_MODULE(MP_QSTR_mtsrnn, mtsrnn_user_cmodule);

#endif
