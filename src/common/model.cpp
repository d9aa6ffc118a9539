#include "common/model.hpp"

namespace cg {

std::string_view to_string(RequestState s) {
    switch (s) {
        case RequestState::kQueued:
            return "queued";
        case RequestState::kAuthorizing:
            return "authorizing";
        case RequestState::kDelivering:
            return "delivering";
        case RequestState::kDelivered:
            return "delivered";
        case RequestState::kFailed:
            return "failed";
    }
    return "unknown";
}

std::string_view to_string(DecisionStatus s) {
    switch (s) {
        case DecisionStatus::kAllowed:
            return "allowed";
        case DecisionStatus::kNotAllowed:
            return "not_allowed";
        case DecisionStatus::kUnknown:
            return "unknown";
    }
    return "unknown";
}

std::optional<DecisionStatus> decision_status_from(std::string_view s) {
    if (s == "allowed") return DecisionStatus::kAllowed;
    if (s == "not_allowed") return DecisionStatus::kNotAllowed;
    if (s == "unknown") return DecisionStatus::kUnknown;
    return std::nullopt;
}

}  // namespace cg
