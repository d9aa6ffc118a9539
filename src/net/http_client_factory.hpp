#pragma once
// Builds the outbound HTTP client an operator chose: libcurl or Beast, same contract.
#include <chrono>
#include <memory>
#include <string>

#include "net/http_client.hpp"

namespace cg::net {

enum class HttpClientKind { kCurl, kBeast };

struct HttpClientOptions {
    HttpClientKind kind = HttpClientKind::kCurl;
    size_t max_connections_per_host = 32;
    size_t max_total_connections = 512;
    std::string ca_bundle;                          // empty: the system's CA store
    std::chrono::milliseconds idle_timeout{30000};  // Beast only (curl keeps its own)
};

std::unique_ptr<HttpClient> make_http_client(const HttpClientOptions& options);

}  // namespace cg::net
