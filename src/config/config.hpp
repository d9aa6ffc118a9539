#pragma once
// Service configuration (docs/api.md §6). Read from a KEY=VALUE file and the environment
// (environment wins); every value is validated at start-up and a bad one is a ConfigError
// with a one-line message naming the key.
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace cg::config {

class ConfigError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// Which parts of the service a process runs (cluster mode; embedded mode is always kAll).
enum class Role { kAll, kApi, kWorker };

struct Config {
    // docs/api.md §6 settings
    uint16_t port = 8080;
    std::string bind_address = "0.0.0.0";
    std::string data_dir = "./data";
    int64_t authorization_timeout_ms = 30000;
    int64_t callback_timeout_ms = 10000;
    int callback_max_attempts = 12;
    int64_t callback_retry_base_ms = 1000;
    int64_t callback_retry_max_ms = 3600000;
    bool callback_allow_private_networks = false;
    // CALLBACK_SIGNING_SECRET: `whsec_<base64>` secrets separated by spaces or commas, each
    // checked at load; callbacks carry one signature per secret, in this order. Empty: unsigned.
    std::vector<std::string> callback_signing_secrets;
    std::string authorizer_url;  // empty: built-in ACL
    std::string admin_token;     // empty: admin API on loopback only
    // ADMIN_ALLOWED_HOSTS: with admin_token empty, the Host names (lower case, no port) the
    // admin API answers besides loopback ones (DNS rebinding guard, docs/security.md T23).
    std::vector<std::string> admin_allowed_hosts;
    LogLevel log_level = LogLevel::kInfo;
    int workers = 0;  // 0 before load(): replaced by the number of cores

    // HTTPS (README): both set → the listener serves HTTPS only with this PEM certificate chain
    // and private key; both empty → plain HTTP. Each must be a readable file.
    std::string tls_cert_file;     // TLS_CERT_FILE
    std::string tls_key_file;      // TLS_KEY_FILE
    std::string callback_ca_file;  // CALLBACK_CA_FILE: PEM CAs for https callbacks; empty: system

    // Tuning (documented in the README)
    int http_threads = 0;  // HTTP_THREADS; 0 → min(cores, 4)
    // CALLBACK_HTTP_CLIENT: "beast" (default) or "curl", the HTTP client callbacks go through.
    std::string callback_http_client = "beast";
    int callback_max_concurrency = 1024;  // CALLBACK_MAX_CONCURRENCY: callbacks in flight
    // The adaptive in-flight limit of each receiver stays within these (docs/api.md §2).
    int callback_min_per_host = 4;        // CALLBACK_MIN_PER_HOST (lowered to the maximum if above)
    int callback_max_per_host = 256;      // CALLBACK_MAX_PER_HOST: connections per receiver
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
    // COMMIT_INTERVAL_US: extra wait to grow a batch; unset: 0, except in a cluster process that
    // runs workers only (commit_interval()).
    std::optional<int64_t> commit_interval_us;
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

    // Client authentication of the public API (docs/security.md). Off by default only so the
    // quick start works; `serve` warns loudly while it is off.
    bool api_auth = false;               // API_AUTH: on → §1 and §3 need an API key or a JWT
    int64_t api_keys_refresh_ms = 2000;  // API_KEYS_REFRESH_MS: how soon key changes apply

    // JWT bearer tokens (src/auth/; README "JWT bearer tokens"). JWT is on when any key source
    // is set.
    std::string jwt_hs256_secret;          // JWT_HS256_SECRET: raw shared secret, at least 32 bytes
    std::string jwt_public_key_file;       // JWT_PUBLIC_KEY_FILE: PEM public key, RSA or EC P-256
    std::string jwt_jwks_file;             // JWT_JWKS_FILE: JWKS with RSA and EC P-256 keys
    std::string jwt_issuer;                // JWT_ISSUER: required `iss` when set
    std::string jwt_audience;              // JWT_AUDIENCE: required member of `aud` when set
    int64_t jwt_clock_skew_s = 60;         // JWT_CLOCK_SKEW_SECONDS: leeway for exp/nbf/iat
    std::string jwt_client_claim = "sub";  // JWT_CLIENT_CLAIM: claim holding the client id

    [[nodiscard]] bool jwt_enabled() const {
        return !jwt_hs256_secret.empty() || !jwt_public_key_file.empty() || !jwt_jwks_file.empty();
    }

    [[nodiscard]] bool cluster() const { return !database_url.empty(); }
    [[nodiscard]] bool runs_api() const { return role != Role::kWorker; }
    [[nodiscard]] bool runs_workers() const { return role != Role::kApi; }
    // The group commit's extra wait. A cluster worker process writes nothing a client waits
    // for (decisions, attempts), and PostgreSQL's cost per transaction is mostly fixed: its
    // default of 5 ms (with the Redis reader's 10 ms gathering) took 1 API x 2 workers from
    // 4,709 to 6,221-6,485 sessions/s and PostgreSQL from 0.179 to 0.125-0.132 ms per session
    // (docs/performance.md).
    [[nodiscard]] int64_t commit_interval() const {
        if (commit_interval_us) return *commit_interval_us;
        return cluster() && role == Role::kWorker ? kWorkerCommitIntervalUs : 0;
    }
    static constexpr int64_t kWorkerCommitIntervalUs = 5000;
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
