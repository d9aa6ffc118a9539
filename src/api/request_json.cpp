#include "api/request_json.hpp"

#include <boost/json.hpp>

#include "common/text.hpp"
#include "obs/trace.hpp"

namespace cg::api {

namespace {

boost::json::value time_or_null(const std::optional<int64_t>& ms) {
    if (!ms) return nullptr;
    return boost::json::value(format_rfc3339_ms(*ms));
}

boost::json::value decision_json(const std::optional<Decision>& d) {
    if (!d) return nullptr;
    return boost::json::object{{"status", to_string(d->status)},
                               {"reason", d->reason},
                               {"decided_at", format_rfc3339_ms(d->decided_at_ms)}};
}

boost::json::value code_or_null(const std::optional<int>& code) {
    return code ? boost::json::value(*code) : nullptr;
}

boost::json::value text_or_null(const std::optional<std::string>& text) {
    return text ? boost::json::value(*text) : nullptr;
}

}  // namespace

boost::json::object request_json(const store::RequestView& v, RequestState state) {
    boost::json::object o;
    o["request_id"] = v.id;
    o["station_id"] = v.station_id;
    o["driver_token"] = mask_token(v.driver_token);
    o["state"] = to_string(state);
    o["created_at"] = format_rfc3339_ms(v.created_at_ms);
    o["decision"] = decision_json(v.decision);
    boost::json::object cb;
    cb["attempts"] = v.attempts;
    cb["last_status_code"] = code_or_null(v.last_status_code);
    cb["last_error"] = text_or_null(v.last_error);
    cb["next_attempt_at"] = time_or_null(v.next_attempt_at_ms);
    cb["delivered_at"] = time_or_null(v.delivered_at_ms);
    o["callback"] = std::move(cb);
    boost::json::array log;
    for (const auto& a : v.attempt_log) {
        log.push_back(boost::json::object{
            {"attempt", a.attempt_no},
            {"started_at", format_rfc3339_ms(a.started_at_ms)},
            {"duration_ms", a.duration_ms},
            {"status_code", a.http_status > 0 ? boost::json::value(a.http_status) : nullptr},
            {"error",
             a.error.empty() ? boost::json::value(nullptr) : boost::json::value(a.error)}});
    }
    o["attempts"] = std::move(log);
    return o;
}

boost::json::object admin_request_json(const store::RequestView& v, RequestState state) {
    auto o = request_json(v, state);
    o["callback_url"] = v.callback_url;
    o["client_id"] =
        v.client_id.empty() ? boost::json::value(nullptr) : boost::json::value(v.client_id);
    o["trace_id"] = obs::trace_id_of(v.traceparent);
    return o;
}

boost::json::object dead_letter_json(const store::RequestView& v) {
    boost::json::object o;
    o["request_id"] = v.id;
    o["station_id"] = v.station_id;
    o["callback_url"] = v.callback_url;
    o["created_at"] = format_rfc3339_ms(v.created_at_ms);
    o["decision"] = decision_json(v.decision);
    o["attempts"] = v.attempts;
    o["last_status_code"] = code_or_null(v.last_status_code);
    o["last_error"] = text_or_null(v.last_error);
    return o;
}

}  // namespace cg::api
