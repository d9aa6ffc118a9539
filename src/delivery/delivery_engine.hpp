#pragma once
// Callback delivery (docs/api.md §2): sends each decided request's callback, records every attempt,
// retries with exponential back-off and jitter, dead-letters after the last attempt.
//
// Threading: the engine runs on its own thread; the HttpClient completes attempts on its own
// thread and hands them over through a mutex held only to move batches. submit()/wake() are
// thread-safe and never block.
//
// Pace per receiver (scheme://host:port): each receiver has an adaptive in-flight limit
// (concurrency_limit.hpp, between `limit.min` and `limit.max`) and a FIFO of resident
// deliveries waiting for one of its slots; a finished attempt starts the next one of that
// receiver at once, with no store round trip. A `Retry-After` on 429/503 pauses the receiver.
//
// Fairness: at most `max_in_flight` attempts are in flight in all; free slots go round robin
// to the receivers with waiting deliveries and room under their own limit, one delivery per
// turn, so a busy receiver cannot take every slot while others wait. A receiver whose line
// holds more than a quarter of the resident room and would take longer than
// `max_resident_wait` to drain (slow, paused or failing) has the excess parked in the store
// until about when its line will have drained (no attempt counted, `callback_deferred_total`),
// so it cannot fill the resident set either.
//
// Memory stays bounded whatever the backlog: at most about `max_resident` deliveries are in
// memory (has_capacity() turns false there, which stops the worker pool from taking new work,
// so the backlog waits in the queue); time-based retries wait in the store with their due time
// and are read back, earliest first, as they fall due.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/random.hpp"
#include "delivery/backoff.hpp"
#include "delivery/concurrency_limit.hpp"
#include "delivery/receiver_health.hpp"
#include "delivery/signer.hpp"
#include "net/http_client.hpp"
#include "obs/metrics.hpp"
#include "store/store.hpp"

namespace cg::delivery {

struct DeliveryOptions {
    std::chrono::milliseconds attempt_timeout{10000};  // CALLBACK_TIMEOUT_MS
    int max_attempts = 12;                             // CALLBACK_MAX_ATTEMPTS
    BackoffPolicy backoff;                             // CALLBACK_RETRY_BASE_MS / _MAX_MS
    bool allow_private_networks = false;               // CALLBACK_ALLOW_PRIVATE_NETWORKS
    // CALLBACK_SIGNING_SECRET, decoded: one `v1,` signature per key; none: unsigned.
    SigningKeys signing_keys;
    // A client's own keys (`chargegate client-secrets set`), used instead of `signing_keys` for
    // the callbacks of that client's requests; null or empty: `signing_keys`. Called on the
    // engine's thread for each attempt of a request with a client; must be cheap.
    std::function<std::shared_ptr<const SigningKeys>(const std::string& client_id)>
        client_signing_keys;
    size_t max_in_flight = 1024;  // CALLBACK_MAX_CONCURRENCY: attempts in flight in all
    // Per receiver: CALLBACK_MIN_PER_HOST, CALLBACK_MAX_PER_HOST and the controller's tuning.
    LimitOptions limit;
    // Deliveries held in memory (in flight, waiting for a slot, being recorded).
    size_t max_resident = 8192;
    // How long a receiver's waiting line may take to drain before the excess is parked: always
    // with `bound_every_line` (cluster mode: a delivery waiting in memory is leased, and must
    // be sent before another worker may take it over), else only for a receiver whose line
    // holds more than a quarter of `max_resident`.
    // 30 s: a healthy receiver whose answers only look slow while this machine is busy is
    // never parked (parking costs a write and a read per delivery); a receiver at a few
    // deliveries per second, paused or timing out is.
    std::chrono::milliseconds max_resident_wait{30000};
    bool bound_every_line = false;
    std::chrono::milliseconds poll_interval{250};  // how often parked retries are checked
    // Told about each request given up on (request id, last error), e.g. to publish it on a
    // dead-letter stream. Called on the engine's thread; must not block.
    std::function<void(const std::string&, const std::string&)> on_dead_letter;
};

class DeliveryEngine {
  public:
    DeliveryEngine(DeliveryOptions options, store::Store& store, net::HttpClient& http,
                   const Clock& clock, obs::Metrics& metrics);
    ~DeliveryEngine();
    DeliveryEngine(const DeliveryEngine&) = delete;
    DeliveryEngine& operator=(const DeliveryEngine&) = delete;

    void start();
    // Hands over freshly decided requests (their decision is durable). Never blocks; the engine
    // accepts them even past max_resident (the caller bounds what it hands over by
    // has_capacity()).
    void submit(std::vector<store::DeliveryJob> jobs);
    // True while fewer than max_resident jobs are held (in flight, waiting or being recorded).
    [[nodiscard]] bool has_capacity() const;
    [[nodiscard]] size_t held() const;
    // Which receivers are failing (for operators); thread-safe reads.
    [[nodiscard]] const ReceiverHealth& receiver_health() const;
    // Asks the engine to look for due parked deliveries now (e.g. after a redeliver).
    void wake();
    // Stops taking new work and starts no attempt; deliveries waiting for a slot are let go
    // (they are durable and resumed at the next start). Waits up to `deadline_ms` for attempts
    // in flight to finish and be recorded, then stops. Whatever was not recorded stays resident
    // in the store and is recovered at the next start (at-least-once).
    void stop(int64_t deadline_ms);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace cg::delivery
