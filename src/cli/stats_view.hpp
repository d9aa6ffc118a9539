#pragma once
// The arithmetic and the screen of `chargegate stats`: snapshots of GET /api/v1/admin/stats
// (docs/operations.md), rates from the difference of two snapshots, latency percentiles from
// the difference of their histograms, and the text of one screen. Pure functions, no I/O.
#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cg::cli {

// One latency histogram as the admin API sends it: `bounds` are ascending upper bounds in
// seconds; `buckets` are per-bucket counts (not cumulative), one more than `bounds`, the last
// one the +Inf bucket.
struct Histogram {
    std::vector<double> bounds;
    std::vector<uint64_t> buckets;
    uint64_t count = 0;
    double sum = 0;

    [[nodiscard]] bool well_formed() const { return buckets.size() == bounds.size() + 1; }
    [[nodiscard]] uint64_t total() const;
};

// What happened between two reads of the same histogram (`later` minus `earlier`): nullopt when
// they cannot be compared (other bounds, or a count went down because the service restarted).
std::optional<Histogram> histogram_difference(const Histogram& later, const Histogram& earlier);

struct Quantile {
    double seconds = 0;
    // The quantile lies in the +Inf bucket: it is more than `seconds` (the highest bound).
    bool above_top = false;
};

// The q-quantile (0 < q <= 1) with linear interpolation inside the bucket it falls in, like
// Prometheus' histogram_quantile (the first bucket starts at 0). nullopt for an empty or
// malformed histogram.
std::optional<Quantile> histogram_quantile(const Histogram& h, double q);

struct ReceiverFailure {
    std::string receiver;
    int64_t failures = 0;
    int64_t consecutive_failures = 0;
    std::optional<int64_t> last_status_code;
    std::string last_error;
    std::string last_failure_at;
    // Its in-flight limit; none while no delivery to it is active, or from an older server.
    std::optional<int64_t> concurrency_limit;
};

// How deliveries to one of the busiest receivers flow (its adaptive limit and its use).
struct ReceiverFlow {
    std::string receiver;
    int64_t concurrency_limit = 0;
    int64_t in_flight = 0;
    int64_t waiting = 0;
    std::string paused_until;  // RFC 3339; empty: not paused
    int64_t delivered = 0;
};

struct StatsSnapshot {
    std::string version;
    std::string role;
    std::string time;
    double uptime_seconds = 0;
    // Counters flattened with dots: "accepted", "decided.allowed", "dead_lettered", ...
    std::map<std::string, int64_t> counters;
    int64_t queue_depth = 0;
    double oldest_queued_age_seconds = 0;
    int64_t authorizations_in_flight = 0;
    int64_t callback_pending = 0;
    int64_t callback_in_flight = 0;
    bool store_writable = true;
    std::string circuit_state;  // empty: no circuit (built-in ACL)
    std::map<std::string, Histogram> latency;
    std::vector<ReceiverFailure> receivers;
    // The busiest receivers, busiest first; nullopt from a server that does not send them.
    std::optional<std::vector<ReceiverFlow>> receiver_flow;

    [[nodiscard]] int64_t counter(const std::string& name) const;
};

// Reads the stats answer; throws AdminError when it is not one (no "counters" object).
StatsSnapshot parse_stats(const boost::json::object& o);

// Per-second rate of a counter between two snapshots of the same process, from the service's
// own uptime (so a slow read does not skew it). nullopt without an earlier snapshot, when no
// time passed, or when the service restarted in between (uptime or the counter went down).
std::optional<double> counter_rate(const StatsSnapshot& now, const StatsSnapshot* earlier,
                                   const std::string& name);

struct StatsScreenOptions {
    std::string url;
    double interval_seconds = 2;
    bool once = false;  // one snapshot: totals and lifetime percentiles, no rates
};

// The text of one screen (no terminal control sequences). With `earlier`, rates and the
// percentiles of the last interval; without, totals and lifetime percentiles.
std::string render_stats(const StatsSnapshot& now, const StatsSnapshot* earlier,
                         const StatsScreenOptions& options);

// "850us", "12.3ms", "1.25s", "2m05s": a latency or age for a narrow column.
std::string format_seconds(double seconds);

}  // namespace cg::cli
