#pragma once
// Asynchronous outbound HTTP used for callbacks and for the remote authorizer.
// Implementations: CurlHttpClient (libcurl multi interface on one thread, keep-alive reuse) and
// BeastHttpClient (Boost.Beast on one io_context thread, per-origin keep-alive pools); see
// http_client_factory.hpp.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cg::net {

struct HttpRequest {
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::chrono::milliseconds timeout{10000};
    // Refuse to connect to loopback/private/link-local/etc. addresses (SSRF guard). The check
    // is applied to the address actually connected to, after DNS resolution.
    bool block_private_addresses = true;
};

enum class HttpError {
    kNone,
    kTimeout,
    kConnect,         // refused, unreachable, reset before an answer
    kDns,             // name did not resolve
    kBlockedAddress,  // SSRF guard refused the resolved address
    kTls,             // handshake or certificate failure
    kProtocol,        // malformed answer
    kCancelled,       // client shutting down
    kOther,
};

const char* to_string(HttpError e);

struct HttpResponse {
    int status = 0;  // 0 when no HTTP answer arrived
    HttpError error = HttpError::kNone;
    std::string error_message;              // human-readable detail, empty when error == kNone
    std::optional<int64_t> retry_after_ms;  // parsed Retry-After (seconds or HTTP date)
    std::string body;                       // at most 64 KiB kept
    std::chrono::microseconds duration{0};
};

class HttpClient {
  public:
    virtual ~HttpClient() = default;
    // Sends a POST; `done` runs exactly once on the client's own thread and must not block.
    // Thread-safe.
    virtual void post(HttpRequest request, std::function<void(HttpResponse)> done) = 0;
    // Number of requests accepted by post() and not yet completed.
    [[nodiscard]] virtual size_t in_flight() const = 0;
    // Completes everything still pending with kCancelled and stops the thread. Idempotent.
    virtual void stop() = 0;
};

}  // namespace cg::net
