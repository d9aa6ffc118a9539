#include "cli/ops_format.hpp"

#include "cli/json_fields.hpp"
#include "cli/text_table.hpp"

namespace cg::cli {

namespace {

std::string or_dash(const std::string& s) { return s.empty() ? "-" : s; }

std::string duration_ms(const boost::json::object& o) {
    if (!json::has_number(o, "duration_ms")) return "-";
    return group_thousands(
               static_cast<uint64_t>(std::max<int64_t>(0, json::integer(o, "duration_ms")))) +
           " ms";
}

}  // namespace

std::string status_or_error(const boost::json::object& o, const char* status_key,
                            const char* error_key) {
    std::string out;
    if (json::has_number(o, status_key)) out = std::to_string(json::integer(o, status_key));
    const std::string error = json::text(o, error_key);
    if (!error.empty()) out += (out.empty() ? "" : " ") + error;
    return or_dash(out);
}

std::string format_request_history(const boost::json::object& r) {
    TextTable head({"", ""});
    auto row = [&head](const char* label, const std::string& value) {
        head.add({label, or_dash(value)});
    };
    row("request", json::text(r, "request_id"));
    row("state", json::text(r, "state"));
    row("station", json::text(r, "station_id"));
    row("driver token", json::text(r, "driver_token"));
    row("client", json::text(r, "client_id"));
    row("created", json::text(r, "created_at"));
    if (const auto* d = json::object(r, "decision")) {
        row("decision", json::text(*d, "status", "?") + " (" + json::text(*d, "reason", "?") +
                            ") at " + json::text(*d, "decided_at", "?"));
    } else {
        row("decision", "not decided yet");
    }
    row("callback url", json::text(r, "callback_url"));
    row("trace id", json::text(r, "trace_id"));
    if (const auto* cb = json::object(r, "callback")) {
        row("delivered", json::text(*cb, "delivered_at"));
        row("next attempt", json::text(*cb, "next_attempt_at"));
        row("last result", status_or_error(*cb, "last_status_code", "last_error"));
    }
    const std::string head_text = head.str();

    const auto* attempts = json::array(r, "attempts");
    if (attempts == nullptr || attempts->empty()) {
        return head_text + "\nno callback attempts yet\n";
    }
    TextTable table({"#", "started", "duration", "result"}, {true, false, true, false});
    for (const auto& v : *attempts) {
        if (!v.is_object()) continue;
        const auto& a = v.as_object();
        table.add(
            {json::has_number(a, "attempt") ? std::to_string(json::integer(a, "attempt")) : "?",
             or_dash(json::text(a, "started_at")), duration_ms(a),
             status_or_error(a, "status_code", "error")});
    }
    return head_text +
           strf("\n%zu callback attempt%s\n", table.rows() - 1, table.rows() == 2 ? "" : "s") +
           table.str();
}

std::string format_dead_letters(const std::vector<boost::json::object>& items, int64_t total) {
    if (items.empty()) {
        return total > 0
                   ? strf("no dead letters shown (total %lld)\n", static_cast<long long>(total))
                   : "no dead letters\n";
    }
    TextTable table({"request id", "station", "attempts", "last status/error", "created at"},
                    {false, false, true, false, false});
    for (const auto& d : items) {
        table.add(
            {or_dash(json::text(d, "request_id")), or_dash(json::text(d, "station_id")),
             json::has_number(d, "attempts") ? std::to_string(json::integer(d, "attempts")) : "-",
             clip(status_or_error(d, "last_status_code", "last_error"), 40),
             or_dash(json::text(d, "created_at"))});
    }
    const auto shown = static_cast<long long>(items.size());
    return table.str() + strf("%lld of %lld dead letter%s shown\n", shown,
                              static_cast<long long>(std::max<int64_t>(total, shown)),
                              std::max<int64_t>(total, shown) == 1 ? "" : "s");
}

}  // namespace cg::cli
