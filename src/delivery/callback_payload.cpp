#include "delivery/callback_payload.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string_view.hpp>

#include "common/text.hpp"

namespace cg::delivery {

namespace {

void append_string(std::string& out, std::string_view s) {
    out += boost::json::serialize(boost::json::string_view(s.data(), s.size()));
}

}  // namespace

std::string callback_body(const store::DeliveryJob& job) {
    std::string out;
    out.reserve(256 + job.driver_token.size() + job.decision.reason.size());
    out += "{\"request_id\":";
    append_string(out, job.id);
    out += ",\"station_id\":";
    append_string(out, job.station_id);
    out += ",\"driver_token\":";
    append_string(out, job.driver_token);
    out += ",\"status\":\"";
    out += to_string(job.decision.status);
    out += "\",\"reason\":";
    append_string(out, job.decision.reason);
    out += ",\"decided_at\":\"";
    out += format_rfc3339_ms(job.decision.decided_at_ms);
    out += "\"}";
    return out;
}

}  // namespace cg::delivery
