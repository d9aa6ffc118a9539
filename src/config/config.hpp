#pragma once
// Service configuration (contract §6). Read from a KEY=VALUE file and the environment
// (environment wins); every value is validated at start-up and a bad one is a ConfigError
// with a one-line message naming the key.
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

namespace cg::config {

class ConfigError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// Which parts of the service a process runs (cluster mode; embedded mode is always kAll).
enum class Role { kAll, kApi, kWorker };

struct Config {
    // §6 contract settings
    uint16_t port = 8080;
    std::string bind_address = "0.0.0.0";
    std::string data_dir = "./data";
    int64_t authorization_timeout_ms = 30000;
    int64_t callback_timeout_ms = 10000;
    int callback_max_attempts = 12;
    int64_t callback_retry_base_ms = 1000;
    int64_t callback_retry_max_ms = 3600000;
    bool callback_allow_private_networks = false;
    std::string callback_signing_secret;  // "whsec_<base64>" or empty
    std::string authorizer_url;           // empty: built-in ACL
    std::string admin_token;              // empty: admin API on loopback only
    LogLevel log_level = LogLevel::kInfo;
    int workers = 0;  // 0 before load(): replaced by the number of cores

    // Tuning (documented in the README)
    int http_threads = 0;                 // HTTP_THREADS; 0 → min(cores, 4)
    int callback_max_concurrency = 256;   // CALLBACK_MAX_CONCURRENCY: callbacks in flight
    int callback_max_per_host = 32;       // CALLBACK_MAX_PER_HOST: connections per receiver
    int authorizer_max_concurrency = 64;  // AUTHORIZER_MAX_CONCURRENCY: remote calls in flight
    // Remote authorizer protection (ignored with the built-in ACL).
    int64_t authorizer_cache_ttl_ms = 300000;       // AUTHORIZER_CACHE_TTL_MS; 0: no cache
    int64_t authorizer_cache_max_entries = 100000;  // AUTHORIZER_CACHE_MAX_ENTRIES
    int64_t authorizer_breaker_window_ms = 10000;   // AUTHORIZER_BREAKER_WINDOW_MS
    int authorizer_breaker_min_calls = 20;          // AUTHORIZER_BREAKER_MIN_CALLS
    int authorizer_breaker_failure_percent = 50;    // AUTHORIZER_BREAKER_FAILURE_PERCENT
    int64_t authorizer_breaker_open_ms = 5000;      // AUTHORIZER_BREAKER_OPEN_MS
    int authorizer_breaker_probes = 3;              // AUTHORIZER_BREAKER_PROBES
    // MAX_QUEUE_DEPTH: accepted requests not yet finished (queued or awaiting delivery) before
    // new ones get 503; bounds the work a long receiver outage can pile up.
    int64_t max_queue_depth = 5'000'000;
    int64_t http_idle_timeout_ms = 60000;       // HTTP_IDLE_TIMEOUT_MS
    int64_t http_request_timeout_ms = 10000;    // HTTP_REQUEST_TIMEOUT_MS
    int64_t max_connections = 10000;            // MAX_CONNECTIONS
    int64_t max_connections_per_client = 1000;  // MAX_CONNECTIONS_PER_CLIENT; 0: no cap
    int64_t drain_timeout_ms = 10000;           // DRAIN_TIMEOUT_MS: SIGTERM grace period
    int64_t commit_interval_us = 0;             // COMMIT_INTERVAL_US: extra wait to grow a batch
    int64_t idempotency_ttl_ms = 24LL * 3600 * 1000;

    // Per-client rate limit of the public charging-session API (token bucket; README,
    // docs/architecture.md). Off by default: the quick start and the benchmarks send everything
    // from one address, which a default limit would throttle.
    double rate_limit_per_second = 0;  // RATE_LIMIT_PER_SECOND: tokens per second; 0 → off
    int64_t rate_limit_burst = 0;      // RATE_LIMIT_BURST: bucket size; 0 before load()
    // RATE_LIMIT_REDIS_TIMEOUT_MS (cluster mode): bound of one round trip to Redis before the
    // decision falls back to this process's own buckets.
    int64_t rate_limit_redis_timeout_ms = 50;
    [[nodiscard]] bool rate_limited() const { return rate_limit_per_second > 0; }

    // Cluster mode (docs/scaling.md): both URLs set → PostgreSQL is the store and Redis Streams
    // distribute the work; both empty → embedded SQLite. One without the other is an error.
    std::string database_url;             // DATABASE_URL: libpq conninfo or postgresql:// URI
    std::string redis_url;                // REDIS_URL: redis://[:password@]host[:port][/db]
    Role role = Role::kAll;               // ROLE: all | api | worker
    int64_t cluster_takeover_ms = 30000;  // CLUSTER_TAKEOVER_MS: a dead worker's work moves on
    bool migrate_on_start = false;        // MIGRATE_ON_START: apply PostgreSQL migrations at start
    std::string instance_id;              // INSTANCE_ID; empty → hostname-pid
    std::string redis_stream_prefix = "chargegate";  // REDIS_STREAM_PREFIX: key namespace

    [[nodiscard]] bool cluster() const { return !database_url.empty(); }
    [[nodiscard]] bool runs_api() const { return role != Role::kWorker; }
    [[nodiscard]] bool runs_workers() const { return role != Role::kApi; }
};

// Parses one environment-style file: `KEY=VALUE` lines, `#` comments, blank lines, optional
// surrounding quotes on the value. Throws ConfigError on a malformed line or unreadable file.
std::map<std::string, std::string> read_config_file(const std::string& path);

// Builds the configuration from `file_values` overridden by `env_values`. Unknown keys are
// ignored (so one file can hold settings of other tools). Throws ConfigError.
Config load(const std::map<std::string, std::string>& file_values,
            const std::map<std::string, std::string>& env_values);

// The process environment as a map (only the keys chargegate knows).
std::map<std::string, std::string> environment();

std::string to_string(LogLevel level);

}  // namespace cg::config
