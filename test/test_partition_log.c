/*
 * test/test_partition_log.c — unit tests of infrastructure/storage/partition_log.c: a
 * missing directory refused, rolling with a small log.segment.bytes, reads at every offset
 * across segments, reopen, recovery of the active segment at every cut and with flipped
 * bytes, index damage of older and active segments, a corrupt batch in an older segment
 * reported on read, empty and partial active segments, leftover indexes, foreign file
 * names, gaps, flush policy, offset by time (and the time index: sealed at a roll, trusted
 * after a restart, earlier segments not read), rolling by time (segment.ms: batch
 * timestamps, else the clock; reopen), and a SIGKILLed child's log after rolls: the rolled
 * segments' index files trusted, the active's rebuilt; deleting the whole partition
 * (DeleteTopics), which a duplicated descriptor survives.
 * Every test works in its own mkdtemp directory under /tmp.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "domain/crc32c.h"
#include "domain/record_batch.h"
#include "infrastructure/storage/partition_log.h"

#define NBATCH 40

typedef struct fixture {
    char dir[64];
    uint8_t bytes[NBATCH][512];
    size_t sizes[NBATCH];
    int64_t bases[NBATCH];
    int counts[NBATCH];
    kl_plog_config_t cfg;
} fixture_t;

/* ---- a valid v2 batch: header + `count` uncompressed records, CRC-32C over [21, end) ---- */

static size_t put_varint(uint8_t *p, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 0;
    while (z >= 0x80) {
        p[n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    p[n++] = (uint8_t)z;
    return n;
}

static size_t make_batch(uint8_t *buf, int64_t base_offset, int count, int64_t ts, size_t value_len)
{
    size_t pos = KL_BATCH_HEADER_SIZE;
    for (int i = 0; i < count; i++) {
        uint8_t body[256];
        size_t b = 0;
        body[b++] = 0;
        b += put_varint(body + b, i);
        b += put_varint(body + b, i);
        b += put_varint(body + b, -1);
        b += put_varint(body + b, (int64_t)value_len);
        memset(body + b, 'a' + (int)((base_offset + i) % 26), value_len);
        b += value_len;
        b += put_varint(body + b, 0);
        pos += put_varint(buf + pos, (int64_t)b);
        memcpy(buf + pos, body, b);
        pos += b;
    }
    memset(buf, 0, KL_BATCH_HEADER_SIZE);
    kl_be64_write(buf, base_offset);
    kl_be32_write(buf + 8, (int32_t)(pos - KL_BATCH_LOG_OVERHEAD));
    buf[16] = KL_BATCH_MAGIC_V2;
    kl_be32_write(buf + 23, count - 1);
    kl_be64_write(buf + 27, ts);
    kl_be64_write(buf + 35, ts + count - 1);
    kl_be64_write(buf + 43, -1);
    buf[51] = 0xff, buf[52] = 0xff;
    kl_be32_write(buf + 53, -1);
    kl_be32_write(buf + 57, count);
    kl_be32_write(buf + 17, (int32_t)kl_crc32c(0, buf + KL_BATCH_CRC_START, pos - KL_BATCH_CRC_START));
    return pos;
}

typedef struct test_buf {
    uint8_t *data;
    size_t len;
} test_buf_t;

static uint8_t *test_buf_reserve(void *arg, size_t n)
{
    test_buf_t *b = arg;
    uint8_t *p = realloc(b->data, b->len + n);
    if (p == NULL)
        return NULL;
    b->data = p;
    b->len += n;
    return p + b->len - n;
}

/* The sink's give-back: the last n reserved bytes were not used. */
static void test_buf_unreserve(void *arg, size_t n)
{
    test_buf_t *b = arg;
    assert_true(n <= b->len);
    b->len -= n;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/klamm_test_plog_XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    int64_t off = 0;
    for (int i = 0; i < NBATCH; i++) {
        f->counts[i] = 1 + i % 4;
        f->bases[i] = off;
        f->sizes[i] = make_batch(f->bytes[i], off, f->counts[i], 1000 + off * 10, 5 + (size_t)(i % 7) * 9);
        off += f->counts[i];
    }
    f->cfg = (kl_plog_config_t){ .segment_bytes = 400, .index_interval_bytes = 100,
                                 .flush_interval_messages = -1, .flush_interval_ms = -1, .log = NULL };
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static int64_t total_records(const fixture_t *f)
{
    return f->bases[NBATCH - 1] + f->counts[NBATCH - 1];
}

static int batch_of(const fixture_t *f, int64_t offset)
{
    for (int i = 0; i < NBATCH; i++)
        if (offset < f->bases[i] + f->counts[i])
            return i;
    return -1;
}

static kl_partition_log_t *open_log(fixture_t *f)
{
    kl_partition_log_t *pl = NULL;
    assert_int_equal(plog_open(&pl, f->dir, &f->cfg), KL_OK);
    assert_non_null(pl);
    return pl;
}

static kl_partition_log_t *fill(fixture_t *f, int upto)
{
    kl_partition_log_t *pl = open_log(f);
    for (int i = 0; i < upto; i++)
        assert_int_equal(plog_append(pl, f->bytes[i], f->sizes[i]), KL_OK);
    return pl;
}

/* Read at every offset: the result starts with the batch containing it and holds whole
 * batches of the recipe, in order. */
static void check_reads(fixture_t *f, kl_partition_log_t *pl, int upto)
{
    int64_t end = f->bases[upto - 1] + f->counts[upto - 1];
    for (int64_t o = 0; o < end; o++) {
        test_buf_t b = { 0 };
        kl_buf_sink_t sink = { &b, test_buf_reserve, test_buf_unreserve, NULL };
        size_t n = 0;
        assert_int_equal(plog_read(pl, o, 1 << 20, &sink, &n), KL_OK);
        assert_true(n > 0);
        size_t at = 0;
        for (int i = batch_of(f, o); at < n; i++) {
            assert_true(i < upto);
            assert_true(at + f->sizes[i] <= n);
            assert_memory_equal(b.data + at, f->bytes[i], f->sizes[i]);
            at += f->sizes[i];
        }
        free(b.data);
    }
}

static void flip_byte(const char *path, int64_t pos)
{
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, (long)pos, SEEK_SET), 0);
    int c = fgetc(fp);
    assert_true(c != EOF);
    assert_int_equal(fseek(fp, (long)pos, SEEK_SET), 0);
    fputc(c ^ 0x5a, fp);
    fclose(fp);
}

static int64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

/* The bytes of a file (at most cap), for comparing an index before and after. */
static size_t slurp(const char *path, uint8_t *buf, size_t cap)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    size_t n = fread(buf, 1, cap, fp);
    fclose(fp);
    return n;
}

static void test_empty_directory_starts_at_zero(void **state)
{
    fixture_t *f = *state;
    kl_partition_log_t *pl = open_log(f);
    assert_int_equal(plog_log_start(pl), 0);
    assert_int_equal(plog_log_end(pl), 0);
    assert_int_equal(pl->segment_count, 1);
    test_buf_t b = { 0 };
    kl_buf_sink_t sink = { &b, test_buf_reserve, test_buf_unreserve, NULL };
    size_t n = 99;
    assert_int_equal(plog_read(pl, 0, 100, &sink, &n), KL_OK);
    assert_int_equal(n, 0);
    assert_int_equal(plog_read(pl, 1, 100, &sink, &n), KL_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(plog_read(pl, -1, 100, &sink, &n), KL_ERR_OFFSET_OUT_OF_RANGE);
    plog_close(pl);
    char path[256];
    snprintf(path, sizeof path, "%s/00000000000000000000.log", f->dir);
    assert_int_equal(access(path, F_OK), 0);
}

/* No directory to open (log_dir makes it before): STORAGE_ERROR, and nothing created —
 * a vanished directory must not pass for an empty partition. */
static void test_open_of_a_missing_directory_fails(void **state)
{
    fixture_t *f = *state;
    char missing[128];
    snprintf(missing, sizeof missing, "%s/missing", f->dir);
    kl_partition_log_t *pl = NULL;
    assert_int_equal(plog_open(&pl, missing, &f->cfg), KL_ERR_KAFKA_STORAGE_ERROR);
    assert_null(pl);
    assert_int_equal(access(missing, F_OK), -1);
}

static void test_rolls_at_segment_bytes(void **state)
{
    fixture_t *f = *state;
    kl_partition_log_t *pl = fill(f, NBATCH);
    assert_int_equal(plog_log_end(pl), total_records(f));
    assert_true(pl->segment_count > 4);
    for (size_t s = 0; s < pl->segment_count; s++) {
        kl_segment_t *seg = pl->segments[s];
        assert_true(seg->size <= f->cfg.segment_bytes);
        assert_true(seg->size > 0);
        if (s + 1 < pl->segment_count) {
            assert_int_equal(seg->next_offset, pl->segments[s + 1]->base_offset);
            /* it was rolled because the next batch did not fit */
            int next = batch_of(f, seg->next_offset);
            assert_true(seg->size + (int64_t)f->sizes[next] > f->cfg.segment_bytes);
        }
        char path[256];
        snprintf(path, sizeof path, "%s/%020lld.log", f->dir, (long long)seg->base_offset);
        assert_int_equal(access(path, F_OK), 0);
        snprintf(path, sizeof path, "%s/%020lld.index", f->dir, (long long)seg->base_offset);
        assert_int_equal(access(path, F_OK), 0);
    }
    check_reads(f, pl, NBATCH);
    plog_close(pl);
}

static int64_t allocated_bytes(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (int64_t)st.st_blocks * 512;
}

/* log.preallocate: the active segment holds blocks past its end (step = segment.bytes
 * when that is below PLOG_PREALLOCATE_STEP) while its size is what was written; after a
 * roll the sealed segment holds only the blocks of its size. The second open uses a
 * smaller segment.bytes, so the roll also trims a reservation made by an earlier run. */
static void test_preallocate_active_and_trim_at_roll(void **state)
{
    fixture_t *f = *state;
    f->cfg.preallocate = true;
    f->cfg.segment_bytes = 1 << 20;
    kl_partition_log_t *pl = fill(f, 10);
    assert_int_equal(pl->segment_count, 1);
    kl_segment_t *seg = pl->segments[0];
    if (seg->reserve_step == 0)           /* the file system refused fallocate */
        skip();
    char path[256];
    snprintf(path, sizeof path, "%s/%020lld.log", f->dir, 0LL);
    assert_int_equal(file_size(path), seg->size);
    assert_true(allocated_bytes(path) >= (1 << 20));
    plog_close(pl);
    f->cfg.segment_bytes = 400;
    pl = open_log(f);
    assert_true(allocated_bytes(path) >= (1 << 20));     /* kept across a restart */
    for (int i = 10; i < NBATCH; i++)
        assert_int_equal(plog_append(pl, f->bytes[i], f->sizes[i]), KL_OK);
    assert_true(pl->segment_count > 1);
    for (size_t s = 0; s + 1 < pl->segment_count; s++) {
        snprintf(path, sizeof path, "%s/%020lld.log", f->dir, (long long)pl->segments[s]->base_offset);
        assert_int_equal(file_size(path), pl->segments[s]->size);
        assert_int_equal(allocated_bytes(path), (pl->segments[s]->size + 4095) / 4096 * 4096);
    }
    check_reads(f, pl, NBATCH);
    plog_close(pl);
}

static void test_read_stays_whole_and_respects_max_bytes(void **state)
{
    fixture_t *f = *state;
    kl_partition_log_t *pl = fill(f, NBATCH);
    test_buf_t b = { 0 };
    kl_buf_sink_t sink = { &b, test_buf_reserve, test_buf_unreserve, NULL };
    size_t n = 0;
    for (int i = 0; i < NBATCH; i++) {       /* max_bytes 1: exactly the batch (KIP-74) */
        b.len = 0;
        assert_int_equal(plog_read(pl, f->bases[i] + f->counts[i] - 1, 1, &sink, &n), KL_OK);
        assert_int_equal(n, f->sizes[i]);
        assert_memory_equal(b.data, f->bytes[i], n);
    }
    b.len = 0;
    assert_int_equal(plog_read(pl, total_records(f), 1000, &sink, &n), KL_OK);
    assert_int_equal(n, 0);
    assert_int_equal(plog_read(pl, total_records(f) + 1, 1000, &sink, &n), KL_ERR_OFFSET_OUT_OF_RANGE);
    free(b.data);
    plog_close(pl);
}

static void test_reopen_keeps_offsets_and_data(void **state)
{
    fixture_t *f = *state;
    kl_partition_log_t *pl = fill(f, NBATCH / 2);
    size_t segs = pl->segment_count;
    int64_t end = plog_log_end(pl);
    plog_close(pl);
    pl = open_log(f);
    assert_int_equal(pl->segment_count, segs);
    assert_int_equal(plog_log_start(pl), 0);
    assert_int_equal(plog_log_end(pl), end);
    for (int i = NBATCH / 2; i < NBATCH; i++)
        assert_int_equal(plog_append(pl, f->bytes[i], f->sizes[i]), KL_OK);
    plog_close(pl);
    pl = open_log(f);
    assert_int_equal(plog_log_end(pl), total_records(f));
    check_reads(f, pl, NBATCH);
    plog_close(pl);
}

static void test_recovery_cuts_torn_active_tail_at_every_byte(void **state)
{
    fixture_t *f = *state;
    kl_partition_log_t *pl = fill(f, NBATCH);
    kl_segment_t *act = pl->segments[pl->segment_count - 1];
    char path[256];
    snprintf(path, sizeof path, "%s", act->log_path);
    int64_t full = act->size;
    size_t segs = pl->segment_count;
    int last = NBATCH - 1;
    int64_t last_pos = full - (int64_t)f->sizes[last];
    plog_close(pl);
    for (int64_t cut = last_pos; cut < full; cut++) {
        assert_int_equal(truncate(path, cut), 0);
        pl = open_log(f);
        assert_int_equal(pl->segment_count, segs);
        assert_int_equal(plog_log_end(pl), f->bases[last]);
        assert_int_equal(pl->segments[segs - 1]->size, last_pos);
        /* the next append continues at the right offset (restores the file for the next cut) */
        assert_int_equal(plog_append(pl, f->bytes[last], f->sizes[last]), KL_OK);
        assert_int_equal(plog_log_end(pl), total_records(f));
        plog_close(pl);
    }
    pl = open_log(f);
    check_reads(f, pl, NBATCH);
    plog_close(pl);
}

static void test_foreign_names_are_ignored(void **state)
{
    fixture_t *f = *state;
    kl_partition_log_t *pl = fill(f, NBATCH);
    size_t segs = pl->segment_count;
    plog_close(pl);
    const char *junk[] = { "foo.log", "123.log", "0000000000000000abcd.log", "00000000000000000000.log.swp",
                           "00000000000000009999.index", "00000000000000000001.txt", ".hidden" };
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", f->dir, junk[i]);
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        fputs("junk", fp);
        fclose(fp);
    }
    char sub[256];
    snprintf(sub, sizeof sub, "%s/00000000000000000500.logdir", f->dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    pl = open_log(f);
    assert_int_equal(pl->segment_count, segs);
    assert_int_equal(plog_log_end(pl), total_records(f));
    check_reads(f, pl, NBATCH);
    plog_close(pl);
}

static void test_big_batch_gets_its_own_segment(void **state)
{
    fixture_t *f = *state;
    f->cfg.segment_bytes = 100;     /* smaller than most batches */
    kl_partition_log_t *pl = fill(f, 6);
    assert_int_equal(pl->segment_count, 6);
    for (size_t s = 0; s < 6; s++)
        assert_int_equal(pl->segments[s]->size, (int64_t)f->sizes[s]);
    check_reads(f, pl, 6);
    plog_close(pl);
}

static void test_log_start_is_first_base_and_gaps_continue(void **state)
{
    fixture_t *f = *state;
    /* Hand-made: segment 100 with one batch (100..101), an empty segment at 102, and a
     * segment at 110 (offsets 102..109 missing, as after compaction). */
    kl_segment_t *s = NULL;
    uint8_t buf[512];
    assert_int_equal(segment_create(&s, f->dir, 100, 4096, NULL), KL_OK);
    assert_int_equal(segment_append(s, buf, make_batch(buf, 100, 2, 5, 10)), KL_OK);
    segment_close(s);
    assert_int_equal(segment_create(&s, f->dir, 102, 4096, NULL), KL_OK);
    segment_close(s);
    assert_int_equal(segment_create(&s, f->dir, 110, 4096, NULL), KL_OK);
    size_t n110 = make_batch(buf, 110, 3, 50, 10);
    assert_int_equal(segment_append(s, buf, n110), KL_OK);
    segment_close(s);

    kl_partition_log_t *pl = open_log(f);
    assert_int_equal(plog_log_start(pl), 100);
    assert_int_equal(plog_log_end(pl), 113);
    test_buf_t b = { 0 };
    kl_buf_sink_t sink = { &b, test_buf_reserve, test_buf_unreserve, NULL };
    size_t n = 0;
    assert_int_equal(plog_read(pl, 99, 1000, &sink, &n), KL_ERR_OFFSET_OUT_OF_RANGE);
    for (int64_t o = 102; o < 113; o++) {       /* the end of segment 100, the empty one, the gap */
        b.len = 0;
        assert_int_equal(plog_read(pl, o, 1000, &sink, &n), KL_OK);
        assert_int_equal(n, n110);
        assert_int_equal(kl_be64_read(b.data), 110);
    }
    free(b.data);
    plog_close(pl);
}

static void test_flush_interval_messages(void **state)
{
    fixture_t *f = *state;
    f->cfg.flush_interval_messages = 5;
    kl_partition_log_t *pl = fill(f, 2);          /* 1 + 2 records */
    assert_int_equal(pl->unflushed_messages, 3);
    assert_int_equal(plog_append(pl, f->bytes[2], f->sizes[2]), KL_OK);   /* +3: 6 >= 5 */
    assert_int_equal(pl->unflushed_messages, 0);
    plog_close(pl);
}

static void test_flush_interval_ms(void **state)
{
    fixture_t *f = *state;
    f->cfg.flush_interval_ms = 100;
    f->cfg.segment_bytes = 1 << 20;
    kl_partition_log_t *pl = open_log(f);
    assert_int_equal(plog_tick(pl, 1000), KL_OK);          /* starts the clock */
    assert_int_equal(plog_append(pl, f->bytes[0], f->sizes[0]), KL_OK);
    assert_int_equal(plog_tick(pl, 1050), KL_OK);
    assert_int_equal(pl->unflushed_messages, 1);
    assert_int_equal(plog_tick(pl, 1100), KL_OK);
    assert_int_equal(pl->unflushed_messages, 0);
    assert_int_equal(pl->last_flush_ms, 1100);
    plog_close(pl);

    f->cfg.flush_interval_ms = -1;                          /* never */
    pl = open_log(f);
    assert_int_equal(plog_append(pl, f->bytes[1], f->sizes[1]), KL_OK);
    assert_int_equal(plog_tick(pl, 0), KL_OK);
    assert_int_equal(plog_tick(pl, 1000000), KL_OK);
    assert_int_equal(pl->unflushed_messages, 2);
    plog_close(pl);
}

/* ---- segment.ms (Kafka's LogSegment.shouldRoll / timeWaitedForRoll) ---- */

/* A test clock: the time partition_log asks for when a segment has no timestamps. */
static int64_t fake_now_ms(void *self)
{
    return *(const int64_t *)self;
}

/* Append a one-record batch at the log end whose max_timestamp is `ts`. */
static void append_at(kl_partition_log_t *pl, int64_t ts)
{
    uint8_t buf[512];
    size_t n = make_batch(buf, plog_log_end(pl), 1, ts, 10);
    assert_int_equal(plog_append(pl, buf, n), KL_OK);
}

/* With timestamps, the wait is the new batch's max timestamp minus the first batch's of
 * the active segment; a roll needs it to be MORE than segment.ms. */
static void test_segment_ms_rolls_by_batch_timestamps(void **state)
{
    fixture_t *f = *state;
    f->cfg.segment_bytes = 1 << 20;
    f->cfg.segment_ms = 100;
    kl_partition_log_t *pl = open_log(f);
    append_at(pl, 1000);
    append_at(pl, 1100);                        /* waited 100: not more than segment.ms */
    assert_int_equal(pl->segment_count, 1);
    append_at(pl, 1101);                        /* 101 > 100: a new segment at offset 2 */
    assert_int_equal(pl->segment_count, 2);
    assert_int_equal(pl->segments[1]->base_offset, 2);
    assert_int_equal(pl->segments[1]->first_batch_timestamp, 1101);
    append_at(pl, 900);                         /* an older timestamp never rolls */
    append_at(pl, 1201);
    assert_int_equal(pl->segment_count, 2);
    plog_close(pl);

    pl = open_log(f);                           /* the recovery scan finds 1101 again */
    assert_int_equal(pl->segments[1]->first_batch_timestamp, 1101);
    append_at(pl, 1202);
    assert_int_equal(pl->segment_count, 3);
    assert_int_equal(pl->segments[2]->base_offset, 5);
    plog_close(pl);
}

/* Without a timestamp in the first batch, the wall clock against the segment's creation
 * (or, after a restart, its opening) time. */
static void test_segment_ms_without_timestamps_uses_the_clock(void **state)
{
    fixture_t *f = *state;
    int64_t now = 5000;
    f->cfg.segment_bytes = 1 << 20;
    f->cfg.segment_ms = 100;
    f->cfg.clock = (kl_clock_t){ &now, fake_now_ms };
    kl_partition_log_t *pl = open_log(f);       /* created at 5000 */
    append_at(pl, -1);
    now = 5100;
    append_at(pl, -1);
    assert_int_equal(pl->segment_count, 1);
    now = 5101;
    append_at(pl, 7000);                        /* the first batch has none: the clock */
    assert_int_equal(pl->segment_count, 2);     /* this segment was created at 5101 */
    plog_close(pl);

    f->cfg.segment_ms = 10;
    pl = open_log(f);
    assert_int_equal(pl->segment_count, 2);
    plog_close(pl);
    now = 6000;
    pl = open_log(f);                           /* first batch 7000: the clock is not used */
    append_at(pl, 7010);
    assert_int_equal(pl->segment_count, 2);
    append_at(pl, 7011);
    assert_int_equal(pl->segment_count, 3);
    append_at(pl, -1);                          /* -1 - 7011 < 0: waited nothing */
    assert_int_equal(pl->segment_count, 3);
    plog_close(pl);
}

/* An empty active segment never rolls by time, and segment_ms <= 0 means never. */
static void test_segment_ms_needs_records_and_a_limit(void **state)
{
    fixture_t *f = *state;
    int64_t now = 0;
    f->cfg.segment_bytes = 1 << 20;
    f->cfg.segment_ms = 1;
    f->cfg.clock = (kl_clock_t){ &now, fake_now_ms };
    kl_partition_log_t *pl = open_log(f);
    now = 1000000;
    append_at(pl, -1);                          /* empty before it: no roll */
    assert_int_equal(pl->segment_count, 1);
    plog_close(pl);

    f->cfg.segment_ms = 0;
    pl = open_log(f);
    now = 1LL << 40;
    append_at(pl, 1LL << 40);
    append_at(pl, -1);
    assert_int_equal(pl->segment_count, 1);
    plog_close(pl);
}

static void test_offset_for_timestamp_across_segments(void **state)
{
    fixture_t *f = *state;
    kl_partition_log_t *pl = fill(f, NBATCH);
    int64_t off = 0, ts = 0;
    for (int i = 0; i < NBATCH; i++) {
        int64_t t = 1000 + f->bases[i] * 10;              /* batch i's base timestamp */
        assert_int_equal(plog_offset_for_timestamp(pl, t, &off, &ts), KL_OK);
        assert_int_equal(off, f->bases[i]);
        assert_int_equal(ts, t + f->counts[i] - 1);
    }
    assert_int_equal(plog_offset_for_timestamp(pl, 1LL << 50, &off, &ts), KL_OK);
    assert_int_equal(off, -1);
    assert_int_equal(ts, -1);
    plog_close(pl);
}

/* The time index across rolls and a restart: every rolled segment was sealed (its last
 * .timeindex entry is its largest timestamp), so reopened from disk it is trusted as is,
 * and a search reads no batch header of the segments before the one it answers from. */
static void test_offset_for_timestamp_after_restart_skips_segments(void **state)
{
    fixture_t *f = *state;
    f->cfg.segment_bytes = 300;
    plog_close(fill(f, NBATCH));
    kl_partition_log_t *pl = open_log(f);
    assert_true(pl->segment_count >= 3);
    kl_segment_stats_t stats[NBATCH] = { { 0 } };
    for (size_t s = 0; s < pl->segment_count; s++) {
        kl_segment_t *seg = pl->segments[s];
        seg->stats = &stats[s];
        int last = batch_of(f, seg->next_offset - 1);
        int64_t max = 1000 + f->bases[last] * 10 + f->counts[last] - 1;
        assert_int_equal(seg->max_timestamp, max);
        if (s + 1 < pl->segment_count)
            assert_int_equal(time_index_last_timestamp(seg->time_index), max);
    }
    for (int i = 0; i < NBATCH; i++) {
        int64_t off = 0, ts = 0, t = 1000 + f->bases[i] * 10;
        memset(stats, 0, sizeof stats);
        assert_int_equal(plog_offset_for_timestamp(pl, t, &off, &ts), KL_OK);
        assert_int_equal(off, f->bases[i]);
        assert_int_equal(ts, t + f->counts[i] - 1);
        for (size_t s = 0; pl->segments[s]->next_offset <= f->bases[i]; s++)
            assert_int_equal(stats[s].header_reads, 0);
    }
    for (size_t s = 0; s < pl->segment_count; s++)
        pl->segments[s]->stats = NULL;
    plog_close(pl);
}

static void test_append_error_appends_nothing(void **state)
{
    fixture_t *f = *state;
    kl_partition_log_t *pl = fill(f, 3);
    int64_t end = plog_log_end(pl);
    assert_int_not_equal(plog_append(pl, f->bytes[5], f->sizes[5]), KL_OK);   /* wrong offset */
    assert_int_equal(plog_append(pl, f->bytes[3], 20), KL_ERR_CORRUPT_MESSAGE);
    assert_int_equal(plog_log_end(pl), end);
    assert_int_equal(plog_append(pl, f->bytes[3], f->sizes[3]), KL_OK);
    check_reads(f, pl, 4);
    plog_close(pl);
}

/* Rule 2 through the partition: a byte of the last batch flipped in every header field
 * and in the records: the batch is cut, the log ends before it, everything earlier reads. */
static void test_recovery_cuts_flipped_last_batch(void **state)
{
    fixture_t *f = *state;
    kl_partition_log_t *pl = fill(f, NBATCH);
    kl_segment_t *act = pl->segments[pl->segment_count - 1];
    char path[256];
    snprintf(path, sizeof path, "%s", act->log_path);
    int last = NBATCH - 1;
    int64_t last_pos = act->size - (int64_t)f->sizes[last];
    plog_close(pl);
    int64_t at[] = { 0, 7, 8, 11, 16, 17, 20, 21, 23, 26, 27, 35, 43, 51, 53, 57, 60, 61,
                     (int64_t)f->sizes[last] - 1 };
    for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
        flip_byte(path, last_pos + at[k]);
        pl = open_log(f);
        assert_int_equal(plog_log_end(pl), f->bases[last]);
        assert_int_equal(file_size(path), last_pos);
        check_reads(f, pl, last);
        assert_int_equal(plog_append(pl, f->bytes[last], f->sizes[last]), KL_OK);   /* restores */
        plog_close(pl);
    }
    pl = open_log(f);
    check_reads(f, pl, NBATCH);
    plog_close(pl);
}

/* The log of the recipe: filled on the first call, reopened on the next ones. */
static kl_partition_log_t *open_filled(fixture_t *f)
{
    kl_partition_log_t *pl = open_log(f);
    for (int i = 0; i < NBATCH && plog_log_end(pl) == f->bases[i]; i++)
        assert_int_equal(plog_append(pl, f->bytes[i], f->sizes[i]), KL_OK);
    assert_int_equal(plog_log_end(pl), total_records(f));
    return pl;
}

/* Rules 4 and 5: damage the .index of an older segment (segment 1) or of the active one;
 * reopening rebuilds it to the same bytes and every offset reads right. */
static void check_index_damage(fixture_t *f, bool active, void (*damage)(const char *path))
{
    kl_partition_log_t *pl = open_filled(f);
    assert_true(pl->segment_count > 2);
    size_t which = active ? pl->segment_count - 1 : 1;
    char ipath[256];
    snprintf(ipath, sizeof ipath, "%s", pl->segments[which]->index_path);
    uint8_t before[4096], after[4096];
    plog_close(pl);                  /* the active segment's entries are written by the close */
    size_t n = slurp(ipath, before, sizeof before);
    assert_true(n >= 8);
    damage(ipath);
    pl = open_log(f);
    assert_int_equal(plog_log_end(pl), total_records(f));
    assert_int_equal(slurp(ipath, after, sizeof after), n);
    assert_memory_equal(after, before, n);
    check_reads(f, pl, NBATCH);
    plog_close(pl);
}

static void damage_delete(const char *p) { assert_int_equal(unlink(p), 0); }
static void damage_odd_size(const char *p) { assert_int_equal(truncate(p, file_size(p) - 3), 0); }
static void damage_garbage(const char *p)
{
    FILE *fp = fopen(p, "wb");
    assert_non_null(fp);
    for (int i = 0; i < 40; i++)
        fputc((i * 37 + 11) & 0xff, fp);
    fclose(fp);
}
static void damage_past_end(const char *p)
{
    FILE *fp = fopen(p, "r+b");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, -4, SEEK_END), 0);     /* the last entry's position */
    fputc(0x00, fp), fputc(0x10, fp), fputc(0x00, fp), fputc(0x00, fp);
    fclose(fp);
}

static void test_older_index_damage_is_rebuilt(void **state)
{
    void (*damages[])(const char *) = { damage_delete, damage_odd_size, damage_garbage, damage_past_end };
    for (size_t k = 0; k < sizeof damages / sizeof damages[0]; k++)
        check_index_damage(*state, false, damages[k]);
}

static void test_active_index_damage_is_rebuilt(void **state)
{
    void (*damages[])(const char *) = { damage_delete, damage_odd_size, damage_garbage, damage_past_end };
    for (size_t k = 0; k < sizeof damages / sizeof damages[0]; k++)
        check_index_damage(*state, true, damages[k]);
}

/* Rule 7 through the partition: a corrupt batch inside an older segment (not scanned at
 * open) is reported on read, the batches before it are served, later segments read fine. */
static void test_corrupt_batch_in_older_segment_is_reported(void **state)
{
    fixture_t *f = *state;
    kl_partition_log_t *pl = fill(f, NBATCH);
    kl_segment_t *old = pl->segments[1];
    int first = batch_of(f, old->base_offset);
    int bad = first + 1;
    assert_true(f->bases[bad] < old->next_offset);      /* batch `bad` is inside segment 1 */
    char path[256];
    snprintf(path, sizeof path, "%s", old->log_path);
    int64_t bad_pos = (int64_t)f->sizes[first];
    int64_t seg_end = old->next_offset;
    plog_close(pl);
    flip_byte(path, bad_pos + KL_BATCH_HEADER_SIZE + 2);  /* a record byte: only the CRC sees it */
    pl = open_log(f);
    assert_int_equal(plog_log_end(pl), total_records(f));
    test_buf_t b = { 0 };
    kl_buf_sink_t sink = { &b, test_buf_reserve, test_buf_unreserve, NULL };
    size_t n = 0;
    assert_int_equal(plog_read(pl, f->bases[first], 1 << 20, &sink, &n), KL_OK);
    assert_int_equal(n, f->sizes[first]);               /* served up to the bad batch */
    assert_int_equal(b.len, n);
    assert_memory_equal(b.data, f->bytes[first], n);
    b.len = 0;
    assert_int_equal(plog_read(pl, f->bases[bad], 1 << 20, &sink, &n), KL_ERR_CORRUPT_MESSAGE);
    assert_int_equal(n, 0);
    assert_int_equal(b.len, 0);
    free(b.data);
    assert_int_equal(file_size(path), pl->segments[1]->size);   /* not repaired */
    /* the other segments are untouched: every offset outside segment 1 reads right */
    int64_t end = total_records(f);
    for (int64_t o = 0; o < end; o++) {
        if (o >= f->bases[first] && o < seg_end)
            continue;
        test_buf_t r = { 0 };
        kl_buf_sink_t rs = { &r, test_buf_reserve, test_buf_unreserve, NULL };
        assert_int_equal(plog_read(pl, o, 1, &rs, &n), KL_OK);
        int i = batch_of(f, o);
        assert_int_equal(n, f->sizes[i]);
        assert_memory_equal(r.data, f->bytes[i], n);
        free(r.data);
    }
    plog_close(pl);
}

/* Rule 3 through the partition: the active segment emptied (or left with a partial
 * header) by a crash right after a roll; the log ends at its base. */
static void check_active_cut_to(fixture_t *f, int64_t keep)
{
    kl_partition_log_t *pl = open_filled(f);
    size_t segs = pl->segment_count;
    kl_segment_t *act = pl->segments[segs - 1];
    int64_t base = act->base_offset;
    char path[256];
    snprintf(path, sizeof path, "%s", act->log_path);
    plog_close(pl);
    assert_int_equal(truncate(path, keep), 0);
    pl = open_log(f);
    assert_int_equal(pl->segment_count, segs);
    assert_int_equal(plog_log_end(pl), base);
    assert_int_equal(file_size(path), 0);
    int first = batch_of(f, base);
    check_reads(f, pl, first);
    for (int i = first; i < NBATCH; i++)
        assert_int_equal(plog_append(pl, f->bytes[i], f->sizes[i]), KL_OK);
    check_reads(f, pl, NBATCH);
    plog_close(pl);
}

static void test_recovery_of_empty_and_partial_active_segment(void **state)
{
    fixture_t *f = *state;
    check_active_cut_to(f, 0);
    check_active_cut_to(f, 30);
}

static void test_leftover_index_without_log(void **state)
{
    fixture_t *f = *state;
    char ipath[256];
    snprintf(ipath, sizeof ipath, "%s/00000000000000000000.index", f->dir);
    damage_garbage(ipath);                               /* an .index and no .log at all */
    snprintf(ipath, sizeof ipath, "%s/00000000000000099999.index", f->dir);
    damage_garbage(ipath);                               /* and one far ahead of the log */
    kl_partition_log_t *pl = open_log(f);
    assert_int_equal(plog_log_end(pl), 0);
    assert_int_equal(pl->segment_count, 1);
    for (int i = 0; i < NBATCH; i++)
        assert_int_equal(plog_append(pl, f->bytes[i], f->sizes[i]), KL_OK);
    plog_close(pl);
    pl = open_log(f);
    assert_int_equal(plog_log_end(pl), total_records(f));
    check_reads(f, pl, NBATCH);
    plog_close(pl);
}

/* ---- a crash after rolls: sealed index files are trusted (rule 5), the active's rebuilt ---- */

/* The segment base offsets in the directory, in order (names sort as offsets). */
static size_t list_bases(const fixture_t *f, int64_t *bases, size_t cap)
{
    struct dirent **names = NULL;
    int n = scandir(f->dir, &names, NULL, alphasort);
    assert_true(n >= 0);
    size_t count = 0;
    for (int i = 0; i < n; i++) {
        int64_t base = 0;
        if (count < cap && segment_parse_name(names[i]->d_name, &base))
            bases[count++] = base;
        free(names[i]);
    }
    free(names);
    return count;
}

static void index_paths(const fixture_t *f, int64_t base, char *ipath, char *tpath, size_t cap)
{
    assert_true(segment_path(ipath, cap, f->dir, base, ".index"));
    assert_true(segment_path(tpath, cap, f->dir, base, ".timeindex"));
}

/* A child process fills the log (several rolls) and dies by SIGKILL, closing nothing.
 * Every rolled segment's .index and .timeindex were written and fsynced by its roll; the
 * active segment's were never written (appends write the .log only). The restart trusts
 * the rolled ones as they are (no rebuild, no log line), scans the active one, finds every
 * offset and timestamp without reading the headers of earlier segments, and what it
 * trusted is byte for byte what a rebuild from the .log files gives. */
static void test_crash_after_rolls_trusts_the_sealed_indexes(void **state)
{
    fixture_t *f = *state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        kl_partition_log_t *pl = NULL;
        if (plog_open(&pl, f->dir, &f->cfg) != KL_OK)
            _exit(1);
        for (int i = 0; i < NBATCH; i++)
            if (plog_append(pl, f->bytes[i], f->sizes[i]) != KL_OK)
                _exit(1);
        kill(getpid(), SIGKILL);
        _exit(1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    int64_t bases[NBATCH];
    size_t segs = list_bases(f, bases, NBATCH);
    assert_true(segs > 2);
    static uint8_t index[NBATCH][4096], times[NBATCH][4096];
    size_t n[NBATCH], tn[NBATCH];
    for (size_t s = 0; s < segs; s++) {
        char ipath[256], tpath[256];
        index_paths(f, bases[s], ipath, tpath, sizeof ipath);
        n[s] = slurp(ipath, index[s], sizeof index[s]);
        tn[s] = slurp(tpath, times[s], sizeof times[s]);
        if (s + 1 < segs) {
            assert_true(n[s] >= 8 && tn[s] >= 12);           /* written by the roll */
        } else {
            assert_int_equal(n[s], 0);                       /* never written */
            assert_int_equal(tn[s], 0);
        }
    }

    char *text = NULL;
    size_t len = 0;
    kl_log_t log = { .out = open_memstream(&text, &len), .level = KL_LOG_DEBUG };
    assert_non_null(log.out);
    f->cfg.log = &log;
    kl_partition_log_t *pl = open_log(f);
    fflush(log.out);
    assert_true(text == NULL || (strstr(text, "rebuilding") == NULL && strstr(text, "truncating") == NULL));
    assert_int_equal(pl->segment_count, segs);
    assert_int_equal(plog_log_end(pl), total_records(f));
    check_reads(f, pl, NBATCH);
    kl_segment_stats_t stats[NBATCH] = { { 0 } };
    for (size_t s = 0; s < segs; s++)
        pl->segments[s]->stats = &stats[s];
    for (int i = 0; i < NBATCH; i++) {
        int64_t off = 0, ts = 0, t = 1000 + f->bases[i] * 10;
        memset(stats, 0, sizeof stats);
        assert_int_equal(plog_offset_for_timestamp(pl, t, &off, &ts), KL_OK);
        assert_int_equal(off, f->bases[i]);
        for (size_t s = 0; pl->segments[s]->next_offset <= f->bases[i]; s++)
            assert_int_equal(stats[s].header_reads, 0);
    }
    for (size_t s = 0; s < segs; s++)
        pl->segments[s]->stats = NULL;
    plog_close(pl);
    f->cfg.log = NULL;

    for (size_t s = 0; s < segs; s++) {                      /* rebuild everything from the logs */
        char ipath[256], tpath[256];
        index_paths(f, bases[s], ipath, tpath, sizeof ipath);
        assert_int_equal(unlink(ipath), 0);
        assert_int_equal(unlink(tpath), 0);
    }
    pl = open_log(f);
    plog_close(pl);
    for (size_t s = 0; s + 1 < segs; s++) {
        char ipath[256], tpath[256];
        uint8_t again[4096];
        index_paths(f, bases[s], ipath, tpath, sizeof ipath);
        assert_int_equal(slurp(ipath, again, sizeof again), n[s]);
        assert_memory_equal(again, index[s], n[s]);
        assert_int_equal(slurp(tpath, again, sizeof again), tn[s]);
        assert_memory_equal(again, times[s], tn[s]);
    }
    fclose(log.out);
    free(text);
}

/* ---- retention: listing and deleting segments ---------------------------------------- */

static bool exists(const char *dir, int64_t base, const char *ext)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%020lld%s", dir, (long long)base, ext);
    return access(path, F_OK) == 0;
}

static void test_segments_describe_each_segment(void **state)
{
    fixture_t *f = *state;
    kl_partition_log_t *pl = fill(f, NBATCH);
    kl_segment_info_t info[NBATCH];
    size_t n = 0;
    assert_int_equal(plog_segments(pl, info, NBATCH, &n), KL_OK);
    assert_int_equal(n, pl->segment_count);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(info[i].base_offset, pl->segments[i]->base_offset);
        assert_int_equal(info[i].size_bytes, pl->segments[i]->size);
        assert_int_equal(info[i].largest_timestamp, pl->segments[i]->max_timestamp);
        assert_int_equal(info[i].active, i + 1 == n);
    }
    /* a short array: the count says how many there are, only `cap` are written */
    kl_segment_info_t two[3];
    two[2].base_offset = -7;
    assert_int_equal(plog_segments(pl, two, 2, &n), KL_OK);
    assert_int_equal(n, pl->segment_count);
    assert_int_equal(two[1].base_offset, pl->segments[1]->base_offset);
    assert_int_equal(two[2].base_offset, -7);
    plog_close(pl);
}

/* Kafka's LogSegment.largestTimestamp: no records, so the file's modification time. */
static void test_empty_segment_reports_its_modification_time(void **state)
{
    fixture_t *f = *state;
    kl_partition_log_t *pl = open_log(f);
    struct timespec times[2] = { { 1600000000, 250000000 }, { 1600000000, 250000000 } };
    assert_int_equal(utimensat(AT_FDCWD, pl->segments[0]->log_path, times, 0), 0);
    kl_segment_info_t info[1];
    size_t n = 0;
    assert_int_equal(plog_segments(pl, info, 1, &n), KL_OK);
    assert_int_equal(n, 1);
    assert_int_equal(info[0].largest_timestamp, 1600000000250LL);
    assert_true(info[0].active);
    plog_close(pl);
}

static void test_delete_before_removes_files_and_moves_log_start(void **state)
{
    fixture_t *f = *state;
    kl_partition_log_t *pl = fill(f, NBATCH);
    size_t before = pl->segment_count;
    assert_true(before > 3);
    int64_t b0 = pl->segments[0]->base_offset, b1 = pl->segments[1]->base_offset;
    int64_t start = pl->segments[2]->base_offset, end = plog_log_end(pl);
    int64_t log_start = -1;
    assert_int_equal(plog_delete_segments_before(pl, start, &log_start), KL_OK);
    assert_int_equal(log_start, start);
    assert_int_equal(plog_log_start(pl), start);
    assert_int_equal(plog_log_end(pl), end);
    assert_int_equal(pl->segment_count, before - 2);
    const char *exts[] = { ".log", ".index", ".timeindex" };
    for (int e = 0; e < 3; e++) {
        assert_false(exists(f->dir, b0, exts[e]));
        assert_false(exists(f->dir, b1, exts[e]));
        assert_true(exists(f->dir, start, exts[e]));
    }
    test_buf_t b = { 0 };
    kl_buf_sink_t sink = { &b, test_buf_reserve, test_buf_unreserve, NULL };
    size_t n = 0;
    assert_int_equal(plog_read(pl, start - 1, 1024, &sink, &n), KL_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(plog_read(pl, start, 1024, &sink, &n), KL_OK);
    assert_true(n > 0);
    free(b.data);
    plog_close(pl);
    pl = open_log(f);                             /* the deletion survives a restart */
    assert_int_equal(plog_log_start(pl), start);
    assert_int_equal(plog_log_end(pl), end);
    plog_close(pl);
}

/* DeleteTopics: the whole directory goes, without a flush; a reader holding a duplicate
 * of a segment's descriptor (a queued Fetch response) still reads the unlinked bytes. */
static void test_delete_removes_the_directory_and_a_dup_still_reads(void **state)
{
    fixture_t *f = *state;
    kl_partition_log_t *pl = fill(f, NBATCH);
    assert_true(pl->segment_count > 3);
    int dup_fd = dup(pl->segments[0]->log_fd);
    assert_true(dup_fd >= 0);
    assert_int_equal(plog_delete(pl), KL_OK);               /* pl is freed */
    assert_int_equal(access(f->dir, F_OK), -1);
    uint8_t buf[1024];
    assert_int_equal(pread(dup_fd, buf, f->sizes[0], 0), (ssize_t)f->sizes[0]);
    assert_memory_equal(buf, f->bytes[0], f->sizes[0]);
    close(dup_fd);
}

/* Something that is not ours in the directory (a subdirectory): the deletion fails,
 * says so, and `pl` is freed all the same. */
static void test_delete_failure_is_reported_and_frees(void **state)
{
    fixture_t *f = *state;
    kl_partition_log_t *pl = fill(f, 3);
    char inner[128];
    snprintf(inner, sizeof inner, "%s/nested", f->dir);
    assert_int_equal(mkdir(inner, 0755), 0);
    assert_int_equal(plog_delete(pl), KL_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(access(inner, F_OK), 0);
}

static void test_delete_before_never_removes_the_active_segment(void **state)
{
    fixture_t *f = *state;
    kl_partition_log_t *pl = fill(f, NBATCH);
    int64_t active = pl->segments[pl->segment_count - 1]->base_offset, log_start = -1;
    assert_int_equal(plog_delete_segments_before(pl, INT64_MAX, &log_start), KL_OK);
    assert_int_equal(log_start, active);
    assert_int_equal(pl->segment_count, 1);
    int64_t end = plog_log_end(pl);
    uint8_t batch[512];
    size_t len = make_batch(batch, end, 2, 99999, 10);
    assert_int_equal(plog_append(pl, batch, len), KL_OK);   /* appends go on */
    assert_int_equal(plog_log_end(pl), end + 2);
    plog_close(pl);
}

/* Only whole segments below the offset go: the one holding it stays. */
static void test_delete_before_keeps_the_segment_holding_the_offset(void **state)
{
    fixture_t *f = *state;
    kl_partition_log_t *pl = fill(f, NBATCH);
    int64_t b1 = pl->segments[1]->base_offset, log_start = -1;
    assert_true(pl->segments[1]->next_offset > b1 + 1);
    assert_int_equal(plog_delete_segments_before(pl, b1 + 1, &log_start), KL_OK);
    assert_int_equal(log_start, b1);
    assert_int_equal(plog_delete_segments_before(pl, 0, &log_start), KL_OK);   /* nothing */
    assert_int_equal(log_start, b1);
    plog_close(pl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_empty_directory_starts_at_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_of_a_missing_directory_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rolls_at_segment_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_stays_whole_and_respects_max_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_keeps_offsets_and_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovery_cuts_torn_active_tail_at_every_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_names_are_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_batch_gets_its_own_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_start_is_first_base_and_gaps_continue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_interval_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_interval_ms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_segment_ms_rolls_by_batch_timestamps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_segment_ms_without_timestamps_uses_the_clock,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_segment_ms_needs_records_and_a_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offset_for_timestamp_across_segments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offset_for_timestamp_after_restart_skips_segments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_error_appends_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovery_cuts_flipped_last_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_older_index_damage_is_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_active_index_damage_is_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_batch_in_older_segment_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovery_of_empty_and_partial_active_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leftover_index_without_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_after_rolls_trusts_the_sealed_indexes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_segments_describe_each_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_segment_reports_its_modification_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_before_removes_files_and_moves_log_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_before_never_removes_the_active_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_before_keeps_the_segment_holding_the_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_preallocate_active_and_trim_at_roll, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_removes_the_directory_and_a_dup_still_reads,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_failure_is_reported_and_frees, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
