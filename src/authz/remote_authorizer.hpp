#pragma once
// Asks an internal authorization service (AUTHORIZER_URL, docs/api.md §4): POSTs
// {"station_id","driver_token"} and expects {"status":"allowed"|"not_allowed","reason":"..."}.
// No answer within the deadline → unknown/authorizer_timeout; any other failure (connection,
// non-2xx, malformed answer) → unknown/authorizer_error.
#include <atomic>
#include <chrono>
#include <string>

#include "authz/authorizer.hpp"
#include "common/clock.hpp"
#include "net/http_client.hpp"

namespace cg::authz {

struct RemoteAuthorizerOptions {
    std::string url;
    std::chrono::milliseconds timeout{30000};  // AUTHORIZATION_TIMEOUT_MS
    // The authorizer is an operator-configured internal service, so private addresses are
    // expected and allowed.
    bool block_private_addresses = false;
    int unhealthy_after_failures = 5;  // consecutive failures that mark it DOWN in /health
};

// Maps the authorizer's HTTP answer to a decision. Pure; exposed for tests.
Decision decision_from_response(const net::HttpResponse& response, int64_t now_ms);

class RemoteAuthorizer final : public Authorizer {
  public:
    RemoteAuthorizer(RemoteAuthorizerOptions options, net::HttpClient& http, const Clock& clock);
    // Completes on the HTTP client's thread.
    void authorize(const AuthorizationRequest& request, DecisionCallback done) override;
    [[nodiscard]] bool healthy() const override;
    [[nodiscard]] const char* kind() const override { return "remote"; }

  private:
    RemoteAuthorizerOptions options_;
    net::HttpClient& http_;
    const Clock& clock_;
    std::atomic<int> consecutive_failures_{0};
};

}  // namespace cg::authz
