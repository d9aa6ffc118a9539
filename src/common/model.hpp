#pragma once
// The domain vocabulary shared by every module: request states and authorization decisions.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cg {

// Lifecycle of a charging-session request (docs/api.md §3). Stored as the integer value.
enum class RequestState : uint8_t {
    kQueued = 0,
    kAuthorizing = 1,
    kDelivering = 2,
    kDelivered = 3,
    kFailed = 4,
};

std::string_view to_string(RequestState s);

// Outcome of authorization (docs/api.md §2). Fails closed: a default-constructed decision is
// `unknown`, so every error path that forgets to set it still denies.
enum class DecisionStatus : uint8_t { kAllowed = 0, kNotAllowed = 1, kUnknown = 2 };

std::string_view to_string(DecisionStatus s);
std::optional<DecisionStatus> decision_status_from(std::string_view s);

struct Decision {
    DecisionStatus status = DecisionStatus::kUnknown;
    std::string reason = "authorizer_error";  // short snake_case word
    int64_t decided_at_ms = 0;
};

// What a decision is made about.
struct AuthorizationRequest {
    std::string request_id;
    std::string station_id;
    std::string driver_token;
    std::string traceparent;  // stored W3C trace context (traceparent[ tracestate]), may be empty
};

}  // namespace cg
