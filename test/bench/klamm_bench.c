/*
 * klamm_bench — the load generator behind `make bench`.
 *
 * It uses librdkafka (the C client real applications use) to
 *   1. produce N records of S bytes with acks=all to a topic with P partitions,
 *      from C producer instances in C threads, waiting for every delivery report and
 *      timing each record from enqueue to its delivery report (monotonic clock);
 *   2. consume them all back — as a consumer group member when --group is given,
 *      otherwise by manual assignment from the beginning — and verify that every
 *      record arrives exactly once with the value it was produced with.
 * The broker is either a running one (--brokers host:port, e.g. Klamm) or librdkafka's
 * in-memory mock cluster started inside this process (--mock), so that both are driven
 * by exactly the same client code and settings.
 *
 * A record is self-describing: key = decimal index i, value = S bytes of a SplitMix64
 * stream seeded with i. The consumer recomputes the value from the key.
 *
 * A third mode, --startup-port PORT -- CMD ARGS..., measures how long a broker takes
 * from exec() until its port accepts a TCP connection, then how long SIGTERM takes.
 *
 * Build: cc -std=c11 -O2 -Wall -Wextra -Werror test/bench/klamm_bench.c -o klamm_bench \
 *            -lrdkafka -lpthread
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/* ---- options ---------------------------------------------------------------- */

struct options {
    const char *brokers;      /* bootstrap servers, or NULL with --mock */
    bool mock;                /* start librdkafka's mock cluster in-process */
    uint64_t records;         /* N */
    size_t size;              /* S, value bytes */
    int partitions;           /* P */
    int producers;            /* C producer instances (threads) */
    const char *topic;
    const char *group;        /* consume with subscribe() in this group, else assign() */
    const char *scenario;     /* label copied into the JSON line */
    bool by_key;              /* partition by key hash instead of explicit round-robin */
    bool json;
    bool produce;
    bool consume;
    int timeout_s;            /* give up consuming after this long without progress */
    int queue_max;            /* queue.buffering.max.messages */
    int linger_ms;
};

static struct options opt = {
    .brokers = NULL, .mock = false, .records = 100000, .size = 100, .partitions = 1,
    .producers = 1, .topic = "klamm-bench", .group = NULL, .scenario = "",
    .by_key = false, .json = false, .produce = true, .consume = true,
    .timeout_s = 30, .queue_max = 200000, .linger_ms = 5,
};

/* ---- small helpers ---------------------------------------------------------- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("klamm_bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static void note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("klamm_bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* SplitMix64: a tiny, well-mixed generator; the whole value follows from the seed. */
static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void fill_value(uint64_t index, unsigned char *buf, size_t len)
{
    uint64_t state = index;
    for (size_t i = 0; i < len; i += 8) {
        uint64_t r = splitmix64(&state);
        memcpy(buf + i, &r, len - i < 8 ? len - i : 8);
    }
}

static void conf_set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
    char err[256];
    if (rd_kafka_conf_set(conf, name, value, err, sizeof err) != RD_KAFKA_CONF_OK)
        die("config %s=%s: %s", name, value, err);
}

static void conf_set_int(rd_kafka_conf_t *conf, const char *name, long long value)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", value);
    conf_set(conf, name, buf);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array, p in (0,100]. */
static uint64_t percentile(const uint64_t *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t rank = (size_t)((p / 100.0) * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return sorted[rank - 1];
}

/* ---- CPU time: the broker's and the client's ---------------------------------- */

/* CPU time (user + system, ms) of this process's threads whose name starts with
 * `prefix`, from /proc/self/task/TID/{comm,stat}. The mock cluster runs in a thread of
 * its own ("rdk:mock"), so this tells its CPU apart from the client's: the mock's
 * counterpart of the broker CPU run.sh reads for Klamm from /proc/PID/stat. Threads
 * that already exited are not counted (the mock's lives until the cluster is destroyed).
 * -1 where /proc cannot be read. */
static long threads_cpu_ms(const char *prefix)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    long ticks = 0, hz = sysconf(_SC_CLK_TCK);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[300], comm[32] = "", stat[1024];
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        bool match = fgets(comm, sizeof comm, f) && strncmp(comm, prefix, strlen(prefix)) == 0;
        fclose(f);
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
        if (!match || !(f = fopen(path, "r")))
            continue;
        size_t n = fread(stat, 1, sizeof stat - 1, f);
        fclose(f);
        stat[n] = '\0';
        /* Fields after "pid (comm) ": state is field 3, utime 14 and stime 15. */
        const char *p = strrchr(stat, ')');
        unsigned long utime, stime;
        if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
                        &utime, &stime) == 2)
            ticks += (long)(utime + stime);
    }
    closedir(d);
    return hz > 0 ? ticks * 1000 / hz : -1;
}

/* This whole process's CPU time so far (every thread, live or exited), ms. */
static long process_cpu_ms(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000L +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000L;
}

/* ---- topic set-up ----------------------------------------------------------- */

static rd_kafka_mock_cluster_t *mock_cluster;
static rd_kafka_t *mock_owner;   /* the client handle the mock cluster hangs off */

static void start_mock(void)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    conf_set(conf, "log_level", "3");
    mock_owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!mock_owner)
        die("rd_kafka_new (mock owner): %s", err);
    mock_cluster = rd_kafka_mock_cluster_new(mock_owner, 1);
    if (!mock_cluster)
        die("rd_kafka_mock_cluster_new failed");
    rd_kafka_resp_err_t e =
        rd_kafka_mock_topic_create(mock_cluster, opt.topic, opt.partitions, 1);
    if (e)
        die("rd_kafka_mock_topic_create: %s", rd_kafka_err2str(e));
    opt.brokers = rd_kafka_mock_cluster_bootstraps(mock_cluster);
    note("mock cluster (1 broker) at %s, topic %s with %d partitions", opt.brokers,
         opt.topic, opt.partitions);
}

/* Ask the broker for the topic's partition count; 0 while it does not exist. */
static int topic_partition_count(rd_kafka_t *rk, int timeout_ms)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, opt.topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    int count = 0;
    if (rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (int i = 0; i < md->topic_cnt; i++)
            if (strcmp(md->topics[i].topic, opt.topic) == 0 && md->topics[i].err == 0)
                count = md->topics[i].partition_cnt;
        rd_kafka_metadata_destroy(md);
    }
    rd_kafka_topic_destroy(rkt);
    return count;
}

/*
 * Create the topic with the Admin API (CreateTopics). If the broker refuses the request
 * type, say so and fall back to auto-creation (the broker's num.partitions decides).
 * Returns the partition count the topic really has.
 */
static int create_topic(void)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    conf_set(conf, "bootstrap.servers", opt.brokers);
    conf_set(conf, "allow.auto.create.topics", "true");
    conf_set(conf, "log_level", "3");
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk)
        die("rd_kafka_new (admin): %s", err);

    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(opt.topic, opt.partitions, 1, err, sizeof err);
    if (!nt)
        die("rd_kafka_NewTopic_new: %s", err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *ao = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(ao, 10000, err, sizeof err);
    rd_kafka_AdminOptions_set_request_timeout(ao, 15000, err, sizeof err);
    rd_kafka_CreateTopics(rk, &nt, 1, ao, q);

    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 20000);
    bool created = false;
    if (!ev) {
        note("CreateTopics: no answer within 20 s; falling back to auto-create");
    } else if (rd_kafka_event_error(ev)) {
        note("CreateTopics not supported or failed (%s: %s); falling back to auto-create "
             "(broker num.partitions decides)",
             rd_kafka_err2name(rd_kafka_event_error(ev)), rd_kafka_event_error_string(ev));
    } else {
        size_t n = 0;
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        for (size_t i = 0; i < n; i++) {
            rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
                created = true;
            } else if (e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                note("topic %s already exists; using it as it is", opt.topic);
                created = true;
            } else {
                note("CreateTopics for %s failed: %s (%s); falling back to auto-create",
                     opt.topic, rd_kafka_err2name(e), rd_kafka_topic_result_error_string(res[i]));
            }
        }
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);

    /* Wait until metadata shows the topic (this request also auto-creates it). */
    int count = 0;
    uint64_t deadline = now_ns() + 30ull * 1000000000u;
    while ((count = topic_partition_count(rk, 5000)) == 0 && now_ns() < deadline)
        usleep(100 * 1000);
    rd_kafka_destroy(rk);
    if (count == 0)
        die("topic %s does not appear in the broker's metadata", opt.topic);
    if (count != opt.partitions)
        note("topic %s has %d partitions, not the %d asked for%s; using %d", opt.topic, count,
             opt.partitions, created ? "" : " (auto-created)", count);
    else
        note("topic %s ready with %d partitions (%s)", opt.topic, count,
             created ? "CreateTopics" : "auto-created");
    return count;
}

/* ---- produce ---------------------------------------------------------------- */

static uint64_t *enqueue_ns;    /* [N] time each record was handed to librdkafka */
static uint64_t *latency_ns;    /* [N] enqueue -> delivery report, 0 = not delivered */

struct producer {
    pthread_t thread;
    int id;
    pthread_barrier_t *start;
    uint64_t delivered, failed;
    rd_kafka_resp_err_t first_error;
    uint64_t last_report_ns;
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    struct producer *p = opaque;
    uint64_t t = now_ns();
    uint64_t i = (uint64_t)(uintptr_t)m->_private;
    if (m->err) {
        if (p->failed++ == 0)
            p->first_error = m->err;
    } else {
        p->delivered++;
        latency_ns[i] = t - enqueue_ns[i];
    }
    p->last_report_ns = t;
}

static void *producer_main(void *arg)
{
    struct producer *p = arg;
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    conf_set(conf, "bootstrap.servers", opt.brokers);
    conf_set(conf, "acks", "all");
    conf_set_int(conf, "linger.ms", opt.linger_ms);
    conf_set(conf, "batch.num.messages", "10000");
    conf_set_int(conf, "queue.buffering.max.messages", opt.queue_max);
    conf_set(conf, "compression.codec", "none");
    conf_set(conf, "log_level", "3");
    if (opt.by_key)
        conf_set(conf, "partitioner", "murmur2_random"); /* the Java client's partitioner */
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk)
        die("rd_kafka_new (producer): %s", err);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, opt.topic, NULL);

    unsigned char *value = malloc(opt.size ? opt.size : 1);
    if (!value)
        die("out of memory");
    pthread_barrier_wait(p->start);

    for (uint64_t i = (uint64_t)p->id; i < opt.records; i += (uint64_t)opt.producers) {
        char key[24];
        int keylen = snprintf(key, sizeof key, "%" PRIu64, i);
        int32_t partition =
            opt.by_key ? RD_KAFKA_PARTITION_UA : (int32_t)(i % (uint64_t)opt.partitions);
        fill_value(i, value, opt.size);
        for (;;) {
            enqueue_ns[i] = now_ns();
            if (rd_kafka_produce(rkt, partition, RD_KAFKA_MSG_F_COPY, value, opt.size, key,
                                 (size_t)keylen, (void *)(uintptr_t)i) == 0)
                break;
            rd_kafka_resp_err_t e = rd_kafka_last_error();
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                die("produce: %s", rd_kafka_err2str(e));
            rd_kafka_poll(rk, 1); /* queue full: serve delivery reports, then retry */
        }
        if ((i / (uint64_t)opt.producers) % 1024 == 0)
            rd_kafka_poll(rk, 0);
    }
    /* Wait for every delivery report (success or final failure; message.timeout.ms
     * bounds the wait). This thread's share: records id, id+C, id+2C, ... below N. */
    uint64_t mine = (opt.records - (uint64_t)p->id + (uint64_t)opt.producers - 1) /
                    (uint64_t)opt.producers;
    while (p->delivered + p->failed < mine)
        rd_kafka_poll(rk, 50);
    free(value);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return NULL;
}

struct produce_result {
    double secs, msgs_per_s, mb_per_s;
    double p50_ms, p99_ms, max_ms;
    uint64_t delivered, failed;
    const char *first_error;
};

static struct produce_result run_produce(void)
{
    struct produce_result r = {0};
    enqueue_ns = calloc(opt.records, sizeof *enqueue_ns);
    latency_ns = calloc(opt.records, sizeof *latency_ns);
    struct producer *ps = calloc((size_t)opt.producers, sizeof *ps);
    if (!enqueue_ns || !latency_ns || !ps)
        die("out of memory");
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)opt.producers + 1);
    for (int t = 0; t < opt.producers; t++) {
        ps[t].id = t;
        ps[t].start = &start;
        if (pthread_create(&ps[t].thread, NULL, producer_main, &ps[t]) != 0)
            die("pthread_create failed");
    }
    pthread_barrier_wait(&start);
    uint64_t t0 = now_ns(), t1 = t0;
    for (int t = 0; t < opt.producers; t++) {
        pthread_join(ps[t].thread, NULL);
        r.delivered += ps[t].delivered;
        r.failed += ps[t].failed;
        if (ps[t].failed && !r.first_error)
            r.first_error = rd_kafka_err2name(ps[t].first_error);
        if (ps[t].last_report_ns > t1)
            t1 = ps[t].last_report_ns;
    }
    pthread_barrier_destroy(&start);

    /* Latencies of the delivered records, sorted in place (the array is ours now). */
    size_t n = 0;
    for (uint64_t i = 0; i < opt.records; i++)
        if (latency_ns[i])
            latency_ns[n++] = latency_ns[i];
    qsort(latency_ns, n, sizeof *latency_ns, cmp_u64);
    r.secs = (double)(t1 - t0) / 1e9;
    if (r.secs > 0) {
        r.msgs_per_s = (double)r.delivered / r.secs;
        r.mb_per_s = (double)r.delivered * (double)opt.size / r.secs / 1e6;
    }
    r.p50_ms = (double)percentile(latency_ns, n, 50) / 1e6;
    r.p99_ms = (double)percentile(latency_ns, n, 99) / 1e6;
    r.max_ms = n ? (double)latency_ns[n - 1] / 1e6 : 0;
    free(enqueue_ns);
    free(latency_ns);
    free(ps);
    return r;
}

/* ---- consume ---------------------------------------------------------------- */

struct consume_result {
    double secs, msgs_per_s, mb_per_s, first_ms;
    uint64_t received, unique, missing, duplicate, corrupt;
    uint64_t log_start;   /* records the broker no longer holds (sum of low watermarks) */
    uint64_t log_end;     /* sum of high watermarks */
    uint64_t errors;
    bool timed_out;
};

/* Checks one record; returns its index or UINT64_MAX if it is not one of ours. */
static uint64_t check_record(const rd_kafka_message_t *m, unsigned char *scratch, int partitions)
{
    if (!m->key || m->key_len == 0 || m->key_len > 20)
        return UINT64_MAX;
    uint64_t i = 0;
    const char *k = m->key;
    for (size_t j = 0; j < m->key_len; j++) {
        if (k[j] < '0' || k[j] > '9')
            return UINT64_MAX;
        i = i * 10 + (uint64_t)(k[j] - '0');
    }
    if (i >= opt.records || m->len != opt.size)
        return UINT64_MAX;
    if (!opt.by_key && m->partition != (int32_t)(i % (uint64_t)partitions))
        return UINT64_MAX;
    fill_value(i, scratch, opt.size);
    if (opt.size && memcmp(scratch, m->payload, opt.size) != 0)
        return UINT64_MAX;
    return i;
}

static struct consume_result run_consume(int partitions)
{
    struct consume_result r = {0};
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    conf_set(conf, "bootstrap.servers", opt.brokers);
    conf_set(conf, "enable.partition.eof", "true");
    conf_set(conf, "auto.offset.reset", "earliest");
    conf_set(conf, "enable.auto.commit", "false");
    /* librdkafka stops fetching a partition whose local queue holds more than
     * queued.min.messages (default 100000) and looks again only after a backoff of up
     * to 1 s (librdkafka issue #2879). A broker that answers with full 1 MiB Fetch
     * responses (~8000 records of 100 B per partition) fills that queue within a few
     * round trips while the application is still verifying, and the run then measures
     * the client's timer, not the broker: ~0.8 s stalls in half of the runs here. The
     * queue is bounded by queued.max.messages.kbytes instead (default 64 MiB), for both
     * brokers alike. */
    conf_set(conf, "queued.min.messages", "10000000");
    conf_set(conf, "log_level", "3");
    if (getenv("KLAMM_BENCH_DEBUG")) { /* e.g. consumer,fetch: librdkafka's own tracing */
        conf_set(conf, "debug", getenv("KLAMM_BENCH_DEBUG"));
        conf_set(conf, "log_level", "7");
    }
    /* librdkafka 2.0 refuses assign() without a group.id; with assign() the group is
     * never joined and no offsets are committed, so any name will do. */
    conf_set(conf, "group.id", opt.group ? opt.group : "klamm-bench-assign");
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk)
        die("rd_kafka_new (consumer): %s", err);
    rd_kafka_poll_set_consumer(rk);

    /* What the broker holds: low and high watermark of every partition. assign() starts
     * at the low watermark explicitly: with the logical RD_KAFKA_OFFSET_BEGINNING,
     * librdkafka 2.0 waits on a 500 ms offset-query timer before the first fetch. */
    int64_t *low = calloc((size_t)partitions, sizeof *low);
    if (!low)
        die("out of memory");
    for (int p = 0; p < partitions; p++) {
        int64_t lo = 0, hi = 0;
        rd_kafka_resp_err_t e =
            rd_kafka_query_watermark_offsets(rk, opt.topic, p, &lo, &hi, 10000);
        if (e)
            note("watermarks of %s[%d]: %s", opt.topic, p, rd_kafka_err2str(e));
        low[p] = lo;
        r.log_start += (uint64_t)lo;
        r.log_end += (uint64_t)hi;
    }
    if (r.log_start)
        note("the broker no longer holds the first %" PRIu64 " records (retention); "
             "they will be missing", r.log_start);

    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(partitions);
    rd_kafka_resp_err_t e;
    uint64_t t0 = now_ns();
    if (opt.group) {
        rd_kafka_topic_partition_list_add(list, opt.topic, RD_KAFKA_PARTITION_UA);
        e = rd_kafka_subscribe(rk, list);
    } else {
        for (int p = 0; p < partitions; p++)
            rd_kafka_topic_partition_list_add(list, opt.topic, p)->offset = low[p];
        e = rd_kafka_assign(rk, list);
    }
    rd_kafka_topic_partition_list_destroy(list);
    if (e)
        die("%s: %s", opt.group ? "subscribe" : "assign", rd_kafka_err2str(e));

    unsigned char *seen = calloc(opt.records, 1);
    bool *eof = calloc((size_t)partitions, sizeof *eof);
    unsigned char *scratch = malloc(opt.size ? opt.size : 1);
    if (!seen || !eof || !scratch)
        die("out of memory");
    int eof_count = 0;
    uint64_t first = 0, last = 0, bytes = 0, progress = now_ns();

    while (eof_count < partitions) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        uint64_t t = now_ns();
        if (!m) {
            if (t - progress > (uint64_t)opt.timeout_s * 1000000000u) {
                r.timed_out = true;
                note("consume: no progress for %d s, giving up", opt.timeout_s);
                rd_kafka_topic_partition_list_t *a = NULL;
                if (opt.group && rd_kafka_assignment(rk, &a) == 0 && a && a->cnt == 0)
                    note("consume: no partition was ever assigned: the group join did not "
                         "complete (does the broker implement FindCoordinator, JoinGroup, "
                         "SyncGroup?)");
                if (a)
                    rd_kafka_topic_partition_list_destroy(a);
                break;
            }
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (m->partition >= 0 && m->partition < partitions && !eof[m->partition]) {
                eof[m->partition] = true;
                eof_count++;
            }
        } else if (m->err) {
            if (r.errors++ < 5)
                note("consume error: %s", rd_kafka_message_errstr(m));
        } else {
            progress = t;
            if (!first)
                first = t;
            last = t;
            r.received++;
            bytes += m->len;
            uint64_t i = check_record(m, scratch, partitions);
            if (i == UINT64_MAX)
                r.corrupt++;
            else if (seen[i])
                r.duplicate++;
            else {
                seen[i] = 1;
                r.unique++;
            }
            /* A record arriving after EOF means more data than expected; keep going. */
        }
        rd_kafka_message_destroy(m);
    }
    r.missing = opt.records - r.unique;
    r.first_ms = first ? (double)(first - t0) / 1e6 : 0;
    /* assign(): clock from assign() to the last record. Group: from the first record, so
     * that the join (and the coordinator's rebalance delay) is not counted; c_first_ms
     * shows it. */
    r.secs = first ? (double)(last - (opt.group ? first : t0)) / 1e9 : 0;
    if (r.secs > 0) {
        r.msgs_per_s = (double)r.received / r.secs;
        r.mb_per_s = (double)bytes / r.secs / 1e6;
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    free(seen);
    free(eof);
    free(scratch);
    free(low);
    return r;
}

/* ---- startup timing --------------------------------------------------------- */

static long vm_hwm_kib(pid_t pid)
{
    char path[64], line[256];
    long kib = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

static bool port_accepts(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* exec argv, time until 127.0.0.1:port accepts, then SIGTERM and time the exit. */
static int run_startup(int port, char **argv)
{
    if (port_accepts(port))
        die("port %d already accepts connections before the broker starts", port);
    uint64_t t0 = now_ns();
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        execv(argv[0], argv);
        fprintf(stderr, "klamm_bench: exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    uint64_t ready = 0;
    int status = 0;
    while (!ready) {
        if (port_accepts(port)) {
            ready = now_ns();
            break;
        }
        if (waitpid(pid, &status, WNOHANG) == pid)
            die("broker exited before accepting connections (status %d)", status);
        if (now_ns() - t0 > (uint64_t)opt.timeout_s * 1000000000u) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            die("broker did not accept connections within %d s", opt.timeout_s);
        }
        usleep(1000);
    }
    long hwm = vm_hwm_kib(pid);
    uint64_t t_term = now_ns();
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    uint64_t t_exit = now_ns();
    double startup_ms = (double)(ready - t0) / 1e6, stop_ms = (double)(t_exit - t_term) / 1e6;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (opt.json)
        printf("{\"scenario\":\"%s\",\"mode\":\"startup\",\"startup_ms\":%.3f,\"stop_ms\":%.3f,"
               "\"vm_hwm_kib\":%ld,\"exit_code\":%d}\n",
               opt.scenario, startup_ms, stop_ms, hwm, code);
    else
        printf("startup %.1f ms (exec -> port accepts), VmHWM %ld KiB, SIGTERM -> exit %.1f ms, "
               "exit code %d\n", startup_ms, hwm, stop_ms, code);
    return code == 0 ? 0 : 1;
}

/* ---- main ------------------------------------------------------------------- */

static void usage(void)
{
    fputs("usage: klamm_bench (--brokers HOST:PORT | --mock) [options]\n"
          "       klamm_bench --startup-port PORT [--timeout S] [--json] -- BROKER ARGS...\n"
          "  --records N        records to produce (default 100000)\n"
          "  --size S           value bytes per record (default 100)\n"
          "  --partitions P     partitions of the topic (default 1)\n"
          "  --producers C      producer instances, one thread each (default 1)\n"
          "  --topic NAME       (default klamm-bench)\n"
          "  --group ID         consume as a member of group ID (subscribe), else assign()\n"
          "  --by-key           partition by key (murmur2) instead of round-robin\n"
          "  --no-produce       only consume and verify records an earlier run produced\n"
          "  --no-consume       only produce\n"
          "  --timeout S        give up after S seconds without progress (default 30)\n"
          "  --queue-max M      queue.buffering.max.messages (default 200000)\n"
          "  --linger-ms MS     linger.ms (default 5)\n"
          "  --scenario LABEL   label for the JSON line\n"
          "  --json             print one JSON line with every figure on stdout\n",
          stderr);
    exit(2);
}

static uint64_t parse_u64(const char *s, const char *what)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || end == s)
        die("bad %s: %s", what, s);
    return v;
}

int main(int argc, char **argv)
{
    enum { O_RECORDS = 256, O_SIZE, O_PARTS, O_PRODUCERS, O_TOPIC, O_GROUP, O_BYKEY,
           O_NOPROD, O_NOCONS, O_TIMEOUT, O_QMAX, O_LINGER, O_SCEN, O_JSON, O_STARTUP,
           O_BROKERS, O_MOCK };
    static const struct option longopts[] = {
        {"brokers", required_argument, 0, O_BROKERS}, {"mock", no_argument, 0, O_MOCK},
        {"records", required_argument, 0, O_RECORDS}, {"size", required_argument, 0, O_SIZE},
        {"partitions", required_argument, 0, O_PARTS},
        {"producers", required_argument, 0, O_PRODUCERS},
        {"topic", required_argument, 0, O_TOPIC}, {"group", required_argument, 0, O_GROUP},
        {"by-key", no_argument, 0, O_BYKEY}, {"no-produce", no_argument, 0, O_NOPROD},
        {"no-consume", no_argument, 0, O_NOCONS}, {"timeout", required_argument, 0, O_TIMEOUT},
        {"queue-max", required_argument, 0, O_QMAX},
        {"linger-ms", required_argument, 0, O_LINGER},
        {"scenario", required_argument, 0, O_SCEN}, {"json", no_argument, 0, O_JSON},
        {"startup-port", required_argument, 0, O_STARTUP}, {0, 0, 0, 0}};
    int startup_port = 0, c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_BROKERS: opt.brokers = optarg; break;
        case O_MOCK: opt.mock = true; break;
        case O_RECORDS: opt.records = parse_u64(optarg, "--records"); break;
        case O_SIZE: opt.size = (size_t)parse_u64(optarg, "--size"); break;
        case O_PARTS: opt.partitions = (int)parse_u64(optarg, "--partitions"); break;
        case O_PRODUCERS: opt.producers = (int)parse_u64(optarg, "--producers"); break;
        case O_TOPIC: opt.topic = optarg; break;
        case O_GROUP: opt.group = optarg; break;
        case O_BYKEY: opt.by_key = true; break;
        case O_NOPROD: opt.produce = false; break;
        case O_NOCONS: opt.consume = false; break;
        case O_TIMEOUT: opt.timeout_s = (int)parse_u64(optarg, "--timeout"); break;
        case O_QMAX: opt.queue_max = (int)parse_u64(optarg, "--queue-max"); break;
        case O_LINGER: opt.linger_ms = (int)parse_u64(optarg, "--linger-ms"); break;
        case O_SCEN: opt.scenario = optarg; break;
        case O_JSON: opt.json = true; break;
        case O_STARTUP: startup_port = (int)parse_u64(optarg, "--startup-port"); break;
        default: usage();
        }
    }
    for (const char *s = opt.scenario; *s; s++)
        if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20)
            die("--scenario must not contain quotes, backslashes or control characters");
    if (startup_port) {
        if (optind >= argc)
            usage();
        return run_startup(startup_port, argv + optind);
    }
    if (optind != argc || (!opt.brokers == !opt.mock))
        usage();
    if (opt.records == 0 || opt.partitions < 1 || opt.producers < 1)
        die("--records, --partitions and --producers must be at least 1");

    int partitions;
    if (opt.mock) {
        start_mock();
        partitions = opt.partitions;
    } else {
        partitions = create_topic();
    }
    opt.partitions = partitions;

    struct produce_result pr = {0};
    struct consume_result cr = {0};
    if (opt.produce) {
        pr = run_produce();
        note("produced %" PRIu64 " x %zu B to %d partition(s) with %d producer(s): %.0f msgs/s, "
             "%.1f MB/s, latency p50 %.2f ms p99 %.2f ms max %.2f ms, %" PRIu64 " failed%s%s",
             opt.records, opt.size, partitions, opt.producers, pr.msgs_per_s, pr.mb_per_s,
             pr.p50_ms, pr.p99_ms, pr.max_ms, pr.failed, pr.first_error ? " first error " : "",
             pr.first_error ? pr.first_error : "");
    }
    if (opt.consume) {
        cr = run_consume(partitions);
        note("consumed %" PRIu64 " records (%s): %.0f msgs/s, %.1f MB/s, first after %.1f ms; "
             "missing %" PRIu64 " (of which the broker no longer holds %" PRIu64 "), "
             "duplicate %" PRIu64 ", corrupt %" PRIu64 "%s",
             cr.received, opt.group ? "group" : "assign", cr.msgs_per_s, cr.mb_per_s, cr.first_ms,
             cr.missing, cr.log_start, cr.duplicate, cr.corrupt, cr.timed_out ? ", TIMED OUT" : "");
    }
    /* Verified = every record delivered once, intact; records the broker dropped by its own
     * retention (the mock keeps ~5 MiB per partition) are reported, not counted as lost. */
    bool produce_ok = !opt.produce || (pr.failed == 0 && pr.delivered == opt.records);
    uint64_t lost = cr.missing > cr.log_start ? cr.missing - cr.log_start : 0;
    bool consume_ok = !opt.consume || (lost == 0 && cr.duplicate == 0 && cr.corrupt == 0 &&
                                       cr.errors == 0);
    /* CPU of the whole run, startup to here: the mock's thread, and the client (the rest). */
    long mock_ms = mock_cluster ? threads_cpu_ms("rdk:mock") : -1;
    long proc_ms = process_cpu_ms();
    long client_ms = proc_ms < 0 ? -1 : proc_ms - (mock_ms > 0 ? mock_ms : 0);
    if (opt.json) {
        printf("{\"scenario\":\"%s\",\"broker\":\"%s\",\"records\":%" PRIu64 ",\"size\":%zu,"
               "\"partitions\":%d,\"producers\":%d,\"partitioner\":\"%s\",\"consume_mode\":\"%s\","
               "\"produce\":%s,\"consume\":%s,\"ok\":%s",
               opt.scenario, opt.mock ? "mock" : "klamm", opt.records, opt.size, partitions,
               opt.producers, opt.by_key ? "key" : "round-robin", opt.group ? "group" : "assign",
               opt.produce ? "true" : "false", opt.consume ? "true" : "false",
               produce_ok && consume_ok ? "true" : "false");
        if (opt.produce)
            printf(",\"p_secs\":%.4f,\"p_msgs_per_s\":%.1f,\"p_mb_per_s\":%.3f,\"p_p50_ms\":%.3f,"
                   "\"p_p99_ms\":%.3f,\"p_max_ms\":%.3f,\"p_delivered\":%" PRIu64
                   ",\"p_failed\":%" PRIu64,
                   pr.secs, pr.msgs_per_s, pr.mb_per_s, pr.p50_ms, pr.p99_ms, pr.max_ms,
                   pr.delivered, pr.failed);
        if (opt.consume)
            printf(",\"c_secs\":%.4f,\"c_msgs_per_s\":%.1f,\"c_mb_per_s\":%.3f,\"c_first_ms\":%.3f,"
                   "\"c_received\":%" PRIu64 ",\"c_missing\":%" PRIu64 ",\"c_duplicate\":%" PRIu64
                   ",\"c_corrupt\":%" PRIu64 ",\"c_errors\":%" PRIu64 ",\"c_log_start\":%" PRIu64
                   ",\"c_log_end\":%" PRIu64 ",\"c_timed_out\":%s",
                   cr.secs, cr.msgs_per_s, cr.mb_per_s, cr.first_ms, cr.received, cr.missing,
                   cr.duplicate, cr.corrupt, cr.errors, cr.log_start, cr.log_end,
                   cr.timed_out ? "true" : "false");
        printf(",\"client_cpu_ms\":%ld", client_ms);
        if (mock_cluster)
            printf(",\"broker_cpu_ms\":%ld", mock_ms);
        printf("}\n");
    } else {
        printf("%s\n", produce_ok && consume_ok ? "OK" : "FAILED");
    }
    fflush(stdout);
    if (mock_cluster) {
        rd_kafka_mock_cluster_destroy(mock_cluster);
        rd_kafka_destroy(mock_owner);
    }
    return produce_ok && consume_ok ? 0 : 1;
}
