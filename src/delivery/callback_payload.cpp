#include "delivery/callback_payload.hpp"

#include <array>
#include <boost/json/serialize.hpp>
#include <boost/json/string_view.hpp>

#include "common/text.hpp"

namespace cg::delivery {

namespace {

void append_string(std::string& out, std::string_view s) {
    out += boost::json::serialize(boost::json::string_view(s.data(), s.size()));
}

bool is_lower_hex(std::string_view s) {
    for (const char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

bool all_zero(std::string_view s) { return s.find_first_not_of('0') == std::string_view::npos; }

std::string random_hex(size_t bytes) {
    std::array<unsigned char, 16> buf{};
    random_bytes(buf.data(), bytes);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes * 2);
    for (size_t i = 0; i < bytes; ++i) {
        out.push_back(kHex[buf[i] >> 4]);
        out.push_back(kHex[buf[i] & 0x0F]);
    }
    return out;
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

std::string trace_id_of(std::string_view tp) {
    // version "00" format: 2-32-16-2 hex, dash separated; later versions may append fields.
    if (tp.size() < 55 || tp[2] != '-' || tp[35] != '-' || tp[52] != '-') return {};
    if (tp.size() > 55 && tp[55] != '-') return {};
    const auto version = tp.substr(0, 2);
    const auto trace = tp.substr(3, 32);
    const auto span = tp.substr(36, 16);
    const auto flags = tp.substr(53, 2);
    if (!is_lower_hex(version) || version == "ff" || !is_lower_hex(trace) || !is_lower_hex(span) ||
        !is_lower_hex(flags) || all_zero(trace) || all_zero(span)) {
        return {};
    }
    if (version == "00" && tp.size() != 55) return {};
    return std::string(trace);
}

std::string make_traceparent(std::string_view incoming) {
    std::string trace = trace_id_of(incoming);
    std::string flags = "01";
    if (trace.empty()) {
        trace = random_hex(16);
    } else {
        flags = std::string(incoming.substr(53, 2));
    }
    std::string span = random_hex(8);
    if (all_zero(span)) span[15] = '1';
    return "00-" + trace + "-" + span + "-" + flags;
}

}  // namespace cg::delivery
