#include "cli/stats_view.hpp"

#include <algorithm>
#include <cmath>

#include "cli/admin_client.hpp"
#include "cli/json_fields.hpp"
#include "cli/text_table.hpp"

namespace cg::cli {

namespace {

Histogram parse_histogram(const boost::json::object& o) {
    Histogram h;
    if (const auto* bounds = json::array(o, "bounds")) {
        for (const auto& b : *bounds) {
            if (b.is_number()) h.bounds.push_back(b.to_number<double>());
        }
    }
    if (const auto* buckets = json::array(o, "buckets")) {
        for (const auto& b : *buckets) {
            if (b.is_int64() && b.as_int64() >= 0) {
                h.buckets.push_back(static_cast<uint64_t>(b.as_int64()));
            } else if (b.is_uint64()) {
                h.buckets.push_back(b.as_uint64());
            } else {
                h.buckets.push_back(0);
            }
        }
    }
    h.count = static_cast<uint64_t>(std::max<int64_t>(0, json::integer(o, "count")));
    h.sum = json::number(o, "sum");
    return h;
}

// Counters, nested objects flattened with dots ("decided.allowed").
void flatten_counters(const boost::json::object& o, const std::string& prefix,
                      std::map<std::string, int64_t>& out) {
    for (const auto& [key, value] : o) {
        const std::string name = prefix + std::string(key);
        if (value.is_object()) {
            flatten_counters(value.as_object(), name + ".", out);
        } else if (value.is_number()) {
            out[name] = json::integer(o, key);
        }
    }
}

std::string format_uptime(double seconds) {
    const auto s = static_cast<int64_t>(std::max(0.0, seconds));
    if (s < 60) return strf("%llds", static_cast<long long>(s));
    if (s < 3600)
        return strf("%lldm%02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
    if (s < 86400) {
        return strf("%lldh%02lldm%02llds", static_cast<long long>(s / 3600),
                    static_cast<long long>(s % 3600 / 60), static_cast<long long>(s % 60));
    }
    return strf("%lldd%02lldh%02lldm", static_cast<long long>(s / 86400),
                static_cast<long long>(s % 86400 / 3600), static_cast<long long>(s % 3600 / 60));
}

std::string format_rate(double per_second) {
    if (per_second >= 100) return strf("%.0f", per_second);
    return strf("%.2f", per_second);
}

std::string format_quantile(const std::optional<Quantile>& q) {
    if (!q) return "-";
    // Appended rather than `">" + ...`: GCC 12 at -O3 reports a false -Wrestrict on
    // operator+(const char*, std::string&&) (GCC bug 105329).
    std::string out = q->above_top ? ">" : "";
    out += format_seconds(q->seconds);
    return out;
}

struct CounterRow {
    const char* key;
    const char* label;
};

constexpr CounterRow kCounterRows[] = {
    {"accepted", "accepted"},
    {"replayed", "replayed"},
    {"rejected", "rejected"},
    {"decided.allowed", "decided allowed"},
    {"decided.not_allowed", "decided not_allowed"},
    {"decided.unknown", "decided unknown"},
    {"delivered", "delivered"},
    {"attempts_failed", "attempts failed"},
    {"retries_scheduled", "retries scheduled"},
    {"dead_lettered", "dead-lettered"},
};

std::string latency_label(const std::string& name) {
    return name == "end_to_end" ? "end-to-end" : name;
}

}  // namespace

uint64_t Histogram::total() const {
    uint64_t n = 0;
    for (const auto b : buckets) n += b;
    return n;
}

std::optional<Histogram> histogram_difference(const Histogram& later, const Histogram& earlier) {
    if (!later.well_formed() || !earlier.well_formed() || later.bounds != earlier.bounds) {
        return std::nullopt;
    }
    Histogram d;
    d.bounds = later.bounds;
    d.buckets.resize(later.buckets.size());
    for (size_t i = 0; i < later.buckets.size(); ++i) {
        if (later.buckets[i] < earlier.buckets[i]) return std::nullopt;  // a restart
        d.buckets[i] = later.buckets[i] - earlier.buckets[i];
    }
    d.count = later.count >= earlier.count ? later.count - earlier.count : d.total();
    d.sum = std::max(0.0, later.sum - earlier.sum);
    return d;
}

std::optional<Quantile> histogram_quantile(const Histogram& h, double q) {
    if (!h.well_formed() || !(q > 0)) return std::nullopt;
    q = std::min(q, 1.0);
    const uint64_t total = h.total();
    if (total == 0) return std::nullopt;
    const double rank = q * static_cast<double>(total);
    double below = 0;  // observations in the buckets before i
    for (size_t i = 0; i < h.buckets.size(); ++i) {
        const auto in_bucket = static_cast<double>(h.buckets[i]);
        if (h.buckets[i] > 0 && below + in_bucket >= rank) {
            if (i == h.bounds.size()) {
                return Quantile{h.bounds.empty() ? 0.0 : h.bounds.back(), true};
            }
            const double lower = i == 0 ? 0.0 : h.bounds[i - 1];
            const double upper = h.bounds[i];
            return Quantile{lower + (upper - lower) * ((rank - below) / in_bucket), false};
        }
        below += in_bucket;
    }
    return std::nullopt;  // not reached: the last non-empty bucket always holds the rank
}

int64_t StatsSnapshot::counter(const std::string& name) const {
    const auto it = counters.find(name);
    return it == counters.end() ? 0 : it->second;
}

StatsSnapshot parse_stats(const boost::json::object& o) {
    const auto* counters = json::object(o, "counters");
    if (counters == nullptr) {
        throw AdminError("the stats answer has no \"counters\" (is this a chargegate service?)");
    }
    StatsSnapshot s;
    s.version = json::text(o, "version", "?");
    s.role = json::text(o, "role", "?");
    s.time = json::text(o, "time");
    s.uptime_seconds = json::number(o, "uptime_seconds");
    flatten_counters(*counters, "", s.counters);
    if (const auto* g = json::object(o, "gauges")) {
        s.queue_depth = json::integer(*g, "queue_depth");
        s.oldest_queued_age_seconds = json::number(*g, "oldest_queued_age_seconds");
        s.authorizations_in_flight = json::integer(*g, "authorizations_in_flight");
        s.callback_pending = json::integer(*g, "callback_pending");
        s.callback_in_flight = json::integer(*g, "callback_in_flight");
        if (const auto* w = json::field(*g, "store_writable"); w != nullptr && w->is_bool()) {
            s.store_writable = w->as_bool();
        }
        s.circuit_state = json::text(*g, "circuit_state");
    }
    if (const auto* latency = json::object(o, "latency")) {
        for (const auto& [name, value] : *latency) {
            if (value.is_object())
                s.latency[std::string(name)] = parse_histogram(value.as_object());
        }
    }
    if (const auto* receivers = json::array(o, "receivers")) {
        for (const auto& v : *receivers) {
            if (!v.is_object()) continue;
            const auto& r = v.as_object();
            ReceiverFailure f;
            f.receiver = json::text(r, "receiver", "?");
            f.failures = json::integer(r, "failures");
            f.consecutive_failures = json::integer(r, "consecutive_failures");
            if (json::has_number(r, "last_status_code")) {
                f.last_status_code = json::integer(r, "last_status_code");
            }
            f.last_error = json::text(r, "last_error");
            f.last_failure_at = json::text(r, "last_failure_at");
            if (json::has_number(r, "concurrency_limit")) {
                f.concurrency_limit = json::integer(r, "concurrency_limit");
            }
            s.receivers.push_back(std::move(f));
        }
    }
    if (const auto* flow = json::array(o, "receiver_flow")) {
        auto& list = s.receiver_flow.emplace();
        for (const auto& v : *flow) {
            if (!v.is_object()) continue;
            const auto& r = v.as_object();
            ReceiverFlow f;
            f.receiver = json::text(r, "receiver", "?");
            f.concurrency_limit = json::integer(r, "concurrency_limit");
            f.in_flight = json::integer(r, "in_flight");
            f.waiting = json::integer(r, "waiting");
            f.paused_until = json::text(r, "paused_until");
            f.delivered = json::integer(r, "delivered");
            list.push_back(std::move(f));
        }
    }
    return s;
}

std::optional<double> counter_rate(const StatsSnapshot& now, const StatsSnapshot* earlier,
                                   const std::string& name) {
    if (earlier == nullptr) return std::nullopt;
    const double dt = now.uptime_seconds - earlier->uptime_seconds;
    if (!(dt > 0)) return std::nullopt;
    const int64_t before = earlier->counter(name);
    const int64_t after = now.counter(name);
    if (after < before) return std::nullopt;
    return static_cast<double>(after - before) / dt;
}

std::string format_seconds(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return "-";
    if (seconds < 0.001) return strf("%.0fus", seconds * 1e6);
    if (seconds < 0.01) return strf("%.2fms", seconds * 1e3);
    if (seconds < 1) return strf("%.1fms", seconds * 1e3);
    if (seconds < 60) return strf("%.2fs", seconds);
    return format_uptime(seconds);
}

std::string render_stats(const StatsSnapshot& now, const StatsSnapshot* earlier,
                         const StatsScreenOptions& options) {
    const bool rates = !options.once;
    std::string out =
        strf("chargegate %s  role %s  up %s  %s  %s\n", now.version.c_str(), now.role.c_str(),
             format_uptime(now.uptime_seconds).c_str(), options.url.c_str(), now.time.c_str());
    if (options.once) {
        out += "one snapshot: totals since the service started\n\n";
    } else {
        out +=
            strf("every %gs, rates over the last read; Ctrl-C quits\n\n", options.interval_seconds);
    }

    // A restart between two reads makes their difference meaningless: show totals only.
    const bool restarted = earlier != nullptr && now.uptime_seconds < earlier->uptime_seconds;
    const StatsSnapshot* base = restarted ? nullptr : earlier;

    TextTable counters(rates ? std::vector<std::string>{"", "total", "per second"}
                             : std::vector<std::string>{"", "total"},
                       {false, true, true});
    for (const auto& row : kCounterRows) {
        std::vector<std::string> cells{
            row.label,
            group_thousands(static_cast<uint64_t>(std::max<int64_t>(0, now.counter(row.key))))};
        if (rates) {
            const auto r = counter_rate(now, base, row.key);
            cells.push_back(r ? format_rate(*r) : "-");
        }
        counters.add(std::move(cells));
    }
    out += counters.str();
    if (rates && base == nullptr) {
        out += restarted ? "(the service restarted; rates from the next read)\n"
                         : "(rates from the next read)\n";
    }

    const std::string oldest =
        now.queue_depth > 0 || now.oldest_queued_age_seconds > 0
            ? " (oldest " + format_seconds(now.oldest_queued_age_seconds) + ")"
            : "";
    out +=
        strf("\nqueue depth %lld%s   authorizing %lld   callbacks pending %lld, in flight %lld\n",
             static_cast<long long>(now.queue_depth), oldest.c_str(),
             static_cast<long long>(now.authorizations_in_flight),
             static_cast<long long>(now.callback_pending),
             static_cast<long long>(now.callback_in_flight));
    out +=
        strf("store %s   authorizer circuit %s\n", now.store_writable ? "writable" : "NOT WRITABLE",
             now.circuit_state.empty() ? "- (built-in ACL)" : now.circuit_state.c_str());

    // Latency: over the last interval when there is an earlier read, else since start.
    std::vector<std::string> names;
    for (const char* n : {"accept", "authorization", "callback", "end_to_end"}) {
        if (now.latency.count(n) != 0) names.emplace_back(n);
    }
    for (const auto& [name, h] : now.latency) {
        if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
    const std::string span = base != nullptr
                                 ? strf("last %.1fs", now.uptime_seconds - base->uptime_seconds)
                                 : "since start";
    TextTable latency({"latency, " + span, "count", "p50", "p95", "p99"},
                      {false, true, true, true, true});
    for (const auto& name : names) {
        const Histogram& h = now.latency.at(name);
        std::optional<Histogram> window = h;
        if (base != nullptr) {
            const auto it = base->latency.find(name);
            window = it == base->latency.end() ? std::optional<Histogram>(h)
                                               : histogram_difference(h, it->second);
        }
        if (!window) {
            latency.add({latency_label(name), "-", "-", "-", "-"});
            continue;
        }
        latency.add({latency_label(name), group_thousands(window->total()),
                     format_quantile(histogram_quantile(*window, 0.50)),
                     format_quantile(histogram_quantile(*window, 0.95)),
                     format_quantile(histogram_quantile(*window, 0.99))});
    }
    out += '\n';
    out += latency.str();

    // An older server sends no flow: the section is left out rather than shown empty.
    if (now.receiver_flow) {
        if (now.receiver_flow->empty()) {
            out += "\nreceivers: no deliveries in flight\n";
        } else {
            out += "\nreceivers (most deliveries in flight or waiting first)\n";
            TextTable flow({"receiver", "limit", "in flight", "waiting", "paused until"},
                           {false, true, true, true, false});
            for (const auto& f : *now.receiver_flow) {
                flow.add({clip(f.receiver, 40), std::to_string(f.concurrency_limit),
                          std::to_string(f.in_flight), std::to_string(f.waiting),
                          f.paused_until.empty() ? "-" : f.paused_until});
            }
            out += flow.str();
        }
    }

    if (now.receivers.empty()) {
        out += "\nfailing receivers: none\n";
    } else {
        out += "\nfailing receivers (most consecutive failures first)\n";
        TextTable receivers({"receiver", "failures", "in a row", "limit", "last failure", "at"},
                            {false, true, true, true, false, false});
        for (const auto& r : now.receivers) {
            std::string last = r.last_status_code ? std::to_string(*r.last_status_code) : "";
            if (!r.last_error.empty()) last += (last.empty() ? "" : " ") + r.last_error;
            receivers.add({clip(r.receiver, 40), std::to_string(r.failures),
                           std::to_string(r.consecutive_failures),
                           r.concurrency_limit ? std::to_string(*r.concurrency_limit) : "-",
                           clip(last.empty() ? "-" : last, 36), r.last_failure_at});
        }
        out += receivers.str();
    }
    return out;
}

}  // namespace cg::cli
