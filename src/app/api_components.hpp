#pragma once
// The components at the API's edge: who may call it (API keys and JWTs), the per-client rate
// limit, and the HTTP server itself.
#include <memory>

#include "api/http_server.hpp"
#include "app/component.hpp"
#include "auth/authenticator.hpp"
#include "auth/credential_directory.hpp"
#include "auth/jwt_verifier.hpp"
#include "ratelimit/rate_limiter.hpp"
#include "ratelimit/redis_rate_limiter.hpp"

namespace cg::app {

// API keys and clients' webhook secrets, re-read from the store every API_KEYS_REFRESH_MS, and
// the Authenticator the router asks. `jwt` is null when no JWT key is configured.
class CredentialsComponent final : public Component {
  public:
    CredentialsComponent(const config::Config& cfg, std::unique_ptr<auth::JwtVerifier> jwt);
    [[nodiscard]] const auth::CredentialDirectory& directory() const { return directory_; }
    [[nodiscard]] const auth::Authenticator& authenticator() const { return authenticator_; }

    [[nodiscard]] std::string_view name() const override { return "credentials"; }
    // Loads both tables once (throws StoreError when that fails) and starts refreshing.
    void start() override { directory_.start(); }
    void close() override { directory_.stop(); }

  private:
    std::unique_ptr<auth::JwtVerifier> jwt_;
    auth::CredentialDirectory directory_;
    auth::Authenticator authenticator_;
};

// Per-client rate limit of the public API: one budget shared by every instance through Redis
// in cluster mode, this process's memory else.
class RateLimiterComponent final : public Component {
  public:
    // Null when there is nothing to limit: RATE_LIMIT_PER_SECOND is 0, or ROLE=worker.
    static std::unique_ptr<RateLimiterComponent> make(const config::Config& cfg, const Clock& clock,
                                                      obs::Metrics& metrics);
    RateLimiterComponent(std::unique_ptr<ratelimit::RateLimiter> limiter,
                         const ratelimit::RedisRateLimiter* redis)
        : limiter_(std::move(limiter)), redis_(redis) {}
    [[nodiscard]] ratelimit::RateLimiter& limiter() { return *limiter_; }

    [[nodiscard]] std::string_view name() const override { return "rate-limiter"; }
    // Answers any call still waiting for Redis; drained while the HTTP event loops still run
    // (they are closed after every component drained).
    void drain(const Deadline& /*deadline*/) override { limiter_->stop(); }
    void gauges(std::vector<obs::GaugeSample>& out) const override;

  private:
    std::unique_ptr<ratelimit::RateLimiter> limiter_;
    const ratelimit::RedisRateLimiter* redis_;  // limiter_ in cluster mode, else null
};

class HttpServerComponent final : public Component {
  public:
    HttpServerComponent(const config::Config& cfg, std::shared_ptr<boost::asio::ssl::context> tls,
                        api::ApiServices services);
    [[nodiscard]] uint16_t port() const { return server_.port(); }

    [[nodiscard]] std::string_view name() const override { return "http"; }
    // Binds; throws std::runtime_error with a one-line message when the address is taken.
    void start() override { server_.start(); }
    // Stops accepting (/health/ready turns 503) and waits until the requests in progress are
    // answered and their connections closed.
    void drain(const Deadline& deadline) override;
    // Stops the event loops.
    void close() override { server_.stop(); }

  private:
    api::HttpServer server_;
};

}  // namespace cg::app
