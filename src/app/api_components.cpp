#include "app/api_components.hpp"

#include <thread>

#include "app/backends.hpp"
#include "ratelimit/memory_rate_limiter.hpp"

namespace cg::app {

namespace {

using Ms = std::chrono::milliseconds;

auth::JwtCheck jwt_check(const auth::JwtVerifier* jwt) {
    if (!jwt) return {};
    return [jwt](std::string_view token, int64_t now_s,
                 std::string& reason) -> std::optional<std::string> {
        auto r = jwt->verify(token, now_s);
        if (r.ok()) return std::move(r.client_id);
        reason = auth::to_string(r.error);
        return std::nullopt;
    };
}

}  // namespace

CredentialsComponent::CredentialsComponent(const config::Config& cfg,
                                           std::unique_ptr<auth::JwtVerifier> jwt)
    : jwt_(std::move(jwt)),
      directory_([&cfg] { return open_credentials(cfg, false); }, Ms(cfg.api_keys_refresh_ms)),
      authenticator_(cfg.api_auth, &directory_, jwt_check(jwt_.get())) {}

std::unique_ptr<RateLimiterComponent> RateLimiterComponent::make(const config::Config& cfg,
                                                                 const Clock& clock,
                                                                 obs::Metrics& metrics) {
    if (!cfg.rate_limited() || !cfg.runs_api()) return nullptr;
    const ratelimit::Settings limits{cfg.rate_limit_per_second, cfg.rate_limit_burst};
    if (cfg.cluster()) {
        auto redis = std::make_unique<ratelimit::RedisRateLimiter>(
            ratelimit::RedisOptions{cfg.redis_url, cfg.redis_stream_prefix + ":rl:", limits,
                                    Ms(cfg.rate_limit_redis_timeout_ms), Ms(1000), 256},
            clock, metrics);
        const auto* raw = redis.get();
        return std::make_unique<RateLimiterComponent>(std::move(redis), raw);
    }
    return std::make_unique<RateLimiterComponent>(
        std::make_unique<ratelimit::MemoryRateLimiter>(
            ratelimit::MemoryOptions{limits, 100'000, 64, 10'000, &metrics.rate_limit_overflows},
            clock),
        nullptr);
}

void RateLimiterComponent::gauges(std::vector<obs::GaugeSample>& out) const {
    if (!redis_) return;
    out.push_back({"rate_limit_redis_up",
                   "1 while the shared rate limit in Redis answers; 0 while each process limits "
                   "on its own (fail open)",
                   redis_->redis_up() ? 1.0 : 0.0, ""});
}

namespace {

api::ServerOptions server_options(const config::Config& cfg,
                                  std::shared_ptr<boost::asio::ssl::context> tls) {
    api::ServerOptions o;
    o.bind_address = cfg.bind_address;
    o.port = cfg.port;
    o.threads = cfg.http_threads;
    o.limits = {cfg.max_connections, cfg.max_connections_per_client};
    o.idle_timeout = Ms(cfg.http_idle_timeout_ms);
    o.request_timeout = Ms(cfg.http_request_timeout_ms);
    o.tls = std::move(tls);
    return o;
}

}  // namespace

HttpServerComponent::HttpServerComponent(const config::Config& cfg,
                                         std::shared_ptr<boost::asio::ssl::context> tls,
                                         api::ApiServices services)
    : server_(server_options(cfg, std::move(tls)), std::move(services)) {}

void HttpServerComponent::drain(const Deadline& deadline) {
    server_.stop_accepting();
    while (!server_.idle() && std::chrono::steady_clock::now() < deadline.at()) {
        std::this_thread::sleep_for(Ms(5));
    }
}

}  // namespace cg::app
