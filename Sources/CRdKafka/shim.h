// The C surface of librdkafka that Swift sees: rdkafka.h, rdkafka_mock.h, and small
// static inline wrappers for what does not import (variadic calls, RD_KAFKA_V_* macros).
#ifndef STEPLINE_CRDKAFKA_SHIM_H
#define STEPLINE_CRDKAFKA_SHIM_H

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/// Produces one record. `rd_kafka_producev` is variadic and its RD_KAFKA_V_* macros do not
/// import into Swift, hence this wrapper.
///
/// Ownership: the payload and key are copied (RD_KAFKA_MSG_F_COPY). `headers` (may be NULL)
/// passes to librdkafka only when this returns RD_KAFKA_RESP_ERR_NO_ERROR; on error the
/// caller still owns it and must destroy it. `opaque` comes back in the delivery report.
/// `rkt` is a topic handle the caller keeps alive (by name would cost a lookup per record).
static inline rd_kafka_resp_err_t stepline_produce(rd_kafka_t *rk,
                                                   rd_kafka_topic_t *rkt,
                                                   int32_t partition,
                                                   const void *value, size_t value_len,
                                                   const void *key, size_t key_len,
                                                   rd_kafka_headers_t *headers,
                                                   int64_t timestamp_ms,
                                                   void *opaque) {
    if (headers) {
        return rd_kafka_producev(rk,
                                 RD_KAFKA_V_RKT(rkt),
                                 RD_KAFKA_V_PARTITION(partition),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_VALUE((void *)value, value_len),
                                 RD_KAFKA_V_KEY(key, key_len),
                                 RD_KAFKA_V_HEADERS(headers),
                                 RD_KAFKA_V_TIMESTAMP(timestamp_ms),
                                 RD_KAFKA_V_OPAQUE(opaque),
                                 RD_KAFKA_V_END);
    }
    return rd_kafka_producev(rk,
                             RD_KAFKA_V_RKT(rkt),
                             RD_KAFKA_V_PARTITION(partition),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_VALUE((void *)value, value_len),
                             RD_KAFKA_V_KEY(key, key_len),
                             RD_KAFKA_V_TIMESTAMP(timestamp_ms),
                             RD_KAFKA_V_OPAQUE(opaque),
                             RD_KAFKA_V_END);
}

/// Queues one error (with a round-trip time) for the next request of `api_key` that broker
/// `broker_id` receives. The C call is variadic over (error, rtt) pairs; one pair is enough
/// for our control protocol, which repeats the call for more.
static inline rd_kafka_resp_err_t stepline_mock_broker_push_error(rd_kafka_mock_cluster_t *mcluster,
                                                                  int32_t broker_id,
                                                                  int16_t api_key,
                                                                  rd_kafka_resp_err_t err,
                                                                  int rtt_ms) {
    return rd_kafka_mock_broker_push_request_error_rtts(mcluster, broker_id, api_key, 1,
                                                        err, rtt_ms);
}

#endif
