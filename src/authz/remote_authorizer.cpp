#include "authz/remote_authorizer.hpp"

#include <boost/json.hpp>

#include "common/text.hpp"
#include "obs/log.hpp"
#include "obs/trace.hpp"

namespace cg::authz {

namespace {
bool is_reason_word(std::string_view s) {
    if (s.empty() || s.size() > 64) return false;
    for (const char c : s) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    }
    return true;
}
}  // namespace

Decision decision_from_response(const net::HttpResponse& response, int64_t now_ms) {
    Decision d;  // unknown / authorizer_error
    d.decided_at_ms = now_ms;
    if (response.error == net::HttpError::kTimeout) {
        d.reason = "authorizer_timeout";
        return d;
    }
    if (response.error != net::HttpError::kNone || response.status < 200 || response.status > 299) {
        return d;
    }
    boost::system::error_code ec;
    const auto value = boost::json::parse(response.body, ec);
    if (ec || !value.is_object()) return d;
    const auto& obj = value.as_object();
    const auto* status = obj.if_contains("status");
    if (status == nullptr || !status->is_string()) return d;
    const std::string_view s = status->as_string();
    DecisionStatus parsed;
    if (s == "allowed") {
        parsed = DecisionStatus::kAllowed;
    } else if (s == "not_allowed") {
        parsed = DecisionStatus::kNotAllowed;
    } else {
        return d;
    }
    d.status = parsed;
    d.reason = parsed == DecisionStatus::kAllowed ? "authorizer_allowed" : "authorizer_denied";
    if (const auto* reason = obj.if_contains("reason"); reason && reason->is_string()) {
        // The reason travels to receivers: only a short snake_case word is passed on.
        const std::string_view r = reason->as_string();
        if (is_reason_word(r)) d.reason = std::string(r);
    }
    return d;
}

RemoteAuthorizer::RemoteAuthorizer(RemoteAuthorizerOptions options, net::HttpClient& http,
                                   const Clock& clock)
    : options_(std::move(options)), http_(http), clock_(clock) {}

void RemoteAuthorizer::authorize(const AuthorizationRequest& request, DecisionCallback done) {
    net::HttpRequest req;
    req.url = options_.url;
    req.timeout = options_.timeout;
    req.block_private_addresses = options_.block_private_addresses;
    req.headers.emplace_back("Content-Type", "application/json");
    req.headers.emplace_back("Accept", "application/json");
    // Same trace as the request (a new one when it came without), our own span.
    req.headers.emplace_back("traceparent", obs::make_traceparent(request.traceparent));
    if (const auto state = obs::tracestate_of(request.traceparent); !state.empty()) {
        req.headers.emplace_back("tracestate", std::string(state));
    }
    boost::json::object body;
    body["station_id"] = request.station_id;
    body["driver_token"] = request.driver_token;
    req.body = boost::json::serialize(body);
    http_.post(std::move(req),
               [this, id = request.request_id, trace = obs::trace_id_of(request.traceparent),
                done = std::move(done)](net::HttpResponse resp) {
                   Decision d = decision_from_response(resp, clock_.now_ms());
                   if (d.status == DecisionStatus::kUnknown) {
                       consecutive_failures_.fetch_add(1);
                       obs::log_warn("authorizer call failed")
                           .kv("request_id", id)
                           .kv("trace_id", trace)
                           .kv("reason", d.reason)
                           .kv("http_status", resp.status)
                           .kv("error", resp.error_message);
                   } else {
                       consecutive_failures_.store(0);
                   }
                   done(std::move(d));
               });
}

bool RemoteAuthorizer::healthy() const {
    return consecutive_failures_.load() < options_.unhealthy_after_failures;
}

}  // namespace cg::authz
