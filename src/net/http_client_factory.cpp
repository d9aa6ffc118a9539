#include "net/http_client_factory.hpp"

#include "net/beast_http_client.hpp"
#include "net/curl_http_client.hpp"

namespace cg::net {

std::unique_ptr<HttpClient> make_http_client(const HttpClientOptions& options) {
    if (options.kind == HttpClientKind::kBeast) {
        BeastOptions o;
        o.max_connections_per_host = options.max_connections_per_host;
        o.max_total_connections = options.max_total_connections;
        o.ca_bundle = options.ca_bundle;
        o.idle_timeout = options.idle_timeout;
        return std::make_unique<BeastHttpClient>(std::move(o));
    }
    CurlOptions o;
    o.max_connections_per_host = options.max_connections_per_host;
    o.max_total_connections = options.max_total_connections;
    o.ca_bundle = options.ca_bundle;
    return std::make_unique<CurlHttpClient>(std::move(o));
}

}  // namespace cg::net
