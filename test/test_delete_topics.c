/*
 * test/test_delete_topics.c — unit tests of application/delete_topics.c: the store
 * deletes first (with the topic's own logs, in order) and only then does the registry
 * forget the topic; unknown names touch nothing; a store failure leaves the topic whole;
 * a name created again starts from what the store opens (empty); the groups' committed
 * offsets of the topic go too — and a failure there does not undo the deletion.
 * Both ports are cmocka mocks (test/mocks/): any store call a test did not expect
 * fails it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "application/group_coordinator.h"
#include "application/usecases.h"
#include "test/mocks/mock_clock.h"
#include "test/mocks/mock_log_store.h"
#include "test/mocks/mock_offset_store.h"

/* topics "orders" (2 partitions, logs[0..1]) and "audit" (1, logs[2]); a coordinator */
typedef struct fixture {
    kl_broker_t b;
    coord_t coord;
    int64_t now;
    char logs[8];
} fixture_t;

static int64_t fake_now_ms(void *self) { return *(int64_t *)self; }

static kl_topic_meta_t meta_of(const char *name, int32_t partitions)
{
    kl_topic_meta_t m;
    memset(&m, 0, sizeof m);
    strcpy(m.name, name);
    m.partition_count = partitions;
    m.replication_factor = 1;
    return m;
}

static int setup(void **state)
{
    fixture_t *f = test_calloc(1, sizeof *f);
    kl_broker_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.num_partitions = 1;
    cfg.default_replication_factor = 1;
    kl_topic_meta_t metas[2] = { meta_of("orders", 2), meta_of("audit", 1) };
    mock_log_store_expect_load_all(metas, 2, KL_OK);
    mock_log_store_expect_open("orders", 0, &f->logs[0], 0, 5, KL_OK);
    mock_log_store_expect_open("orders", 1, &f->logs[1], 0, 7, KL_OK);
    mock_log_store_expect_open("audit", 0, &f->logs[2], 0, 0, KL_OK);
    assert_int_equal(broker_init(&f->b, &cfg, mock_log_store(), mock_clock()), KL_OK);

    f->now = 1700000000000LL;
    kl_clock_t clock = { &f->now, fake_now_ms };
    coord_config_t cc = coord_config_default();
    group_id_source_t ids = { 0 };
    will_return(mock_offset_store_load_all, KL_OK);
    assert_int_equal(coord_init(&f->coord, &cc, clock, mock_offset_store(NULL), ids), KL_OK);
    *state = f;
    return 0;
}

/* Every partition still registered is closed, in registry (insertion) order. */
static int teardown(void **state)
{
    fixture_t *f = *state;
    coord_close(&f->coord);
    for (kl_topic_t *t = f->b.topics; t != NULL; t = t->hh.next)
        for (int32_t i = 0; i < t->meta.partition_count; i++)
            mock_log_store_expect_close(t->partitions[i].log);
    broker_close(&f->b);
    test_free(f);
    return 0;
}

static void expect_orders_deleted(fixture_t *f, kl_err_t result)
{
    void *logs[2] = { &f->logs[0], &f->logs[1] };
    mock_log_store_expect_topic_delete("orders", logs, 2, result);
}

/* A simple commit (generation -1) of one offset, expected at the offset store. */
static void commit(fixture_t *f, const char *group, const char *topic, int32_t partition,
                   int64_t offset)
{
    expect_string(mock_offset_store_commit, group_id, group);
    expect_value(mock_offset_store_commit, count, 1);
    expect_string(mock_offset_store_commit, topic, topic);
    expect_value(mock_offset_store_commit, partition, partition);
    expect_value(mock_offset_store_commit, offset, offset);
    will_return(mock_offset_store_commit, KL_OK);
    kl_offset_commit_t c = { topic, partition, offset, "" };
    assert_int_equal(coord_commit_offsets(&f->coord, group, -1, "", NULL, &c, 1), KL_OK);
}

static int64_t committed(fixture_t *f, const char *group, const char *topic, int32_t p)
{
    coord_offset_t off;
    assert_int_equal(coord_fetch_offset(&f->coord, group, topic, p, &off), KL_OK);
    return off.offset;
}

typedef struct seen_groups {
    int count;
    char last[64];
} seen_groups_t;

static void count_group(void *arg, const char *group_id, const char *protocol_type,
                        const char *state)
{
    (void)protocol_type, (void)state;
    seen_groups_t *s = arg;
    s->count++;
    strncpy(s->last, group_id, sizeof s->last - 1);
}

/* ---- the topic ---- */

static void test_store_deletes_then_registry_forgets(void **state)
{
    fixture_t *f = *state;
    kl_err_t offsets_err = KL_ERR_UNKNOWN_SERVER_ERROR;
    expect_orders_deleted(f, KL_OK);
    assert_int_equal(delete_topic(&f->b, NULL, "orders", &offsets_err), KL_OK);
    assert_int_equal(offsets_err, KL_OK);
    assert_null(broker_find_topic(&f->b, "orders"));
    assert_null(broker_find_partition(&f->b, "orders", 0));
    assert_non_null(broker_find_topic(&f->b, "audit"));     /* the other one stays */
    /* deleted once: a second delete finds nothing and calls no store */
    assert_int_equal(delete_topic(&f->b, NULL, "orders", NULL),
                     KL_ERR_UNKNOWN_TOPIC_OR_PARTITION);
}

static void test_unknown_or_invalid_names_touch_nothing(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(delete_topic(&f->b, &f->coord, "missing", NULL),
                     KL_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_int_equal(delete_topic(&f->b, &f->coord, "no/slash", NULL),
                     KL_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_int_equal(delete_topic(&f->b, &f->coord, "", NULL),
                     KL_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    /* Klamm's own directories are not topics: no name reaches them */
    assert_int_equal(delete_topic(&f->b, &f->coord, "__klamm_topics", NULL),
                     KL_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_int_equal(delete_topic(&f->b, &f->coord, "__consumer_offsets", NULL),
                     KL_ERR_UNKNOWN_TOPIC_OR_PARTITION);
}

static void test_store_failure_keeps_the_topic_whole(void **state)
{
    fixture_t *f = *state;
    expect_orders_deleted(f, KL_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(delete_topic(&f->b, &f->coord, "orders", NULL),
                     KL_ERR_KAFKA_STORAGE_ERROR);
    kl_partition_t *p = broker_find_partition(&f->b, "orders", 1);
    assert_non_null(p);
    assert_ptr_equal(p->log, &f->logs[1]);                  /* still open: teardown closes */
    assert_int_equal(p->offsets.log_end, 7);
}

static void test_created_again_starts_from_what_the_store_opens(void **state)
{
    fixture_t *f = *state;
    expect_orders_deleted(f, KL_OK);
    assert_int_equal(delete_topic(&f->b, NULL, "orders", NULL), KL_OK);
    mock_log_store_expect_topic_create("orders", 1, KL_OK);
    mock_log_store_expect_open("orders", 0, &f->logs[3], 0, 0, KL_OK);
    kl_topic_t *t = NULL;
    assert_int_equal(create_topic(&f->b, "orders", 1, 1, NULL, 0, false, &t), KL_OK);
    assert_int_equal(t->meta.partition_count, 1);
    assert_int_equal(t->partitions[0].offsets.log_end, 0);
    assert_ptr_equal(t->partitions[0].log, &f->logs[3]);
}

/* ---- the committed offsets ---- */

static void test_offsets_of_the_topic_go_with_it(void **state)
{
    fixture_t *f = *state;
    commit(f, "g1", "orders", 0, 4);
    commit(f, "g1", "audit", 0, 9);
    commit(f, "g2", "orders", 1, 6);
    expect_orders_deleted(f, KL_OK);
    expect_string(mock_offset_store_delete_topic, topic, "orders");     /* once, durable */
    will_return(mock_offset_store_delete_topic, KL_OK);
    kl_err_t offsets_err = KL_ERR_UNKNOWN_SERVER_ERROR;
    assert_int_equal(delete_topic(&f->b, &f->coord, "orders", &offsets_err), KL_OK);
    assert_int_equal(offsets_err, KL_OK);
    assert_int_equal(committed(f, "g1", "orders", 0), -1);
    assert_int_equal(committed(f, "g2", "orders", 1), -1);
    assert_int_equal(committed(f, "g1", "audit", 0), 9);     /* other topics keep theirs */
    /* g2 held only offsets of "orders" and has no members: gone, as Kafka turns it Dead */
    seen_groups_t seen = { 0 };
    coord_list(&f->coord, count_group, &seen);
    assert_int_equal(seen.count, 1);
    assert_string_equal(seen.last, "g1");
}

static void test_no_offsets_no_offset_store_call(void **state)
{
    fixture_t *f = *state;
    commit(f, "g1", "audit", 0, 9);
    expect_orders_deleted(f, KL_OK);
    assert_int_equal(delete_topic(&f->b, &f->coord, "orders", NULL), KL_OK);
    assert_int_equal(committed(f, "g1", "audit", 0), 9);
}

static void test_offset_store_failure_does_not_undo_the_deletion(void **state)
{
    fixture_t *f = *state;
    commit(f, "g1", "orders", 0, 4);
    expect_orders_deleted(f, KL_OK);
    expect_string(mock_offset_store_delete_topic, topic, "orders");
    will_return(mock_offset_store_delete_topic, KL_ERR_KAFKA_STORAGE_ERROR);
    kl_err_t offsets_err = KL_OK;
    assert_int_equal(delete_topic(&f->b, &f->coord, "orders", &offsets_err), KL_OK);
    assert_int_equal(offsets_err, KL_ERR_KAFKA_STORAGE_ERROR);
    assert_null(broker_find_topic(&f->b, "orders"));
    assert_int_equal(committed(f, "g1", "orders", 0), -1);  /* not served any more */
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_store_deletes_then_registry_forgets),
        T(test_unknown_or_invalid_names_touch_nothing),
        T(test_store_failure_keeps_the_topic_whole),
        T(test_created_again_starts_from_what_the_store_opens),
        T(test_offsets_of_the_topic_go_with_it),
        T(test_no_offsets_no_offset_store_call),
        T(test_offset_store_failure_does_not_undo_the_deletion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
