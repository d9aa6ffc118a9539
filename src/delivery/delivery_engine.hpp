#pragma once
// Callback delivery (docs/api.md §2): sends each decided request's callback, records every attempt,
// retries with exponential back-off and jitter, dead-letters after the last attempt.
//
// Threading: the engine runs on its own thread (it shares the HttpClient's thread for
// completions). submit()/wake() are thread-safe and never block.
//
// Receiver isolation: at most `max_per_host` attempts are in flight to one receiver, so a slow
// or dead receiver holds at most that many connections and, with its short waiting line, at
// most max_per_host + max_in_flight/2 of the `max_in_flight` slots; its other deliveries are
// parked in the store (no attempt counted) and come back behind deliveries already due.
//
// Memory stays bounded whatever the backlog: only the jobs in flight (at most
// `max_in_flight`) and a bounded inbox live in memory; retries are parked in the store with
// their due time and read back in due-time order when due.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/random.hpp"
#include "delivery/backoff.hpp"
#include "delivery/http_client.hpp"
#include "delivery/receiver_health.hpp"
#include "delivery/signer.hpp"
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
    size_t max_in_flight = 256;  // CALLBACK_MAX_CONCURRENCY
    // Attempts in flight to one receiver (scheme://host:port). Past it, that receiver's
    // deliveries wait in a per-receiver line (at most half of max_in_flight), and
    // past that they are parked in the store for `defer_delay` (plus up to as much jitter)
    // instead of taking the slots other receivers need.
    size_t max_per_host = 32;  // CALLBACK_MAX_PER_HOST
    std::chrono::milliseconds defer_delay{250};
    std::chrono::milliseconds poll_interval{250};  // how often parked retries are checked
    // Told about each request given up on (request id, last error), e.g. to publish it on a
    // dead-letter stream. Called on the engine's thread; must not block.
    std::function<void(const std::string&, const std::string&)> on_dead_letter;
};

class DeliveryEngine {
  public:
    DeliveryEngine(DeliveryOptions options, store::Store& store, HttpClient& http,
                   const Clock& clock, obs::Metrics& metrics);
    ~DeliveryEngine();
    DeliveryEngine(const DeliveryEngine&) = delete;
    DeliveryEngine& operator=(const DeliveryEngine&) = delete;

    void start();
    // Hands over freshly decided requests (their decision is durable). Never blocks; the engine
    // accepts them even past max_in_flight (the caller bounds what it hands over by
    // has_capacity()).
    void submit(std::vector<store::DeliveryJob> jobs);
    // True while fewer than max_in_flight jobs are held (in flight or waiting in the inbox).
    [[nodiscard]] bool has_capacity() const;
    [[nodiscard]] size_t held() const;
    // Which receivers are failing (for operators); thread-safe reads.
    [[nodiscard]] const ReceiverHealth& receiver_health() const;
    // Asks the engine to look for due parked deliveries now (e.g. after a redeliver).
    void wake();
    // Stops taking new work, waits up to `deadline_ms` for attempts in flight to finish and be
    // recorded, then stops. Whatever was not recorded stays resident in the store and is
    // recovered at the next start (at-least-once).
    void stop(int64_t deadline_ms);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace cg::delivery
