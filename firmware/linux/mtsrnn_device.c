/* mtsrnn-device: the device protocol (docs/protocol.md) on Linux, so that a
 * Cortex-A board (or this host) joins the same harness as the MCU firmware.
 *
 *   mtsrnn-device [--tcp PORT [--bind ADDR] [--once] | --tty DEV [--baud N]]
 *                 [--model FILE.mts ...] [--max-block T] [--max-steps N]
 *                 [--arena BYTES]
 *
 * Transport: stdin/stdout (default), a TCP port (one client at a time; PORT
 * 0 picks a free one; printed on stderr as "mtsrnn-device: listening on
 * ADDR:PORT") on 127.0.0.1, or on the IPv4 address given with --bind (e.g.
 * 0.0.0.0 on a board that a host reaches as socket://BOARD:PORT; the
 * protocol has no authentication, so only on a trusted network), or a
 * serial tty in raw mode.
 * Models: the built-in demo models (generated at build time by
 * firmware/common/make_demo_models.py through `mtsrnn export-c`: the float
 * demos and their int8 versions), then each --model file, loaded with
 * mts_file_load; `upload` (protocol 2.1) loads one more over the link into
 * a static arena of 2 x MTS_LINUX_ARENA_HALF bytes (CMake
 * MTSRNN_DEVICE_ARENA_BYTES, the half; --arena uses less of it, e.g. to
 * stand in for a small board). Its buffers are sized for the
 * largest of the models and at least for an uploaded model of up to
 * UPLOAD_WIDTH inputs and outputs (the kernels size the workspace).
 * Counters: ns (CLOCK_MONOTONIC),
 * cycles and instructions through perf_event_open where the kernel allows
 * it (reported unavailable otherwise). The protocol itself is
 * firmware/common (mts_device.h), the same code as on a microcontroller.
 */
#define _DEFAULT_SOURCE 1

#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "mts_device.h"
#include "mtsrnn/file.h"

#include "fw_models.h" /* the demo models: mts_fw_models[] (make_model_table.py) */

#define DEFAULT_MAX_BLOCK 64u
#define DEFAULT_MAX_STEPS 256u
#define MAX_EXTRA_MODELS 32
#ifndef MTS_LINUX_ARENA_HALF
#define MTS_LINUX_ARENA_HALF (8u << 20)
#endif
/* The buffers' floor for uploaded models (memory that is never touched
 * costs nothing: Linux commits pages on first use). */
#define UPLOAD_WIDTH 4096u
#define UPLOAD_STATE_FLOATS (1u << 16)
#define UPLOAD_WORKSPACE_BYTES (64u << 20)

/* The upload arena: static, like an MCU's, two halves (mts_device.h). */
static unsigned char arena[2u * MTS_LINUX_ARENA_HALF] __attribute__((aligned(64)));

/* ------------------------------------------------------------ transport */

typedef struct byte_link {
    int in_fd, out_fd;
    unsigned char buffer[4096];
    size_t position, length;
    int broken; /* a write failed (peer gone): drop the rest */
} byte_link;

static int link_read_byte(void *ctx)
{
    byte_link *l = (byte_link *)ctx;
    while (l->position == l->length) {
        const ssize_t n = read(l->in_fd, l->buffer, sizeof l->buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        l->position = 0;
        l->length = (size_t)n;
    }
    return l->buffer[l->position++];
}

static void link_write(void *ctx, const char *bytes, size_t n)
{
    byte_link *l = (byte_link *)ctx;
    while (n > 0 && !l->broken) {
        const ssize_t written = write(l->out_fd, bytes, n);
        if (written < 0 && errno == EINTR)
            continue;
        if (written <= 0) {
            l->broken = 1;
            return;
        }
        bytes += written;
        n -= (size_t)written;
    }
}

/* ------------------------------------------------------------ counters */

typedef struct counters {
    int perf_fd[2]; /* cycles, instructions; -1 when unavailable */
    struct timespec start;
} counters;

static int open_perf_counter(uint64_t config)
{
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.type = PERF_TYPE_HARDWARE;
    attr.size = sizeof attr;
    attr.config = config;
    attr.disabled = 1;
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    const long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
    return fd < 0 ? -1 : (int)fd;
}

static void counters_start(void *ctx)
{
    counters *c = (counters *)ctx;
    for (int i = 0; i < 2; i++) {
        if (c->perf_fd[i] >= 0) {
            ioctl(c->perf_fd[i], PERF_EVENT_IOC_RESET, 0);
            ioctl(c->perf_fd[i], PERF_EVENT_IOC_ENABLE, 0);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &c->start);
}

static uint32_t counters_stop(void *ctx, uint64_t values[MTS_NUM_COUNTERS])
{
    counters *c = (counters *)ctx;
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    uint32_t valid = MTS_COUNTER_BIT(MTS_COUNTER_NS);
    const int ids[2] = {MTS_COUNTER_CYCLES, MTS_COUNTER_INSTRUCTIONS};
    for (int i = 0; i < 2; i++) {
        if (c->perf_fd[i] < 0)
            continue;
        ioctl(c->perf_fd[i], PERF_EVENT_IOC_DISABLE, 0);
        uint64_t count;
        if (read(c->perf_fd[i], &count, sizeof count) == (ssize_t)sizeof count) {
            values[ids[i]] = count;
            valid |= MTS_COUNTER_BIT(ids[i]);
        }
    }
    const int64_t ns = (int64_t)(end.tv_sec - c->start.tv_sec) * 1000000000 +
                       (int64_t)(end.tv_nsec - c->start.tv_nsec);
    values[MTS_COUNTER_NS] = ns > 0 ? (uint64_t)ns : 0u;
    return valid;
}

/* The board's counters: ctx is a counters. mts_board takes one ctx for
 * everything, so the board ctx bundles the link and the counters. */
typedef struct board_ctx {
    byte_link io;
    counters counters;
} board_ctx;

static int board_read_byte(void *ctx) { return link_read_byte(&((board_ctx *)ctx)->io); }

static void board_write(void *ctx, const char *bytes, size_t n)
{
    link_write(&((board_ctx *)ctx)->io, bytes, n);
}

static void board_counters_start(void *ctx) { counters_start(&((board_ctx *)ctx)->counters); }

static uint32_t board_counters_stop(void *ctx, uint64_t values[MTS_NUM_COUNTERS])
{
    return counters_stop(&((board_ctx *)ctx)->counters, values);
}

/* ------------------------------------------------------------ models */

typedef struct loaded_model {
    mts_model model;
    void *data, *descriptors;
    char name[64];
} loaded_model;

static int die(const char *what, const char *detail)
{
    fprintf(stderr, "mtsrnn-device: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    return 2;
}

/* Read and validate an .mts file; the name is its base name without .mts,
 * with anything but letters, digits, '_', '-', '.' replaced by '_'. */
static int load_model_file(const char *path, loaded_model *out)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL)
        return die(strerror(errno), path);
    if (fseek(file, 0, SEEK_END) != 0) {
        fclose(file);
        return die("cannot seek", path);
    }
    const long size = ftell(file);
    rewind(file);
    if (size <= 0) {
        fclose(file);
        return die("empty or unreadable file", path);
    }
    void *data = malloc((size_t)size);
    if (data == NULL || fread(data, 1, (size_t)size, file) != (size_t)size) {
        fclose(file);
        free(data);
        return die("cannot read", path);
    }
    fclose(file);
    size_t descriptor_bytes;
    mts_file_error detail;
    mts_status status = mts_file_descriptor_size(data, (size_t)size, &descriptor_bytes, &detail);
    void *descriptors = status == MTS_OK ? malloc(descriptor_bytes) : NULL;
    if (status == MTS_OK && descriptors == NULL)
        status = MTS_ERR_OVERFLOW;
    if (status == MTS_OK)
        status = mts_file_load(data, (size_t)size, 0, descriptors, descriptor_bytes, &out->model,
                               &detail);
    if (status != MTS_OK) {
        /* Why the loader rejected the file, and where, on one line. */
        char text[320];
        mts_file_error_text(status, &detail, text, sizeof text);
        fprintf(stderr, "mtsrnn-device: %s: %s\n", path, text);
        free(data);
        free(descriptors);
        return 2;
    }
    out->data = data;
    out->descriptors = descriptors;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 4 && strcmp(base + n - 4, ".mts") == 0)
        n -= 4;
    if (n >= sizeof out->name)
        n = sizeof out->name - 1;
    for (size_t i = 0; i < n; i++) {
        const char c = base[i];
        const int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
        out->name[i] = ok ? c : '_';
    }
    out->name[n] = '\0';
    if (n == 0)
        strcpy(out->name, "model");
    return 0;
}

/* ------------------------------------------------------------ transports */

static int parse_count(const char *text, unsigned long max, unsigned long *value)
{
    char *end;
    errno = 0;
    const unsigned long v = strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || v > max)
        return 0;
    *value = v;
    return 1;
}

static speed_t baud_constant(unsigned long baud)
{
    switch (baud) {
    case 9600: return B9600;
    case 19200: return B19200;
    case 38400: return B38400;
    case 57600: return B57600;
    case 115200: return B115200;
    case 230400: return B230400;
    case 460800: return B460800;
    case 921600: return B921600;
    default: return 0;
    }
}

static int open_tty(const char *path, unsigned long baud)
{
    const speed_t speed = baud_constant(baud);
    if (speed == 0) {
        die("unsupported --baud (9600..921600, standard rates)", NULL);
        return -1;
    }
    const int fd = open(path, O_RDWR | O_NOCTTY);
    if (fd < 0) {
        die(strerror(errno), path);
        return -1;
    }
    struct termios tio;
    if (tcgetattr(fd, &tio) == 0) {
        cfmakeraw(&tio);
        tio.c_cc[VMIN] = 1;
        tio.c_cc[VTIME] = 0;
        cfsetispeed(&tio, speed);
        cfsetospeed(&tio, speed);
        if (tcsetattr(fd, TCSANOW, &tio) != 0)
            fprintf(stderr, "mtsrnn-device: warning: %s: cannot set raw mode: %s\n", path,
                    strerror(errno));
    }
    return fd;
}

static int listen_tcp(unsigned long port, const char *bind_address)
{
    struct sockaddr_in address;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, bind_address, &address.sin_addr) != 1) {
        die("--bind needs an IPv4 address such as 127.0.0.1 or 0.0.0.0", bind_address);
        return -1;
    }
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        die("socket", strerror(errno));
        return -1;
    }
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0 || listen(fd, 1) != 0) {
        fprintf(stderr, "mtsrnn-device: cannot listen on %s: %s\n", bind_address,
                strerror(errno));
        close(fd);
        return -1;
    }
    socklen_t length = sizeof address;
    getsockname(fd, (struct sockaddr *)&address, &length);
    fprintf(stderr, "mtsrnn-device: listening on %s:%u\n", bind_address,
            ntohs(address.sin_port));
    fflush(stderr);
    return fd;
}

/* What main allocates, freed at exit (also on its error returns). */
static struct {
    mts_device_model *models;
    loaded_model *loaded;
    int num_loaded;
    void *buffers[4];
    void *ctx;
} owned;

static void release_owned(void)
{
    for (int i = 0; i < owned.num_loaded; i++) {
        free(owned.loaded[i].data);
        free(owned.loaded[i].descriptors);
    }
    free(owned.loaded);
    free(owned.models);
    for (int i = 0; i < 4; i++)
        free(owned.buffers[i]);
    free(owned.ctx);
}

static void usage(FILE *to)
{
    fprintf(to,
            "usage: mtsrnn-device [--tcp PORT [--bind ADDR] [--once] | --tty DEV [--baud N]]\n"
            "                     [--model FILE.mts ...] [--max-block T] [--max-steps N]\n"
            "                     [--arena BYTES]\n"
            "Speaks the mtsrnn device protocol (docs/protocol.md) over stdin/stdout,\n"
            "a TCP port (0: any free port, printed on stderr) or a tty.\n"
            "Defaults: --bind 127.0.0.1 --max-block %u --max-steps %u --baud 115200\n"
            "--arena %u (bytes of each half of the upload arena, at most that).\n",
            DEFAULT_MAX_BLOCK, DEFAULT_MAX_STEPS, (unsigned)MTS_LINUX_ARENA_HALF);
}

int main(int argc, char **argv)
{
    const char *tty = NULL;
    const char *bind_address = "127.0.0.1";
    long tcp_port = -1;
    int once = 0;
    unsigned long baud = 115200, max_block = DEFAULT_MAX_BLOCK, max_steps = DEFAULT_MAX_STEPS;
    unsigned long arena_half = MTS_LINUX_ARENA_HALF;
    const char *model_paths[MAX_EXTRA_MODELS];
    int num_paths = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const int has_value = i + 1 < argc;
        unsigned long value;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(arg, "--once") == 0) {
            once = 1;
        } else if (strcmp(arg, "--tcp") == 0 && has_value && parse_count(argv[i + 1], 65535, &value)) {
            tcp_port = (long)value;
            i++;
        } else if (strcmp(arg, "--bind") == 0 && has_value) {
            bind_address = argv[++i];
        } else if (strcmp(arg, "--tty") == 0 && has_value) {
            tty = argv[++i];
        } else if (strcmp(arg, "--baud") == 0 && has_value && parse_count(argv[i + 1], 4000000, &baud)) {
            i++;
        } else if (strcmp(arg, "--max-block") == 0 && has_value &&
                   parse_count(argv[i + 1], 4096, &max_block) && max_block > 0) {
            i++;
        } else if (strcmp(arg, "--max-steps") == 0 && has_value &&
                   parse_count(argv[i + 1], 1u << 20, &max_steps) && max_steps > 0) {
            i++;
        } else if (strcmp(arg, "--arena") == 0 && has_value &&
                   parse_count(argv[i + 1], MTS_LINUX_ARENA_HALF, &arena_half)) {
            i++;
        } else if (strcmp(arg, "--model") == 0 && has_value) {
            if (num_paths == MAX_EXTRA_MODELS)
                return die("too many --model files", NULL);
            model_paths[num_paths++] = argv[++i];
        } else {
            usage(stderr);
            return die("bad argument", arg);
        }
    }
    if (tty != NULL && tcp_port >= 0)
        return die("--tcp and --tty exclude each other", NULL);
    if (tcp_port < 0 && strcmp(bind_address, "127.0.0.1") != 0)
        return die("--bind applies to --tcp only", NULL);

    /* The models: the built-in demos, then the files. */
    atexit(release_owned);
    const int num_demos = (int)MTS_FW_NUM_MODELS;
    const int num_models = num_demos + num_paths;
    mts_device_model *models = owned.models = calloc((size_t)num_models, sizeof *models);
    loaded_model *loaded = owned.loaded = calloc((size_t)num_paths + 1, sizeof *loaded);
    if (models == NULL || loaded == NULL)
        return die("out of memory", NULL);
    for (int i = 0; i < num_demos; i++)
        models[i] = mts_fw_models[i];
    for (int i = 0; i < num_paths; i++) {
        if (load_model_file(model_paths[i], &loaded[i]) != 0)
            return 2;
        owned.num_loaded = i + 1;
        models[num_demos + i] =
            (mts_device_model){loaded[i].name, &loaded[i].model, NULL, NULL, 0, 0.0f};
    }

    /* Buffers for the largest model, and for an uploaded one. */
    size_t state = UPLOAD_STATE_FLOATS, input = UPLOAD_WIDTH, output = UPLOAD_WIDTH;
    size_t workspace = UPLOAD_WORKSPACE_BYTES;
    for (int i = 0; i < num_models; i++) {
        size_t s, in, out, ws;
        mts_status status = mts_model_state_size(models[i].model, &s);
        if (status == MTS_OK)
            status = mts_model_io_sizes(models[i].model, &in, &out);
        if (status == MTS_OK)
            status = mts_model_workspace_size(models[i].model, max_block, max_steps, &ws);
        if (status != MTS_OK)
            return die(mts_status_str(status), models[i].name);
        state = s > state ? s : state;
        input = in > input ? in : input;
        output = out > output ? out : output;
        workspace = ws > workspace ? ws : workspace;
    }
    const mts_device_config config = {
        models, (uint32_t)num_models, (uint32_t)max_block, (uint32_t)max_steps,
        calloc(state, sizeof(float)), state,
        malloc(workspace), workspace,
        calloc(input * max_steps, sizeof(float)), input * max_steps,
        calloc(output * max_steps, sizeof(float)), output * max_steps,
        arena, 2u * (size_t)arena_half,
    };
    owned.buffers[0] = config.state;
    owned.buffers[1] = config.workspace;
    owned.buffers[2] = config.input;
    owned.buffers[3] = config.output;
    if (config.state == NULL || config.workspace == NULL || config.input == NULL ||
        config.output == NULL)
        return die("out of memory", NULL);

    board_ctx *ctx = owned.ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL)
        return die("out of memory", NULL);
    ctx->counters.perf_fd[0] = open_perf_counter(PERF_COUNT_HW_CPU_CYCLES);
    ctx->counters.perf_fd[1] = open_perf_counter(PERF_COUNT_HW_INSTRUCTIONS);
    struct utsname host;
    static char core[sizeof host.machine];
    strcpy(core, uname(&host) == 0 ? host.machine : "unknown");
    uint32_t available = MTS_COUNTER_BIT(MTS_COUNTER_NS);
    if (ctx->counters.perf_fd[0] >= 0)
        available |= MTS_COUNTER_BIT(MTS_COUNTER_CYCLES);
    if (ctx->counters.perf_fd[1] >= 0)
        available |= MTS_COUNTER_BIT(MTS_COUNTER_INSTRUCTIONS);
    const mts_board board = {
        "linux", core, 0, ctx, board_write, board_read_byte,
        available, board_counters_start, board_counters_stop,
    };

    static mts_device device;
    const mts_status status = mts_device_init(&device, &board, &config);
    if (status != MTS_OK)
        return die(mts_status_str(status), models[device.init_model].name);

    signal(SIGPIPE, SIG_IGN); /* a vanished peer is a failed write, not a death */
    if (tcp_port >= 0) {
        const int server = listen_tcp((unsigned long)tcp_port, bind_address);
        if (server < 0)
            return 2;
        for (;;) {
            const int client = accept(server, NULL, NULL);
            if (client < 0) {
                if (errno == EINTR)
                    continue;
                return die("accept", strerror(errno));
            }
            const int one = 1;
            setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            ctx->io = (byte_link){.in_fd = client, .out_fd = client};
            mts_device_run(&device);
            close(client);
            if (once)
                break;
        }
        close(server);
    } else if (tty != NULL) {
        const int fd = open_tty(tty, baud);
        if (fd < 0)
            return 2;
        ctx->io = (byte_link){.in_fd = fd, .out_fd = fd};
        mts_device_run(&device);
        close(fd);
    } else {
        ctx->io = (byte_link){.in_fd = 0, .out_fd = 1};
        mts_device_run(&device);
    }
    return 0;
}
