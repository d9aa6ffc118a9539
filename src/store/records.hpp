#pragma once
// Records that cross the store interface. Plain data, no behaviour.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/model.hpp"

namespace cg::store {

using BodyHash = std::array<uint8_t, 32>;  // SHA-256 of the normalized request fields

struct IdempotencyClaim {
    std::string key;
    BodyHash body_hash{};
};

// The fields a request is accepted with, shared by every record of it below (a base struct, so
// `job.id` reads the same everywhere and a copy between records is one assignment).
struct RequestCore {
    std::string id;  // request_id (UUID text, lower case)
    std::string station_id;
    std::string driver_token;  // full; the API masks it
    std::string callback_url;
    std::string traceparent;  // stored trace context (obs/trace.hpp); may be empty
    int64_t created_at_ms = 0;
    std::string client_id;  // the authenticated client; empty while API authentication is off
};

// A validated request about to be stored.
struct NewRequest : RequestCore {
    std::optional<IdempotencyClaim> idempotency;
};

enum class AcceptStatus {
    kStored,       // new request durably stored
    kReplayed,     // idempotency key seen before with the same body: `request_id` is the old one
    kKeyConflict,  // idempotency key seen before with a different body
    kUnavailable,  // storage failed; nothing was stored
};

struct AcceptResult {
    AcceptStatus status = AcceptStatus::kUnavailable;
    std::string request_id;
    int64_t seq = 0;  // arrival order, set when kStored
    std::string error;
};

// A stored request waiting for authorization.
struct QueuedRequest : RequestCore {
    int64_t seq = 0;
};

struct DecisionRecord {
    int64_t seq = 0;
    Decision decision;
};

// Everything delivery needs to send (or re-send) one callback.
struct DeliveryJob : RequestCore {
    int64_t seq = 0;
    Decision decision;
    int attempts = 0;        // attempts made so far, over the request's whole life
    int round_attempts = 0;  // attempts made in this delivery round (redeliver starts a new one)
};

enum class AttemptOutcome {
    kDelivered,  // 2xx
    kRetry,      // failed, another attempt at next_attempt_at_ms
    kFailed,     // failed and no attempt left (or 410, or a refused address): dead-lettered
};

struct AttemptRecord {
    int64_t seq = 0;
    int attempt_no = 0;  // 1-based over the request's life
    int64_t started_at_ms = 0;
    int64_t duration_ms = 0;
    int http_status = 0;  // 0: no HTTP answer
    std::string error;    // empty on success; short description otherwise
    AttemptOutcome outcome = AttemptOutcome::kRetry;
    int64_t next_attempt_at_ms = 0;  // when kRetry
};

// A delivery put back without an attempt (its receiver is at its concurrency limit).
struct DeferRecord {
    int64_t seq = 0;
    int64_t next_attempt_at_ms = 0;
};

struct AttemptView {
    int attempt_no = 0;
    int64_t started_at_ms = 0;
    int64_t duration_ms = 0;
    int http_status = 0;
    std::string error;
};

// Full status of one request (docs/api.md §3).
struct RequestView : RequestCore {
    int64_t seq = 0;
    RequestState state = RequestState::kQueued;
    std::optional<Decision> decision;
    int attempts = 0;
    std::optional<int> last_status_code;
    std::optional<std::string> last_error;
    std::optional<int64_t> next_attempt_at_ms;
    std::optional<int64_t> delivered_at_ms;
    std::vector<AttemptView> attempt_log;  // oldest first, at most the last 100
};

// One page of the dead-letter list: requests whose callback ended failed, newest first.
struct DeadLetterPage {
    std::vector<RequestView> items;  // without attempt_log
    int64_t total = 0;               // failed requests in the whole store
};

enum class AclStatus : uint8_t { kAllowed = 0, kBlocked = 1 };

// One entry of the local authorization list (docs/api.md §4).
struct AclEntry {
    std::string driver_token;
    AclStatus status = AclStatus::kAllowed;
    std::optional<std::vector<std::string>> stations;  // lower-case UUIDs; nullopt: every station
    std::optional<int64_t> expires_at_ms;
    int64_t updated_at_ms = 0;
};

struct StationEntry {
    std::string station_id;  // lower-case UUID
    bool active = true;
    int64_t updated_at_ms = 0;
};

enum class RedeliverStatus { kScheduled, kNotFound, kNotFinished, kUnavailable };
enum class WriteStatus { kOk, kNotFound, kUnavailable };

}  // namespace cg::store
