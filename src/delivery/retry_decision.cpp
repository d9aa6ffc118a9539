#include "delivery/retry_decision.hpp"

#include <optional>

namespace cg::delivery {

std::string describe_failure(const net::HttpResponse& r) {
    std::string s;
    if (r.error == net::HttpError::kNone) {
        s.append("receiver answered ").append(std::to_string(r.status));
        return s;
    }
    s = to_string(r.error);
    if (!r.error_message.empty()) s.append(": ").append(r.error_message);
    return s;
}

AttemptVerdict decide_attempt(const net::HttpResponse& r, int round_no, const RetryPolicy& policy,
                              int64_t now_ms, Random& rng) {
    AttemptVerdict v;
    const bool answered = r.error == net::HttpError::kNone;
    if (answered && r.status >= 200 && r.status <= 299) return v;

    const int s = answered ? r.status : 0;
    v.overload = r.error == net::HttpError::kTimeout || r.error == net::HttpError::kConnect ||
                 s == 429 || s == 502 || s == 503 || s == 504;
    v.error = describe_failure(r);
    if (s == 410) {
        v.verdict = Verdict::kDeadLetter;
        v.error = "receiver answered 410 Gone";
        v.result = "gone";
        return v;
    }
    if (r.error == net::HttpError::kBlockedAddress) {
        v.verdict = Verdict::kDeadLetter;
        v.error = "callback address not allowed";
        v.result = "blocked";
        return v;
    }
    if (round_no >= policy.max_attempts) {
        v.verdict = Verdict::kDeadLetter;
        v.result = "failed";
        return v;
    }
    std::optional<int64_t> floor;
    if ((s == 429 || s == 503) && r.retry_after_ms) {
        floor = r.retry_after_ms;
        // The pause lasts what the receiver asked for, within the back-off ceiling.
        v.pause_until_ms = now_ms + std::min(*r.retry_after_ms, policy.backoff.max_ms);
    }
    v.verdict = Verdict::kRetry;
    v.result = "retry";
    v.next_attempt_at_ms = now_ms + policy.backoff.delay_ms(round_no, rng, floor);
    return v;
}

}  // namespace cg::delivery
