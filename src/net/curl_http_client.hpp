#pragma once
// HttpClient on the libcurl multi interface: one thread drives every transfer; the multi
// handle's connection cache keeps connections to each receiver alive and reuses them.
#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "net/http_client.hpp"

namespace cg::net {

struct CurlOptions {
    size_t max_connections_per_host = 32;
    size_t max_total_connections = 512;
    std::string ca_bundle;  // empty: the system's CA store
};

class CurlHttpClient final : public HttpClient {
  public:
    explicit CurlHttpClient(CurlOptions options);
    ~CurlHttpClient() override;
    CurlHttpClient(const CurlHttpClient&) = delete;
    CurlHttpClient& operator=(const CurlHttpClient&) = delete;

    void post(HttpRequest request, std::function<void(HttpResponse)> done) override;
    [[nodiscard]] size_t in_flight() const override { return in_flight_.load(); }
    void stop() override;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::atomic<size_t> in_flight_{0};
};

// Parses a Retry-After value (delta-seconds or HTTP-date) relative to `now_s`; nullopt when
// malformed. Exposed for tests.
std::optional<int64_t> parse_retry_after_ms(std::string_view value, int64_t now_s);

}  // namespace cg::net
