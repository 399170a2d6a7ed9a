/* The C side of the Kafka benchmark: what librdkafka does without Swift.
 *
 *   bench-c produce BOOTSTRAP TOPIC COUNT      records/s, 200-byte records, linger 5 ms,
 *                                              idempotent, acks=all (flush included)
 *   bench-c consume BOOTSTRAP TOPIC GROUP      records/s of a group consumer, from the first
 *                                              record to the last (join time excluded)
 *   bench-c rtt BOOTSTRAP TOPIC COUNT          produce round trips, acks=all, linger 0:
 *                                              median and p99 in microseconds
 *
 * Prints one line: "<mode> <value> <unit> [extra]".
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

/* CPU seconds of the whole process (every librdkafka thread included). */
static double cpu(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void set(rd_kafka_conf_t *conf, const char *key, const char *value) {
    char errstr[512];
    if (rd_kafka_conf_set(conf, key, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "%s: %s\n", key, errstr);
        exit(2);
    }
}

static long delivered, failed;
static int rtt_done;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk; (void)opaque;
    if (m->err) failed++; else delivered++;
    rtt_done = 1;
}

static rd_kafka_t *make_producer(const char *bootstrap, const char *linger) {
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", bootstrap);
    set(conf, "enable.idempotence", "true");
    set(conf, "acks", "all");
    set(conf, "linger.ms", linger);
    set(conf, "batch.num.messages", "10000");
    set(conf, "queue.buffering.max.messages", "1000000");
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) { fprintf(stderr, "%s\n", errstr); exit(2); }
    return rk;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: bench-c produce|consume|rtt BOOTSTRAP TOPIC COUNT|GROUP\n"); return 2; }
    const char *mode = argv[1], *bootstrap = argv[2], *topic = argv[3];
    char payload[200];
    memset(payload, 'x', sizeof payload);

    if (!strcmp(mode, "produce")) {
        long count = atol(argv[4]);
        rd_kafka_t *rk = make_producer(bootstrap, "5");
        /* Connect and learn the topic's metadata before the clock starts. */
        rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(payload, sizeof payload),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        rd_kafka_flush(rk, 10000);
        delivered = 0;
        double start = now(), cpu0 = cpu();
        for (long i = 0; i < count; i++) {
            char key[16];
            int keylen = snprintf(key, sizeof key, "%ld", i);
            while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, keylen),
                                     RD_KAFKA_V_VALUE(payload, sizeof payload),
                                     RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)
                   == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                rd_kafka_poll(rk, 1);
            rd_kafka_poll(rk, 0);
        }
        rd_kafka_flush(rk, 60000);
        double elapsed = now() - start;
        printf("produce %.0f records/s cpu=%.2fus/record delivered=%ld failed=%ld\n", count / elapsed,
               (cpu() - cpu0) * 1e6 / count, delivered, failed);
        rd_kafka_destroy(rk);
    } else if (!strcmp(mode, "rtt")) {
        long count = atol(argv[4]);
        rd_kafka_t *rk = make_producer(bootstrap, "0");
        double *samples = calloc(count, sizeof *samples);
        for (long i = -100; i < count; i++) { /* 100 warm-up round trips */
            rtt_done = 0;
            double start = now();
            rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(payload, sizeof payload),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
            while (!rtt_done) rd_kafka_poll(rk, 1);
            if (i >= 0) samples[i] = (now() - start) * 1e6;
        }
        qsort(samples, count, sizeof *samples, cmp_double);
        printf("rtt %.0f us-median p99=%.0f\n", samples[count / 2], samples[count * 99 / 100]);
        rd_kafka_destroy(rk);
    } else if (!strcmp(mode, "consume")) {
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        set(conf, "bootstrap.servers", bootstrap);
        set(conf, "group.id", argv[4]);
        set(conf, "auto.offset.reset", "earliest");
        set(conf, "enable.auto.offset.store", "false");
        /* The mock holds every fetch for the whole wait: with 100 ms the prefetch queue runs
         * dry between fetches and the rate depends on timing luck. The Swift side too. */
        set(conf, "fetch.wait.max.ms", "1");
        /* The prefetch limits of KafkaConsumerConfiguration: librdkafka 2.0 stops fetching
         * at them and looks again only ~1 s later, so small limits stall a slow consumer. */
        set(conf, "queued.max.messages.kbytes", "65536");
        set(conf, "queued.min.messages", "1000000");
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
        if (!rk) { fprintf(stderr, "%s\n", errstr); return 2; }
        rd_kafka_poll_set_consumer(rk);
        rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
        rd_kafka_subscribe(rk, topics);
        rd_kafka_topic_partition_list_destroy(topics);
        long count = 0;
        double first = 0, last = 0, deadline = now() + 30, cpu0 = 0, cpu1 = 0;
        while (now() < deadline) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
            if (!m) {
                if (count > 0 && now() - last > 2) break;
                continue;
            }
            if (!m->err) {
                /* Touch the payload as the Swift side does when it copies it. */
                volatile char c = m->len ? ((char *)m->payload)[m->len - 1] : 0; (void)c;
                last = now();
                if (count++ == 0) { first = last; cpu0 = cpu(); }
            }
            rd_kafka_message_destroy(m);
        }
        cpu1 = cpu(); /* includes the idle tail: ~nothing while waiting in poll */
        printf("consume %.0f records/s cpu=%.2fus/record count=%ld\n", count > 1 ? (count - 1) / (last - first) : 0.0,
               count > 1 ? (cpu1 - cpu0) * 1e6 / (count - 1) : 0.0, count);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
    } else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    return 0;
}
