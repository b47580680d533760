/* mtsmem: a QEMU TCG plugin (QEMU 7.2, plugin API 1: qemu-plugin-7.2.h)
 * that measures the memory traffic of a window of guest execution: the
 * instructions executed (by class), the bytes read and written per memory
 * region, the bytes read from the model's weights, and the accesses, misses
 * and write-backs of a cache hierarchy model (cachesim.h) placed in front of
 * one region or of every data access. Deterministic: it counts what the
 * guest does, never time.
 *
 * The window (firmware/common/mts_device_mem.c): the guest loads word 0 of
 * the marker array (its address is the plugin's `marker` argument), then one
 * byte at the first and one at the last byte of the model's weights (the
 * span the weight bytes are counted in), runs the kernel, and loads word 1.
 * Each window appends one line of key=value counts to the `out` file; the
 * caches start each window empty, so a window's counts do not depend on
 * what ran before it.
 *
 *   qemu-system-arm ... -plugin libmtsmem.so,marker=0x1234,out=mem.txt,\
 *       region=flash:0x0:0x400000,region=sram:0x20000000:0x20400000,\
 *       cache=art:128:16:8,scope=flash
 *   args: marker=ADDR (required), out=FILE (required), region=NAME:LO:HI
 *   (up to 8, [LO, HI)), cache=NAME:SIZE:LINE:WAYS (up to 3, the first is
 *   nearest the core; a miss goes to the next), scope=REGION or all (which
 *   data accesses enter the caches; default all).
 * Instruction fetches are not modelled (counted, never cached).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachesim.h"
#include "qemu-plugin-7.2.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

enum { MAX_REGIONS = 8, MAX_CACHES = 3 };
/* Instruction classes, timed by the parts' tables (host/mtsrnn/bench/parts.py). */
enum { C_FMAC, C_IMAC, C_FALU, C_LOAD, C_STORE, C_BRANCH, C_DIV, C_OTHER, NUM_CLASSES };
static const char *const class_names[NUM_CLASSES] = {"fmac", "imac", "falu", "load", "store",
                                                     "branch", "div", "other"};

typedef struct region {
    char name[16];
    uint64_t lo, hi, read, written;
} region;

static struct {
    uint64_t marker;
    FILE *out;
    region regions[MAX_REGIONS];
    int num_regions;
    char cache_names[MAX_CACHES][16];
    cachesim caches[MAX_CACHES];
    int num_caches;
    int scope; /* region index, or -1: every data access */
    /* window state: 0 closed, 1/2 waiting for the weights' first/last byte, 3 open */
    int state;
    uint64_t weights_lo, weights_hi;
    uint64_t windows;
    uint64_t classes[NUM_CLASSES];
    uint64_t weight_read, other_read, written;
    uint64_t last_misses[2]; /* last level: weights, others */
} S;

static void reset_counts(void)
{
    memset(S.classes, 0, sizeof S.classes);
    S.weight_read = S.other_read = S.written = 0;
    S.last_misses[0] = S.last_misses[1] = 0;
    for (int i = 0; i < S.num_regions; i++)
        S.regions[i].read = S.regions[i].written = 0;
    for (int i = 0; i < S.num_caches; i++)
        cachesim_clear(&S.caches[i]); /* a window starts cold: no order effects */
}

static void emit_window(void)
{
    uint64_t insns = 0;
    for (int c = 0; c < NUM_CLASSES; c++)
        insns += S.classes[c];
    fprintf(S.out, "window=%" PRIu64 " insns=%" PRIu64, S.windows, insns);
    for (int c = 0; c < NUM_CLASSES; c++)
        fprintf(S.out, " i_%s=%" PRIu64, class_names[c], S.classes[c]);
    fprintf(S.out, " weights_span=%" PRIu64 " weight_read=%" PRIu64 " other_read=%" PRIu64
                   " written=%" PRIu64,
            S.weights_hi - S.weights_lo, S.weight_read, S.other_read, S.written);
    for (int i = 0; i < S.num_regions; i++)
        fprintf(S.out, " read_%s=%" PRIu64 " written_%s=%" PRIu64, S.regions[i].name,
                S.regions[i].read, S.regions[i].name, S.regions[i].written);
    for (int i = 0; i < S.num_caches; i++)
        fprintf(S.out, " %s_acc=%" PRIu64 " %s_miss=%" PRIu64 " %s_wb=%" PRIu64,
                S.cache_names[i], S.caches[i].accesses, S.cache_names[i], S.caches[i].misses,
                S.cache_names[i], S.caches[i].writebacks);
    if (S.num_caches > 0)
        fprintf(S.out, " last_miss_weights=%" PRIu64 " last_miss_other=%" PRIu64,
                S.last_misses[0], S.last_misses[1]);
    fputc('\n', S.out);
    fflush(S.out);
    S.windows++;
}

/* One data access in an open window. */
static void count_access(uint64_t addr, uint64_t size, int store)
{
    const int weight = addr >= S.weights_lo && addr < S.weights_hi;
    int in_region = -1;
    for (int i = 0; i < S.num_regions; i++)
        if (addr >= S.regions[i].lo && addr < S.regions[i].hi) {
            in_region = i;
            break;
        }
    if (store) {
        S.written += size;
        if (in_region >= 0)
            S.regions[in_region].written += size;
    } else {
        if (weight)
            S.weight_read += size;
        else
            S.other_read += size;
        if (in_region >= 0)
            S.regions[in_region].read += size;
    }
    if (S.num_caches == 0 || (S.scope >= 0 && in_region != S.scope))
        return;
    /* Every line the access touches, down the hierarchy until a hit. */
    const uint64_t line = S.caches[0].line;
    for (uint64_t a = addr / line; a <= (addr + size - 1) / line; a++) {
        for (int level = 0; level < S.num_caches; level++) {
            const uint64_t l = a * line / S.caches[level].line;
            if (!cachesim_access(&S.caches[level], l, store))
                break;
            if (level == S.num_caches - 1)
                S.last_misses[weight ? 0 : 1]++;
        }
    }
}

static void on_mem(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *udata)
{
    (void)vcpu;
    (void)udata;
    const int store = qemu_plugin_mem_is_store(info);
    const uint64_t size = 1ull << qemu_plugin_mem_size_shift(info);
    if (!store && vaddr == S.marker) {
        S.state = 1;
        return;
    }
    if (S.state == 1 || S.state == 2) { /* the weights' first, then last byte */
        if (S.state == 1)
            S.weights_lo = vaddr;
        else
            S.weights_hi = vaddr + 1;
        S.state++;
        if (S.state == 3) {
            if (S.weights_hi <= S.weights_lo) /* not a well-formed mark: no weights */
                S.weights_lo = S.weights_hi = 0;
            reset_counts();
        }
        return;
    }
    if (S.state == 3 && !store && vaddr == S.marker + 4) {
        emit_window();
        S.state = 0;
        return;
    }
    if (S.state == 3)
        count_access(vaddr, size, store);
}

static void on_tb(unsigned int vcpu, void *udata)
{
    (void)vcpu;
    if (S.state != 3)
        return;
    const uint32_t *n = udata;
    for (int c = 0; c < NUM_CLASSES; c++)
        S.classes[c] += n[c];
}

static int starts(const char *m, const char *prefix)
{
    return strncmp(m, prefix, strlen(prefix)) == 0;
}

/* The class of one instruction from its mnemonic (ARM, Thumb, aarch64). */
static int classify(const char *text)
{
    char m[16];
    size_t n = 0;
    while (*text == ' ' || *text == '\t')
        text++;
    for (; *text && *text != ' ' && *text != '\t' && n + 1 < sizeof m; text++)
        m[n++] = (char)(*text >= 'A' && *text <= 'Z' ? *text + 32 : *text);
    m[n] = '\0';
    /* Multiply-adds: float (scalar or vector) and integer (incl. dot products). */
    static const char *const fmacs[] = {"vfma", "vfms", "vfnm", "fmla", "fmls", "fmadd",
                                        "fmsub", "fnmadd", "fnmsub"};
    static const char *const imacs[] = {"mla", "mls", "smla", "smlal", "umlal", "sdot", "udot",
                                        "vmlav", "vmlad", "vmlalv", "madd", "msub", "vdot"};
    for (size_t i = 0; i < sizeof fmacs / sizeof fmacs[0]; i++)
        if (starts(m, fmacs[i]))
            return C_FMAC;
    if (starts(m, "vmla") || starts(m, "vmls")) /* vmla.f32 or an integer vmla.i32 */
        return strstr(m, ".f") ? C_FMAC : C_IMAC;
    for (size_t i = 0; i < sizeof imacs / sizeof imacs[0]; i++)
        if (starts(m, imacs[i]))
            return C_IMAC;
    /* Other float arithmetic (a soft-float call on a core without an FPU). */
    static const char *const falus[] = {"vadd.f", "vsub.f", "vmul.f", "vnmul.f", "vneg.f",
                                        "vabs.f", "vcvt", "vcmp", "vmax.f", "vmin.f",
                                        "vmaxnm.f", "vminnm.f", "vrint", "vsel", "fadd",
                                        "fsub", "fmul", "fnmul", "fneg", "fabs", "fcvt",
                                        "fcmp", "fmax", "fmin", "frint", "scvtf", "ucvtf",
                                        "fcsel"};
    for (size_t i = 0; i < sizeof falus / sizeof falus[0]; i++)
        if (starts(m, falus[i]))
            return C_FALU;
    if (starts(m, "vdiv") || starts(m, "vsqrt") || starts(m, "fdiv") || starts(m, "fsqrt") ||
        starts(m, "sdiv") || starts(m, "udiv"))
        return C_DIV;
    if (starts(m, "ld") || starts(m, "vld") || starts(m, "pop") || starts(m, "vpop"))
        return C_LOAD;
    if (starts(m, "st") || starts(m, "vst") || starts(m, "push") || starts(m, "vpush"))
        return C_STORE;
    static const char *const branches[] = {"b", "bl", "blx", "bx", "br", "blr", "ret", "cbz",
                                           "cbnz", "tbz", "tbnz", "b.w", "bl.w"};
    for (size_t i = 0; i < sizeof branches / sizeof branches[0]; i++)
        if (strcmp(m, branches[i]) == 0)
            return C_BRANCH;
    static const char *const conds[] = {"eq", "ne", "cs", "cc", "hs", "lo", "mi", "pl", "vs",
                                        "vc", "hi", "ls", "ge", "lt", "gt", "le"};
    const char *c = m[0] == 'b' ? (m[1] == '.' ? m + 2 : m + 1) : NULL;
    for (size_t i = 0; c != NULL && i < sizeof conds / sizeof conds[0]; i++)
        if (strncmp(c, conds[i], 2) == 0 && (c[2] == '\0' || c[2] == '.'))
            return C_BRANCH;
    return C_OTHER;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    const size_t n = qemu_plugin_tb_n_insns(tb);
    /* Per translated block its class counts, added when it runs; kept for
     * the process's life (a block may run again after a retranslation). */
    uint32_t *counts = calloc(NUM_CLASSES, sizeof *counts);
    if (counts == NULL)
        abort();
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        char *text = qemu_plugin_insn_disas(insn);
        counts[classify(text ? text : "")]++;
        free(text);
        qemu_plugin_register_vcpu_mem_cb(insn, on_mem, QEMU_PLUGIN_CB_NO_REGS,
                                         QEMU_PLUGIN_MEM_RW, NULL);
    }
    qemu_plugin_register_vcpu_tb_exec_cb(tb, on_tb, QEMU_PLUGIN_CB_NO_REGS, counts);
}

static void on_plugin_exit(qemu_plugin_id_t id, void *udata)
{
    (void)id;
    (void)udata;
    if (S.out)
        fclose(S.out);
    S.out = NULL;
    for (int i = 0; i < S.num_caches; i++)
        cachesim_free(&S.caches[i]);
}

static int parse_u64(const char *text, uint64_t *value)
{
    char *end;
    *value = strtoull(text, &end, 0);
    return end != text && (*end == '\0' || *end == ':');
}

static int fail(const char *what, const char *arg)
{
    fprintf(stderr, "mtsmem: %s: %s\n", what, arg);
    return -1;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                           int argc, char **argv)
{
    (void)info;
    const char *out = NULL, *scope = "all";
    int have_marker = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (starts(a, "marker=")) {
            have_marker = parse_u64(a + 7, &S.marker);
            if (!have_marker)
                return fail("marker=ADDR expected", a);
        } else if (starts(a, "out=")) {
            out = a + 4;
        } else if (starts(a, "scope=")) {
            scope = a + 6;
        } else if (starts(a, "region=") || starts(a, "cache=")) {
            const int is_region = a[0] == 'r';
            const char *body = a + (is_region ? 7 : 6);
            const char *colon = strchr(body, ':');
            uint64_t v[3] = {0, 0, 0};
            const char *p = colon;
            int k = 0;
            while (p != NULL && k < (is_region ? 2 : 3) && parse_u64(p + 1, &v[k])) {
                k++;
                p = strchr(p + 1, ':');
            }
            const size_t name_len = colon ? (size_t)(colon - body) : 0;
            if (name_len == 0 || name_len >= 16 || k != (is_region ? 2 : 3) || p != NULL)
                return fail(is_region ? "region=NAME:LO:HI expected"
                                      : "cache=NAME:SIZE:LINE:WAYS expected", a);
            if (is_region) {
                if (S.num_regions == MAX_REGIONS || v[1] <= v[0])
                    return fail("too many regions or HI <= LO", a);
                region *r = &S.regions[S.num_regions++];
                memcpy(r->name, body, name_len);
                r->lo = v[0];
                r->hi = v[1];
            } else {
                if (S.num_caches == MAX_CACHES)
                    return fail("at most 3 cache levels", a);
                if (cachesim_init(&S.caches[S.num_caches], v[0], v[1], v[2]) != 0)
                    return fail("cache shape: SIZE = sets * WAYS * LINE, powers of two", a);
                memcpy(S.cache_names[S.num_caches++], body, name_len);
            }
        } else {
            return fail("unknown argument (marker= out= region= cache= scope=)", a);
        }
    }
    if (!have_marker || out == NULL)
        return fail("marker=ADDR and out=FILE are required", "");
    S.scope = -1;
    if (strcmp(scope, "all") != 0) {
        for (int i = 0; i < S.num_regions; i++)
            if (strcmp(S.regions[i].name, scope) == 0)
                S.scope = i;
        if (S.scope < 0)
            return fail("scope= names no region", scope);
    }
    for (int i = 1; i < S.num_caches; i++)
        if (S.caches[i].line < S.caches[0].line)
            return fail("a lower level's line must not be shorter than the first's",
                        S.cache_names[i]);
    S.out = fopen(out, "w");
    if (S.out == NULL)
        return fail("cannot write", out);
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_plugin_exit, NULL);
    return 0;
}
