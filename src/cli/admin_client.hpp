#pragma once
// A blocking client of a running chargegate's admin JSON API (docs/operations.md), for the
// operator commands (`status`, `dlq`, `stats`). One libcurl easy handle, so consecutive calls
// reuse the connection; the admin token goes out as `Authorization: Bearer`.
//
// Error policy: everything that can go wrong talking to a service (unreachable, refused
// credentials, unknown ids, an answer that is not the expected JSON) is an AdminError whose
// text is one line for stderr. Not thread-safe: one client per thread.
#include <boost/json/object.hpp>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cg::cli {

class AdminError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct AdminEndpoint {
    std::string base_url;     // http(s)://host:port
    std::string admin_token;  // empty: no Authorization header
    std::string ca_file;      // https://: CAs to trust instead of the system's
    long timeout_ms = 10000;  // per request
};

struct AdminAnswer {
    long status = 0;
    std::string body;
};

// "http://127.0.0.1:<port>": the port from `port_env` (the value of PORT, may be null) or 8080.
std::string default_admin_url(const char* port_env);

// Percent-encodes one path segment (an id typed by an operator must not change the route).
std::string escape_path_segment(std::string_view segment);

// One line describing a non-2xx answer: the status, what it means for an operator, and the
// service's own message when the body has the error shape {"status":"error","message":...}.
std::string describe_http_failure(long status, const std::string& body);

class AdminClient {
  public:
    explicit AdminClient(AdminEndpoint endpoint);
    ~AdminClient();
    AdminClient(const AdminClient&) = delete;
    AdminClient& operator=(const AdminClient&) = delete;

    // Sends one request to base_url + `path` and returns whatever status came back. Throws
    // AdminError only when no HTTP answer arrived (refused, timed out, TLS failure).
    AdminAnswer request(const std::string& method, const std::string& path,
                        const std::string& body = {});

    // GET that must answer 200 with a JSON object; anything else is an AdminError naming the
    // path and what happened.
    boost::json::object get_object(const std::string& path);

    // While a request waits, `cancelled` is polled a few times a second; when it returns true
    // the request ends with an AdminError (Ctrl-C in `stats`).
    void set_cancel(std::function<bool()> cancelled) { cancelled_ = std::move(cancelled); }

    [[nodiscard]] const std::string& base_url() const { return endpoint_.base_url; }

  private:
    AdminEndpoint endpoint_;
    std::function<bool()> cancelled_;
    void* curl_;  // CURL*
};

}  // namespace cg::cli
