#pragma once
// What one delivery attempt's outcome means (docs/api.md §2): a pure function of the answer
// (or the error), the attempt's number in its round and the policy, with no metrics, logging
// or I/O, so each rule has its own unit test (tests/unit/delivery/retry_decision_test.cpp).
//
// Rules, in order:
//   2xx                                   → delivered
//   410 Gone                              → dead letter at once ("the receiver does not want it")
//   refused address (SSRF guard)          → dead letter at once (retrying cannot help)
//   last attempt of the round             → dead letter
//   429 or 503 with Retry-After           → retry no sooner than Retry-After (capped at the
//                                           back-off ceiling), and the receiver is paused until
//                                           then
//   any other answer or error             → retry after the back-off delay
// Separately from the verdict, `overload` says whether the outcome is a sign that the receiver
// has too much in flight (timeout, connection failure, 429, 502, 503, 504); the adaptive limit
// (concurrency_limit.hpp) cuts on it. Other 4xx/5xx answers say nothing about its load.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/random.hpp"
#include "delivery/backoff.hpp"
#include "net/http_client.hpp"

namespace cg::delivery {

enum class Verdict { kDelivered, kRetry, kDeadLetter };

struct RetryPolicy {
    int max_attempts = 12;  // per round (CALLBACK_MAX_ATTEMPTS)
    BackoffPolicy backoff;
};

struct AttemptVerdict {
    Verdict verdict = Verdict::kDelivered;
    int64_t next_attempt_at_ms = 0;  // kRetry: when to try again
    int64_t pause_until_ms = 0;      // > 0: the receiver asked for a pause until then
    bool overload = false;           // a congestion signal for the adaptive limit
    std::string error;               // empty when delivered
    // Metrics label (callback_deliveries_total{result}): delivered, retry, gone, blocked, failed.
    std::string_view result = "delivered";
};

// `round_no`: 1-based number of this attempt within its round; `now_ms`: when it ended.
AttemptVerdict decide_attempt(const net::HttpResponse& response, int round_no,
                              const RetryPolicy& policy, int64_t now_ms, Random& rng);

// "receiver answered 500", "timeout: ...": the error recorded for a failed attempt.
std::string describe_failure(const net::HttpResponse& response);

}  // namespace cg::delivery
