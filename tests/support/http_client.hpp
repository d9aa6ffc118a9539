#pragma once
// A blocking HTTP client for tests (libcurl easy interface).
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace cg::test {

struct HttpResult {
    long status = 0;  // 0: no answer (connection failed)
    std::string body;
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string error;
    [[nodiscard]] std::string header(const std::string& lower_name) const {
        auto it = headers.find(lower_name);
        return it == headers.end() ? std::string() : it->second;
    }
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// An https:// URL's server is verified (name and chain) against `ca_file` when it is given,
// else against the system's CAs.
HttpResult http_request(const std::string& method, const std::string& url,
                        const Headers& headers = {}, const std::string& body = {},
                        long timeout_ms = 5000, const std::string& ca_file = {});

// One keep-alive connection for one thread: requests reuse the connection while the server
// keeps it open and reconnect transparently after it was closed. Not thread-safe.
class HttpConnection {
  public:
    HttpConnection();
    ~HttpConnection();
    HttpConnection(const HttpConnection&) = delete;
    HttpConnection& operator=(const HttpConnection&) = delete;

    HttpResult request(const std::string& method, const std::string& url,
                       const Headers& headers = {}, const std::string& body = {},
                       long timeout_ms = 5000);
    HttpResult post_json(const std::string& url, const std::string& body, Headers headers = {});

  private:
    void* handle_;  // CURL*
};

inline HttpResult http_get(const std::string& url, const Headers& headers = {}) {
    return http_request("GET", url, headers);
}

inline HttpResult post_json(const std::string& url, const std::string& body, Headers headers = {}) {
    headers.emplace_back("Content-Type", "application/json");
    return http_request("POST", url, headers, body);
}

}  // namespace cg::test
