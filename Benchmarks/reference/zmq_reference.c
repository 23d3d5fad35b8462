/*
 * zmq_reference.c - minimal C reference for the ZGrid RPC benchmark.
 *
 * The smallest thing that does the same job as ZGrid's broker/worker/client
 * over libzmq, so the Swift numbers can be compared against "raw libzmq".
 *
 * Build:  cc -O2 -Wall -Wextra -o zmq_reference zmq_reference.c -lzmq -lpthread
 *
 * Modes:
 *   zmq_reference broker ENDPOINT
 *       ROUTER bound at ENDPOINT. A peer that sends the single frame "W"
 *       is registered as a worker. Messages from anyone else are client
 *       requests [client-id][payload...], forwarded round-robin to a worker
 *       as [worker-id][client-id][payload...]. Worker replies
 *       [worker-id][client-id][payload...] are forwarded as
 *       [client-id][payload...]. Frames are moved as zmq_msg_t (no copies);
 *       only the destination worker identity frame is built.
 *       Runs until SIGINT/SIGTERM, then exits 0.
 *
 *   zmq_reference worker ENDPOINT
 *       DEALER, sends "W" once, then echoes every [client-id][payload...]
 *       message back unchanged. Exits 0 on SIGINT/SIGTERM.
 *
 *   zmq_reference client ENDPOINT [--size 64] [--sync N] [--pipeline 200]
 *                                 [--pipelined-calls M] [--wait-ms 300]
 *                                 [--timeout-ms 10000]
 *       DEALER. Waits --wait-ms for workers, runs min(1000, N/10) warm-up
 *       calls, then N synchronous round trips (each timed with
 *       CLOCK_MONOTONIC), then M calls with --pipeline calls in flight.
 *       Prints one line:
 *         impl=c sync_calls=N sync_p50_us=.. sync_p99_us=.. sync_mean_us=..
 *         pipelined_calls=M pipeline=P pipelined_cps=..
 *
 * All sockets use ZMQ_LINGER 0. Errors go to stderr with a non-zero exit.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

static volatile sig_atomic_t g_stop = 0;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void install_signal_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: blocking zmq calls must return EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static void die_zmq(const char *what)
{
    fprintf(stderr, "zmq_reference: %s failed: %s\n", what, zmq_strerror(zmq_errno()));
    exit(1);
}

static void *make_socket(void *ctx, int type)
{
    void *s = zmq_socket(ctx, type);
    if (!s)
        die_zmq("zmq_socket");
    int linger = 0;
    if (zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger) != 0)
        die_zmq("zmq_setsockopt(ZMQ_LINGER)");
    /* No high-water-mark drops during the pipelined phase. */
    int hwm = 0;
    if (zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm) != 0)
        die_zmq("zmq_setsockopt(ZMQ_SNDHWM)");
    if (zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm) != 0)
        die_zmq("zmq_setsockopt(ZMQ_RCVHWM)");
    return s;
}

static void close_and_term(void *sock, void *ctx)
{
    zmq_close(sock);
    zmq_ctx_term(ctx);
}

static int msg_more(zmq_msg_t *m)
{
    return zmq_msg_more(m);
}

/* ------------------------------------------------------------------------ */
/* broker                                                                   */
/* ------------------------------------------------------------------------ */

#define MAX_WORKERS 1024
#define MAX_ID 256

typedef struct {
    size_t len;
    unsigned char id[MAX_ID];
} identity_t;

static identity_t g_workers[MAX_WORKERS];
static size_t g_nworkers = 0;

static int find_worker(const void *id, size_t len)
{
    for (size_t i = 0; i < g_nworkers; i++)
        if (g_workers[i].len == len && memcmp(g_workers[i].id, id, len) == 0)
            return (int)i;
    return -1;
}

/* Receive into an initialised msg; returns 0, or -1 on interrupt/stop. */
static int recv_frame(void *sock, zmq_msg_t *m, const char *who)
{
    for (;;) {
        if (zmq_msg_recv(m, sock, 0) >= 0)
            return 0;
        if (zmq_errno() == EINTR) {
            if (g_stop)
                return -1;
            continue;
        }
        fprintf(stderr, "zmq_reference %s: zmq_msg_recv failed: %s\n", who, zmq_strerror(zmq_errno()));
        exit(1);
    }
}

static int send_frame(void *sock, zmq_msg_t *m, int more, const char *who)
{
    for (;;) {
        if (zmq_msg_send(m, sock, more ? ZMQ_SNDMORE : 0) >= 0)
            return 0;
        if (zmq_errno() == EINTR) {
            if (g_stop)
                return -1;
            continue;
        }
        fprintf(stderr, "zmq_reference %s: zmq_msg_send failed: %s\n", who, zmq_strerror(zmq_errno()));
        exit(1);
    }
}

/* Receive and discard the rest of a multipart message. */
static void drain(void *sock, zmq_msg_t *m)
{
    while (msg_more(m)) {
        if (recv_frame(sock, m, "broker") != 0)
            return;
    }
}

/* Move every remaining frame of the message being received on `from` to
 * `to`. `m` holds the frame just received (already initialised). */
static int forward_rest(void *from, void *to, zmq_msg_t *m)
{
    for (;;) {
        int more = msg_more(m);
        if (send_frame(to, m, more, "broker") != 0)
            return -1;
        if (!more)
            return 0;
        if (recv_frame(from, m, "broker") != 0)
            return -1;
    }
}

static int run_broker(const char *endpoint)
{
    void *ctx = zmq_ctx_new();
    if (!ctx)
        die_zmq("zmq_ctx_new");
    void *router = make_socket(ctx, ZMQ_ROUTER);
    if (zmq_bind(router, endpoint) != 0) {
        fprintf(stderr, "zmq_reference broker: cannot bind %s: %s\n", endpoint, zmq_strerror(zmq_errno()));
        close_and_term(router, ctx);
        return 1;
    }

    size_t next_worker = 0;
    int warned_no_workers = 0;
    zmq_msg_t id, m;
    zmq_msg_init(&id);
    zmq_msg_init(&m);

    while (!g_stop) {
        if (recv_frame(router, &id, "broker") != 0)
            break;
        if (!msg_more(&id))
            continue; /* identity only: cannot happen on ROUTER, ignore */
        if (recv_frame(router, &m, "broker") != 0)
            break;

        const void *idp = zmq_msg_data(&id);
        size_t idlen = zmq_msg_size(&id);
        int widx = find_worker(idp, idlen);

        if (!msg_more(&m) && zmq_msg_size(&m) == 1 && *(const char *)zmq_msg_data(&m) == 'W') {
            /* Worker ready. */
            if (widx < 0) {
                if (g_nworkers == MAX_WORKERS || idlen > MAX_ID) {
                    fprintf(stderr, "zmq_reference broker: cannot register worker (limit reached)\n");
                    continue;
                }
                g_workers[g_nworkers].len = idlen;
                memcpy(g_workers[g_nworkers].id, idp, idlen);
                g_nworkers++;
            }
            continue;
        }

        if (widx >= 0) {
            /* Worker reply [worker-id][client-id][payload...]:
             * drop worker-id, forward [client-id][payload...] as is. */
            if (forward_rest(router, router, &m) != 0)
                break;
            continue;
        }

        /* Client request [client-id][payload...] -> [worker-id][client-id][payload...] */
        if (g_nworkers == 0) {
            if (!warned_no_workers) {
                fprintf(stderr, "zmq_reference broker: no worker registered, dropping request\n");
                warned_no_workers = 1;
            }
            drain(router, &m);
            continue;
        }
        identity_t *w = &g_workers[next_worker];
        next_worker = (next_worker + 1) % g_nworkers;

        zmq_msg_t wid;
        if (zmq_msg_init_size(&wid, w->len) != 0)
            die_zmq("zmq_msg_init_size");
        memcpy(zmq_msg_data(&wid), w->id, w->len);
        if (send_frame(router, &wid, 1, "broker") != 0) {
            zmq_msg_close(&wid);
            break;
        }
        zmq_msg_close(&wid);
        /* client-id frame (moved), then the payload frames. */
        if (send_frame(router, &id, 1, "broker") != 0)
            break;
        if (forward_rest(router, router, &m) != 0)
            break;
    }

    zmq_msg_close(&id);
    zmq_msg_close(&m);
    close_and_term(router, ctx);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* worker                                                                   */
/* ------------------------------------------------------------------------ */

static int run_worker(const char *endpoint)
{
    void *ctx = zmq_ctx_new();
    if (!ctx)
        die_zmq("zmq_ctx_new");
    void *dealer = make_socket(ctx, ZMQ_DEALER);
    if (zmq_connect(dealer, endpoint) != 0) {
        fprintf(stderr, "zmq_reference worker: cannot connect %s: %s\n", endpoint, zmq_strerror(zmq_errno()));
        close_and_term(dealer, ctx);
        return 1;
    }
    if (zmq_send(dealer, "W", 1, 0) != 1) {
        if (zmq_errno() == EINTR && g_stop) {
            close_and_term(dealer, ctx);
            return 0;
        }
        die_zmq("zmq_send(ready)");
    }

    zmq_msg_t m;
    zmq_msg_init(&m);
    while (!g_stop) {
        if (recv_frame(dealer, &m, "worker") != 0)
            break;
        /* Echo [client-id][payload...] back unchanged, frame by frame. */
        if (forward_rest(dealer, dealer, &m) != 0)
            break;
    }
    zmq_msg_close(&m);
    close_and_term(dealer, ctx);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* client                                                                   */
/* ------------------------------------------------------------------------ */

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !g_stop) {
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile over a sorted array. */
static double percentile(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return 0.0;
    size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return sorted[rank - 1];
}

static long parse_long(const char *flag, const char *v, long min)
{
    char *end = NULL;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || x < min) {
        fprintf(stderr, "zmq_reference client: invalid value for %s: '%s' (need integer >= %ld)\n", flag, v, min);
        exit(2);
    }
    return x;
}

static void client_send(void *s, const unsigned char *buf, size_t size)
{
    for (;;) {
        if (zmq_send(s, buf, size, 0) >= 0)
            return;
        if (zmq_errno() == EINTR && !g_stop)
            continue;
        if (g_stop) {
            fprintf(stderr, "zmq_reference client: interrupted\n");
            exit(130);
        }
        die_zmq("zmq_send");
    }
}

/* Receive one reply into buf (capacity cap); returns the reply size. */
static size_t client_recv(void *s, unsigned char *buf, size_t cap, long timeout_ms)
{
    for (;;) {
        int n = zmq_recv(s, buf, cap, 0);
        if (n >= 0) {
            int more = 0;
            size_t ml = sizeof more;
            zmq_getsockopt(s, ZMQ_RCVMORE, &more, &ml);
            if (more) {
                fprintf(stderr, "zmq_reference client: unexpected multipart reply\n");
                exit(1);
            }
            return (size_t)n;
        }
        int e = zmq_errno();
        if (e == EINTR && !g_stop)
            continue;
        if (g_stop) {
            fprintf(stderr, "zmq_reference client: interrupted\n");
            exit(130);
        }
        if (e == EAGAIN) {
            fprintf(stderr, "zmq_reference client: no reply within %ld ms (broker/workers running?)\n", timeout_ms);
            exit(1);
        }
        die_zmq("zmq_recv");
    }
}

static void put_seq(unsigned char *buf, size_t size, uint64_t seq)
{
    memcpy(buf, &seq, size < sizeof seq ? size : sizeof seq);
}

static int run_client(const char *endpoint, int argc, char **argv)
{
    long size = 64, sync_calls = 20000, pipeline = 200, pipelined_calls = 200000;
    long wait_ms = 300, timeout_ms = 10000;

    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc) {
            fprintf(stderr, "zmq_reference client: missing value for %s\n", a);
            return 2;
        }
        const char *v = argv[++i];
        if (strcmp(a, "--size") == 0)
            size = parse_long(a, v, 0);
        else if (strcmp(a, "--sync") == 0)
            sync_calls = parse_long(a, v, 0);
        else if (strcmp(a, "--pipeline") == 0)
            pipeline = parse_long(a, v, 1);
        else if (strcmp(a, "--pipelined-calls") == 0)
            pipelined_calls = parse_long(a, v, 0);
        else if (strcmp(a, "--wait-ms") == 0)
            wait_ms = parse_long(a, v, 0);
        else if (strcmp(a, "--timeout-ms") == 0)
            timeout_ms = parse_long(a, v, 1);
        else {
            fprintf(stderr, "zmq_reference client: unknown option %s\n", a);
            return 2;
        }
    }

    void *ctx = zmq_ctx_new();
    if (!ctx)
        die_zmq("zmq_ctx_new");
    void *dealer = make_socket(ctx, ZMQ_DEALER);
    int rcvtimeo = (int)timeout_ms;
    if (zmq_setsockopt(dealer, ZMQ_RCVTIMEO, &rcvtimeo, sizeof rcvtimeo) != 0)
        die_zmq("zmq_setsockopt(ZMQ_RCVTIMEO)");
    if (zmq_connect(dealer, endpoint) != 0) {
        fprintf(stderr, "zmq_reference client: cannot connect %s: %s\n", endpoint, zmq_strerror(zmq_errno()));
        close_and_term(dealer, ctx);
        return 1;
    }

    size_t sz = (size_t)size;
    size_t cap = sz + 64;
    unsigned char *out = calloc(1, sz ? sz : 1);
    unsigned char *in = malloc(cap);
    double *lat = malloc(sizeof(double) * (size_t)(sync_calls ? sync_calls : 1));
    if (!out || !in || !lat) {
        fprintf(stderr, "zmq_reference client: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < sz; i++)
        out[i] = (unsigned char)('a' + i % 26);

    sleep_ms(wait_ms);
    if (g_stop) {
        fprintf(stderr, "zmq_reference client: interrupted\n");
        return 130;
    }

    /* (a) synchronous phase */
    uint64_t seq = 0;
    long warmup = sync_calls / 10 < 1000 ? sync_calls / 10 : 1000;
    for (long i = 0; i < warmup + sync_calls; i++) {
        seq++;
        put_seq(out, sz, seq);
        double t0 = now_us();
        client_send(dealer, out, sz);
        size_t n = client_recv(dealer, in, cap, timeout_ms);
        double t1 = now_us();
        if (n != sz || (sz > 0 && memcmp(in, out, sz < 8 ? sz : 8) != 0)) {
            fprintf(stderr, "zmq_reference client: bad reply in sync phase (size %zu, expected %zu)\n", n, sz);
            return 1;
        }
        if (i >= warmup)
            lat[i - warmup] = t1 - t0;
    }
    double p50 = 0, p99 = 0, mean = 0;
    if (sync_calls > 0) {
        double sum = 0;
        for (long i = 0; i < sync_calls; i++)
            sum += lat[i];
        mean = sum / (double)sync_calls;
        qsort(lat, (size_t)sync_calls, sizeof(double), cmp_double);
        p50 = percentile(lat, (size_t)sync_calls, 50.0);
        p99 = percentile(lat, (size_t)sync_calls, 99.0);
    }

    /* (b) pipelined phase: keep `pipeline` calls in flight */
    double cps = 0;
    if (pipelined_calls > 0) {
        long sent = 0, done = 0;
        double t0 = now_us();
        while (sent < pipelined_calls && sent < pipeline) {
            put_seq(out, sz, ++seq);
            client_send(dealer, out, sz);
            sent++;
        }
        while (done < pipelined_calls) {
            size_t n = client_recv(dealer, in, cap, timeout_ms);
            if (n != sz) {
                fprintf(stderr, "zmq_reference client: bad reply in pipelined phase (size %zu, expected %zu)\n", n, sz);
                return 1;
            }
            done++;
            if (sent < pipelined_calls) {
                put_seq(out, sz, ++seq);
                client_send(dealer, out, sz);
                sent++;
            }
        }
        double secs = (now_us() - t0) / 1e6;
        cps = secs > 0 ? (double)pipelined_calls / secs : 0;
    }

    printf("impl=c sync_calls=%ld sync_p50_us=%.2f sync_p99_us=%.2f sync_mean_us=%.2f "
           "pipelined_calls=%ld pipeline=%ld pipelined_cps=%.2f\n",
           sync_calls, p50, p99, mean, pipelined_calls, pipeline, cps);
    fflush(stdout);

    free(out);
    free(in);
    free(lat);
    close_and_term(dealer, ctx);
    return 0;
}

/* ------------------------------------------------------------------------ */

static void usage(void)
{
    fprintf(stderr,
            "usage: zmq_reference broker ENDPOINT\n"
            "       zmq_reference worker ENDPOINT\n"
            "       zmq_reference client ENDPOINT [--size 64] [--sync N] [--pipeline 200]\n"
            "                                     [--pipelined-calls M] [--wait-ms 300] [--timeout-ms 10000]\n");
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        usage();
        return 2;
    }
    install_signal_handlers();
    const char *mode = argv[1], *endpoint = argv[2];
    if (strcmp(mode, "broker") == 0 && argc == 3)
        return run_broker(endpoint);
    if (strcmp(mode, "worker") == 0 && argc == 3)
        return run_worker(endpoint);
    if (strcmp(mode, "client") == 0)
        return run_client(endpoint, argc - 3, argv + 3);
    usage();
    return 2;
}
