#pragma once
// HttpClient on Boost.Beast: one io_context thread drives every request; each origin (scheme,
// host, port) has a pool of keep-alive connections, one request on a connection at a time.
// Cheaper per request than libcurl's multi interface (docs/performance.md).
#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "net/http_client.hpp"

namespace cg::net {

struct BeastOptions {
    size_t max_connections_per_host = 32;           // active + idle; 0: no limit
    size_t max_total_connections = 512;             // over all origins; 0: no limit
    std::string ca_bundle;                          // empty: the system's CA store
    std::chrono::milliseconds idle_timeout{30000};  // an idle connection older than this is closed
};

// Contract as HttpClient. Requests for an origin beyond max_connections_per_host wait in a FIFO;
// their deadline (HttpRequest::timeout) starts when a connection is assigned. A request that
// fails on a reused connection before any byte of an answer is sent once more on a fresh one.
// Redirects are never followed and no proxy is ever used.
class BeastHttpClient final : public HttpClient {
  public:
    explicit BeastHttpClient(BeastOptions options);
    ~BeastHttpClient() override;
    BeastHttpClient(const BeastHttpClient&) = delete;
    BeastHttpClient& operator=(const BeastHttpClient&) = delete;

    void post(HttpRequest request, std::function<void(HttpResponse)> done) override;
    [[nodiscard]] size_t in_flight() const override { return in_flight_.load(); }
    void stop() override;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::atomic<size_t> in_flight_{0};
};

}  // namespace cg::net
