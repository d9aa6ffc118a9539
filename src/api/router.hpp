#pragma once
// Maps method + path to a handler, applies admin protection and the per-client rate limit of
// the public routes, and counts every answer in http_requests_total{route,code}.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>
#include <optional>
#include <string_view>

#include "api/handlers.hpp"

namespace cg::api {

class Router {
  public:
    explicit Router(HandlerContext& ctx) : ctx_(ctx) {}

    // Dispatches one request. `peer` is the client's address (admin loopback rule, rate-limit
    // key); `loop` is the connection's executor, where a handler delayed by the rate limiter
    // resumes.
    void handle(Request req, const boost::asio::ip::address& peer,
                const boost::asio::any_io_executor& loop, Reply reply);

    static constexpr size_t kMaxBodyLimit = 1024 * 1024;
    // Largest body accepted for a request line, known once the headers are read.
    static size_t body_limit_for(boost::beast::http::verb method, std::string_view target);
    // THE place where a request's rate-limit key is chosen: "client:<id>" for an authenticated
    // client, else "ip:<address>" (IPv4-mapped IPv6 addresses as IPv4).
    static std::string rate_limit_key(std::optional<std::string_view> client_id,
                                      const boost::asio::ip::address& peer);
    // True for a target under /api/v1/charging-session, read as dispatch reads it
    // (percent-decoded segments), so that no spelling of the path escapes its limit.
    static bool is_charging_session_target(std::string_view target);

    // docs/api.md "HTTP/1.1 rules": a client that sent `Expect: 100-continue` holds its body
    // back until told to send it, so a request its headers already refuse gets the final answer
    // instead of `100 Continue`. Judged here: what the route checks before reading the body —
    // the caller's credentials (401) and the content type (415) of a new charging session, and
    // who may use the admin API (401/403) on the admin routes that take a body. Such an answer
    // is counted like the route's own. Nullopt: send `100 Continue` and read the body.
    std::optional<Response> refusal_before_body(const Request& header,
                                                const boost::asio::ip::address& peer);

  private:
    // Nullopt when the caller may use the admin API; otherwise the refusal to send. `browser`:
    // a page load (the dashboard), whose 401 asks for Basic credentials so the browser prompts.
    std::optional<Response> admin_refusal(const Request& req, const boost::asio::ip::address& peer,
                                          bool browser = false) const;
    // Nullopt when the caller may use §1/§3 (`client_id` then names it, empty while
    // authentication is off); otherwise the 401 to send.
    std::optional<Response> client_refusal(const Request& req, std::string& client_id) const;

    // Runs `handler` (on `loop`) when the rate limiter grants `key` a token, answers 429
    // otherwise (counted in charging_requests_total when `charging_create`); every answer
    // carries the RateLimit-Policy and RateLimit fields. Without a limiter: just runs it.
    void rate_limited(const std::string& key, const boost::asio::any_io_executor& loop,
                      bool charging_create, Reply counted, std::function<void(Reply)> handler);

    HandlerContext& ctx_;
};

}  // namespace cg::api
