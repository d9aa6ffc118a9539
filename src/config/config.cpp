#include "config/config.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "common/base64.hpp"
#include "common/text.hpp"

namespace cg::config {

namespace {

// Every key chargegate reads; environment() copies only these.
constexpr const char* kKnownKeys[] = {"PORT",
                                      "BIND_ADDRESS",
                                      "DATA_DIR",
                                      "AUTHORIZATION_TIMEOUT_MS",
                                      "CALLBACK_TIMEOUT_MS",
                                      "CALLBACK_MAX_ATTEMPTS",
                                      "CALLBACK_RETRY_BASE_MS",
                                      "CALLBACK_RETRY_MAX_MS",
                                      "CALLBACK_ALLOW_PRIVATE_NETWORKS",
                                      "CALLBACK_SIGNING_SECRET",
                                      "AUTHORIZER_URL",
                                      "ADMIN_TOKEN",
                                      "ADMIN_ALLOWED_HOSTS",
                                      "LOG_LEVEL",
                                      "WORKERS",
                                      "HTTP_THREADS",
                                      "CALLBACK_MAX_CONCURRENCY",
                                      "CALLBACK_MAX_PER_HOST",
                                      "CALLBACK_MIN_PER_HOST",
                                      "CALLBACK_HTTP_CLIENT",
                                      "AUTHORIZER_MAX_CONCURRENCY",
                                      "AUTHORIZER_CACHE_TTL_MS",
                                      "AUTHORIZER_CACHE_MAX_ENTRIES",
                                      "AUTHORIZER_BREAKER_WINDOW_MS",
                                      "AUTHORIZER_BREAKER_MIN_CALLS",
                                      "AUTHORIZER_BREAKER_FAILURE_PERCENT",
                                      "AUTHORIZER_BREAKER_OPEN_MS",
                                      "AUTHORIZER_BREAKER_PROBES",
                                      "MAX_QUEUE_DEPTH",
                                      "MAX_CONNECTIONS",
                                      "HTTP_IDLE_TIMEOUT_MS",
                                      "HTTP_REQUEST_TIMEOUT_MS",
                                      "MAX_CONNECTIONS_PER_CLIENT",
                                      "DRAIN_TIMEOUT_MS",
                                      "COMMIT_INTERVAL_US",
                                      "IDEMPOTENCY_TTL_MS",
                                      "RATE_LIMIT_PER_SECOND",
                                      "RATE_LIMIT_BURST",
                                      "RATE_LIMIT_REDIS_TIMEOUT_MS",
                                      "DATABASE_URL",
                                      "REDIS_URL",
                                      "ROLE",
                                      "CLUSTER_TAKEOVER_MS",
                                      "MIGRATE_ON_START",
                                      "INSTANCE_ID",
                                      "REDIS_STREAM_PREFIX",
                                      "API_AUTH",
                                      "API_KEYS_REFRESH_MS",
                                      "TLS_CERT_FILE",
                                      "TLS_KEY_FILE",
                                      "CALLBACK_CA_FILE",
                                      "JWT_HS256_SECRET",
                                      "JWT_PUBLIC_KEY_FILE",
                                      "JWT_JWKS_FILE",
                                      "JWT_ISSUER",
                                      "JWT_AUDIENCE",
                                      "JWT_CLOCK_SKEW_SECONDS",
                                      "JWT_CLIENT_CLAIM"};

// Edit distance (insertions, deletions, substitutions) between two short keys, for "did you
// mean". Written here: a dozen lines over strings of at most ~30 characters, where pulling in a
// string-metrics library would cost more than it saves.
size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
            diagonal = above;
        }
    }
    return row[b.size()];
}

bool is_known_key(std::string_view key) {
    return std::any_of(std::begin(kKnownKeys), std::end(kKnownKeys),
                       [key](const char* k) { return key == k; });
}

// The known key closest to `key` (case ignored), when it is close enough to be the likely
// intent: at most a third of its letters differ (at least 2 allowed). Empty otherwise.
std::string closest_known_key(std::string_view key) {
    const std::string lower = to_lower_ascii(key);
    std::string best;
    size_t best_distance = std::max<size_t>(2, lower.size() / 3) + 1;
    for (const char* k : kKnownKeys) {
        const size_t d = edit_distance(lower, to_lower_ascii(k));
        if (d < best_distance) {
            best_distance = d;
            best = k;
        }
    }
    return best;
}

std::string trim(std::string_view s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string_view::npos) return {};
    const auto e = s.find_last_not_of(" \t\r");
    return std::string(s.substr(b, e - b + 1));
}

int64_t parse_int(const std::string& key, const std::string& value, int64_t min, int64_t max) {
    int64_t out = 0;
    const auto* end = value.data() + value.size();
    auto [p, ec] = std::from_chars(value.data(), end, out);
    if (ec != std::errc{} || p != end) {
        throw ConfigError(key + ": expected a whole number, got \"" + value + "\"");
    }
    if (out < min || out > max) {
        throw ConfigError(key + ": " + value + " is out of range [" + std::to_string(min) + ", " +
                          std::to_string(max) + "]");
    }
    return out;
}

// A decimal number without exponent or sign, e.g. "2" or "0.5".
double parse_decimal(const std::string& key, const std::string& value, double min, double max) {
    double out = 0;
    const auto* end = value.data() + value.size();
    auto [p, ec] = std::from_chars(value.data(), end, out, std::chars_format::fixed);
    if (ec != std::errc{} || p != end || value.empty() || value[0] == '-' || value[0] == '+') {
        throw ConfigError(key + ": expected a decimal number, got \"" + value + "\"");
    }
    if (!(out >= min && out <= max)) {
        throw ConfigError(key + ": " + value + " is out of range [" + std::to_string(min) + ", " +
                          std::to_string(max) + "]");
    }
    return out;
}

bool parse_bool(const std::string& key, const std::string& value) {
    const auto v = to_lower_ascii(value);
    if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
    if (v == "false" || v == "0" || v == "no" || v == "off") return false;
    throw ConfigError(key + ": expected true or false, got \"" + value + "\"");
}

// ADMIN_ALLOWED_HOSTS: comma-separated host names or bracketed IPv6 literals, without port,
// kept in lower case. An empty list is fine (loopback only); an empty or malformed entry is an
// error, so that a typo does not silently lock the operator out or let a wrong name in.
std::vector<std::string> parse_allowed_hosts(const std::string& value) {
    std::vector<std::string> out;
    if (trim(value).empty()) return out;
    size_t pos = 0;
    for (;;) {
        const auto comma = value.find(',', pos);
        const auto name = to_lower_ascii(trim(std::string_view(value).substr(
            pos, comma == std::string::npos ? std::string::npos : comma - pos)));
        const bool ipv6 = name.size() > 2 && name.front() == '[' && name.back() == ']' &&
                          name.find_first_not_of("0123456789abcdef:.", 1) == name.size() - 1;
        const bool hostname =
            !name.empty() && name.size() <= 253 && name.front() != '.' && name.front() != '-' &&
            name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") == std::string::npos;
        if (!ipv6 && !hostname) {
            throw ConfigError("ADMIN_ALLOWED_HOSTS: \"" + name +
                              "\" is not a host name (letters, digits, '-' and '.', or an IPv6 "
                              "address in brackets; no port, comma-separated)");
        }
        out.push_back(name);
        if (comma == std::string::npos) break;
        pos = comma + 1;
    }
    return out;
}

LogLevel parse_level(const std::string& value) {
    const auto v = to_lower_ascii(value);
    if (v == "debug") return LogLevel::kDebug;
    if (v == "info") return LogLevel::kInfo;
    if (v == "warn" || v == "warning") return LogLevel::kWarn;
    if (v == "error") return LogLevel::kError;
    throw ConfigError("LOG_LEVEL: expected DEBUG, INFO, WARN or ERROR, got \"" + value + "\"");
}

// A file setting: empty means unset; otherwise the file must exist and be readable now, so a
// typo is a start-up error rather than a failure at the first connection.
std::string readable_file(const std::string& key, const std::string& path) {
    if (path.empty()) return path;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        throw ConfigError(key + ": " + path + " is not a file");
    }
    std::ifstream in(path);
    if (!in || in.peek() == std::ifstream::traits_type::eof()) {
        throw ConfigError(key + ": " + path + " cannot be read or is empty");
    }
    return path;
}

// CALLBACK_SIGNING_SECRET: secrets separated by spaces or commas. The message names a bad
// secret by its position, never by its value.
std::vector<std::string> parse_signing_secrets(const std::string& value) {
    auto secrets = split_any(value, " ,\t");
    for (size_t i = 0; i < secrets.size(); ++i) {
        const std::string which = "CALLBACK_SIGNING_SECRET: secret " + std::to_string(i + 1) +
                                  " of " + std::to_string(secrets.size());
        if (secrets[i].rfind("whsec_", 0) != 0) {
            throw ConfigError(which + " must start with whsec_");
        }
        const auto key = base64_decode(std::string_view(secrets[i]).substr(6));
        if (!key || key->empty()) {
            throw ConfigError(which + ": the part after whsec_ must be non-empty base64");
        }
    }
    return secrets;
}

// The JWT_* keys. The key files are read by auth::make_jwt_verifier, which reports their
// errors; here only the values themselves are checked.
template <typename Get>
void load_jwt(Get& get, Config& c) {
    if (auto* s = get("JWT_HS256_SECRET")) {
        if (!s->empty() && s->size() < 32) {
            throw ConfigError("JWT_HS256_SECRET: must be at least 32 bytes (RFC 7518 §3.2)");
        }
        c.jwt_hs256_secret = *s;
    }
    if (auto* s = get("JWT_PUBLIC_KEY_FILE")) c.jwt_public_key_file = *s;
    if (auto* s = get("JWT_JWKS_FILE")) c.jwt_jwks_file = *s;
    if (auto* s = get("JWT_ISSUER")) c.jwt_issuer = *s;
    if (auto* s = get("JWT_AUDIENCE")) c.jwt_audience = *s;
    if (auto* s = get("JWT_CLOCK_SKEW_SECONDS")) {
        c.jwt_clock_skew_s = parse_int("JWT_CLOCK_SKEW_SECONDS", *s, 0, 600);
    }
    if (auto* s = get("JWT_CLIENT_CLAIM")) {
        if (s->empty() || s->size() > 64) {
            throw ConfigError("JWT_CLIENT_CLAIM: 1 to 64 characters");
        }
        c.jwt_client_claim = *s;
    }
}

int cores() {
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 2 : static_cast<int>(n);
}

}  // namespace

std::map<std::string, std::string> read_config_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw ConfigError("config file " + path + ": cannot be read");
    std::map<std::string, std::string> out;
    std::string line;
    int lineno = 0;
    while (std::getline(in, line)) {
        ++lineno;
        const auto t = trim(line);
        if (t.empty() || t[0] == '#') continue;
        const auto eq = t.find('=');
        if (eq == std::string::npos || eq == 0) {
            throw ConfigError("config file " + path + ":" + std::to_string(lineno) +
                              ": expected KEY=VALUE");
        }
        auto key = trim(std::string_view(t).substr(0, eq));
        if (key.rfind("export ", 0) == 0) key = trim(std::string_view(key).substr(7));
        if (!is_known_key(key)) {
            // A typo (PROT=) would otherwise be ignored silently and the default used.
            std::string message =
                "config file " + path + ":" + std::to_string(lineno) + ": unknown key " + key;
            if (const auto near = closest_known_key(key); !near.empty()) {
                message += " (did you mean " + near + "?)";
            }
            throw ConfigError(message);
        }
        auto value = trim(std::string_view(t).substr(eq + 1));
        if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
            value.back() == value.front()) {
            value = value.substr(1, value.size() - 2);
        }
        out[key] = value;
    }
    return out;
}

std::map<std::string, std::string> environment() {
    std::map<std::string, std::string> out;
    for (const char* key : kKnownKeys) {
        if (const char* v = std::getenv(key)) out[key] = v;
    }
    return out;
}

Config load(const std::map<std::string, std::string>& file_values,
            const std::map<std::string, std::string>& env_values) {
    std::map<std::string, std::string> v = file_values;
    for (const auto& [k, val] : env_values) v[k] = val;
    auto get = [&](const char* key) -> const std::string* {
        auto it = v.find(key);
        return it == v.end() ? nullptr : &it->second;
    };
    constexpr int64_t kDay = 24LL * 3600 * 1000;
    Config c;
    if (auto* s = get("PORT")) c.port = static_cast<uint16_t>(parse_int("PORT", *s, 0, 65535));
    if (auto* s = get("BIND_ADDRESS")) {
        if (s->empty()) throw ConfigError("BIND_ADDRESS: must not be empty");
        c.bind_address = *s;
    }
    if (auto* s = get("DATA_DIR")) {
        if (s->empty()) throw ConfigError("DATA_DIR: must not be empty");
        c.data_dir = *s;
    }
    if (auto* s = get("AUTHORIZATION_TIMEOUT_MS")) {
        c.authorization_timeout_ms = parse_int("AUTHORIZATION_TIMEOUT_MS", *s, 1, kDay);
    }
    if (auto* s = get("CALLBACK_TIMEOUT_MS")) {
        c.callback_timeout_ms = parse_int("CALLBACK_TIMEOUT_MS", *s, 1, kDay);
    }
    if (auto* s = get("CALLBACK_MAX_ATTEMPTS")) {
        c.callback_max_attempts = static_cast<int>(parse_int("CALLBACK_MAX_ATTEMPTS", *s, 1, 1000));
    }
    if (auto* s = get("CALLBACK_RETRY_BASE_MS")) {
        c.callback_retry_base_ms = parse_int("CALLBACK_RETRY_BASE_MS", *s, 1, kDay);
    }
    if (auto* s = get("CALLBACK_RETRY_MAX_MS")) {
        c.callback_retry_max_ms = parse_int("CALLBACK_RETRY_MAX_MS", *s, 1, 30 * kDay);
    }
    if (c.callback_retry_max_ms < c.callback_retry_base_ms) {
        throw ConfigError("CALLBACK_RETRY_MAX_MS: must not be below CALLBACK_RETRY_BASE_MS");
    }
    if (auto* s = get("CALLBACK_ALLOW_PRIVATE_NETWORKS")) {
        c.callback_allow_private_networks = parse_bool("CALLBACK_ALLOW_PRIVATE_NETWORKS", *s);
    }
    if (auto* s = get("CALLBACK_SIGNING_SECRET")) {
        c.callback_signing_secrets = parse_signing_secrets(*s);
    }
    if (auto* s = get("AUTHORIZER_URL")) {
        if (!s->empty() && s->rfind("http://", 0) != 0 && s->rfind("https://", 0) != 0) {
            throw ConfigError("AUTHORIZER_URL: must be an http:// or https:// URL");
        }
        c.authorizer_url = *s;
    }
    if (auto* s = get("ADMIN_TOKEN")) c.admin_token = *s;
    if (auto* s = get("ADMIN_ALLOWED_HOSTS")) c.admin_allowed_hosts = parse_allowed_hosts(*s);
    if (auto* s = get("LOG_LEVEL")) c.log_level = parse_level(*s);
    c.workers = cores();
    if (auto* s = get("WORKERS")) c.workers = static_cast<int>(parse_int("WORKERS", *s, 1, 1024));
    c.http_threads = std::min(cores(), 4);
    if (auto* s = get("HTTP_THREADS")) {
        c.http_threads = static_cast<int>(parse_int("HTTP_THREADS", *s, 1, 256));
    }
    if (auto* s = get("CALLBACK_MAX_CONCURRENCY")) {
        c.callback_max_concurrency =
            static_cast<int>(parse_int("CALLBACK_MAX_CONCURRENCY", *s, 1, 100000));
    }
    if (auto* s = get("CALLBACK_MAX_PER_HOST")) {
        c.callback_max_per_host =
            static_cast<int>(parse_int("CALLBACK_MAX_PER_HOST", *s, 1, 10000));
    }
    if (auto* s = get("CALLBACK_HTTP_CLIENT")) {
        if (*s != "beast" && *s != "curl") {
            std::string m = "CALLBACK_HTTP_CLIENT: expected beast or curl, got \"";
            m.append(*s).append("\"");
            throw ConfigError(m);
        }
        c.callback_http_client = *s;
    }
    if (auto* s = get("CALLBACK_MIN_PER_HOST")) {
        c.callback_min_per_host =
            static_cast<int>(parse_int("CALLBACK_MIN_PER_HOST", *s, 1, 10000));
        if (c.callback_min_per_host > c.callback_max_per_host) {
            std::string m = "CALLBACK_MIN_PER_HOST (";
            m.append(std::to_string(c.callback_min_per_host))
                .append(") must not exceed CALLBACK_MAX_PER_HOST (")
                .append(std::to_string(c.callback_max_per_host))
                .append(")");
            throw ConfigError(m);
        }
    } else {
        c.callback_min_per_host = std::min(c.callback_min_per_host, c.callback_max_per_host);
    }
    if (auto* s = get("AUTHORIZER_MAX_CONCURRENCY")) {
        c.authorizer_max_concurrency =
            static_cast<int>(parse_int("AUTHORIZER_MAX_CONCURRENCY", *s, 1, 100000));
    }
    if (auto* s = get("AUTHORIZER_CACHE_TTL_MS")) {
        c.authorizer_cache_ttl_ms = parse_int("AUTHORIZER_CACHE_TTL_MS", *s, 0, 7 * kDay);
    }
    if (auto* s = get("AUTHORIZER_CACHE_MAX_ENTRIES")) {
        c.authorizer_cache_max_entries =
            parse_int("AUTHORIZER_CACHE_MAX_ENTRIES", *s, 0, 100'000'000);
    }
    if (auto* s = get("AUTHORIZER_BREAKER_WINDOW_MS")) {
        c.authorizer_breaker_window_ms = parse_int("AUTHORIZER_BREAKER_WINDOW_MS", *s, 100, kDay);
    }
    if (auto* s = get("AUTHORIZER_BREAKER_MIN_CALLS")) {
        c.authorizer_breaker_min_calls =
            static_cast<int>(parse_int("AUTHORIZER_BREAKER_MIN_CALLS", *s, 1, 65535));
    }
    if (auto* s = get("AUTHORIZER_BREAKER_FAILURE_PERCENT")) {
        c.authorizer_breaker_failure_percent =
            static_cast<int>(parse_int("AUTHORIZER_BREAKER_FAILURE_PERCENT", *s, 1, 100));
    }
    if (auto* s = get("AUTHORIZER_BREAKER_OPEN_MS")) {
        c.authorizer_breaker_open_ms = parse_int("AUTHORIZER_BREAKER_OPEN_MS", *s, 10, kDay);
    }
    if (auto* s = get("AUTHORIZER_BREAKER_PROBES")) {
        c.authorizer_breaker_probes =
            static_cast<int>(parse_int("AUTHORIZER_BREAKER_PROBES", *s, 1, 1000));
    }
    if (auto* s = get("MAX_QUEUE_DEPTH")) {
        c.max_queue_depth = parse_int("MAX_QUEUE_DEPTH", *s, 1, 1'000'000'000'000);
    }
    if (auto* s = get("HTTP_IDLE_TIMEOUT_MS")) {
        c.http_idle_timeout_ms = parse_int("HTTP_IDLE_TIMEOUT_MS", *s, 100, kDay);
    }
    if (auto* s = get("HTTP_REQUEST_TIMEOUT_MS")) {
        c.http_request_timeout_ms = parse_int("HTTP_REQUEST_TIMEOUT_MS", *s, 100, 3'600'000);
    }
    if (auto* s = get("MAX_CONNECTIONS")) {
        c.max_connections = parse_int("MAX_CONNECTIONS", *s, 1, 1'000'000);
    }
    if (auto* s = get("MAX_CONNECTIONS_PER_CLIENT")) {
        c.max_connections_per_client = parse_int("MAX_CONNECTIONS_PER_CLIENT", *s, 0, 1'000'000);
    }
    if (auto* s = get("DRAIN_TIMEOUT_MS")) {
        c.drain_timeout_ms = parse_int("DRAIN_TIMEOUT_MS", *s, 0, kDay);
    }
    if (auto* s = get("COMMIT_INTERVAL_US")) {
        c.commit_interval_us = parse_int("COMMIT_INTERVAL_US", *s, 0, 1'000'000);
    }
    if (auto* s = get("IDEMPOTENCY_TTL_MS")) {
        c.idempotency_ttl_ms = parse_int("IDEMPOTENCY_TTL_MS", *s, 1000, 365 * kDay);
    }
    if (auto* s = get("RATE_LIMIT_PER_SECOND")) {
        c.rate_limit_per_second = parse_decimal("RATE_LIMIT_PER_SECOND", *s, 0, 1'000'000);
        if (c.rate_limit_per_second > 0 && c.rate_limit_per_second < 0.001) {
            throw ConfigError("RATE_LIMIT_PER_SECOND: 0 (off) or at least 0.001");
        }
    }
    c.rate_limit_burst =
        std::max<int64_t>(1, static_cast<int64_t>(std::ceil(c.rate_limit_per_second)));
    if (auto* s = get("RATE_LIMIT_BURST")) {
        c.rate_limit_burst = parse_int("RATE_LIMIT_BURST", *s, 1, 1'000'000'000);
    }
    if (auto* s = get("RATE_LIMIT_REDIS_TIMEOUT_MS")) {
        c.rate_limit_redis_timeout_ms = parse_int("RATE_LIMIT_REDIS_TIMEOUT_MS", *s, 1, 10'000);
    }
    if (auto* s = get("DATABASE_URL")) c.database_url = *s;
    if (auto* s = get("REDIS_URL")) {
        if (!s->empty() && s->rfind("redis://", 0) != 0) {
            throw ConfigError("REDIS_URL: must be a redis:// URL");
        }
        c.redis_url = *s;
    }
    if (c.database_url.empty() != c.redis_url.empty()) {
        throw ConfigError(
            "DATABASE_URL and REDIS_URL: cluster mode needs both (embedded mode needs neither)");
    }
    if (auto* s = get("ROLE")) {
        const auto role = to_lower_ascii(*s);
        if (role == "all") {
            c.role = Role::kAll;
        } else if (role == "api") {
            c.role = Role::kApi;
        } else if (role == "worker") {
            c.role = Role::kWorker;
        } else {
            throw ConfigError("ROLE: must be all, api or worker");
        }
        if (c.role != Role::kAll && !c.cluster()) {
            throw ConfigError(
                "ROLE: api and worker need cluster mode (DATABASE_URL and REDIS_URL)");
        }
    }
    if (auto* s = get("CLUSTER_TAKEOVER_MS")) {
        c.cluster_takeover_ms = parse_int("CLUSTER_TAKEOVER_MS", *s, 500, kDay);
    }
    if (auto* s = get("MIGRATE_ON_START")) c.migrate_on_start = parse_bool("MIGRATE_ON_START", *s);
    if (auto* s = get("INSTANCE_ID")) {
        if (s->size() > 64 || s->find_first_of(" \t\r\n") != std::string::npos) {
            throw ConfigError("INSTANCE_ID: at most 64 characters, no spaces");
        }
        c.instance_id = *s;
    }
    if (auto* s = get("REDIS_STREAM_PREFIX")) {
        if (s->empty() || s->size() > 64) {
            throw ConfigError("REDIS_STREAM_PREFIX: 1 to 64 characters");
        }
        c.redis_stream_prefix = *s;
    }
    if (auto* s = get("API_AUTH")) c.api_auth = parse_bool("API_AUTH", *s);
    if (auto* s = get("API_KEYS_REFRESH_MS")) {
        c.api_keys_refresh_ms = parse_int("API_KEYS_REFRESH_MS", *s, 100, 3'600'000);
    }
    if (auto* s = get("TLS_CERT_FILE")) c.tls_cert_file = readable_file("TLS_CERT_FILE", *s);
    if (auto* s = get("TLS_KEY_FILE")) c.tls_key_file = readable_file("TLS_KEY_FILE", *s);
    if (c.tls_cert_file.empty() != c.tls_key_file.empty()) {
        throw ConfigError("TLS_CERT_FILE and TLS_KEY_FILE: HTTPS needs both (plain HTTP neither)");
    }
    if (auto* s = get("CALLBACK_CA_FILE")) {
        c.callback_ca_file = readable_file("CALLBACK_CA_FILE", *s);
    }
    load_jwt(get, c);
    return c;
}

std::string to_string(LogLevel level) {
    switch (level) {
        case LogLevel::kDebug:
            return "DEBUG";
        case LogLevel::kInfo:
            return "INFO";
        case LogLevel::kWarn:
            return "WARN";
        case LogLevel::kError:
            return "ERROR";
    }
    return "INFO";
}

}  // namespace cg::config
