#include "api/router.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/url/parse.hpp>

#include "api/admin_host.hpp"
#include "auth/jwt_verifier.hpp"
#include "common/base64.hpp"
#include "common/text.hpp"
#include "ratelimit/rate_limit_headers.hpp"

namespace cg::api {

namespace http = boost::beast::http;

namespace {

constexpr size_t kChargingBodyLimit = 16 * 1024;
constexpr size_t kAdminBodyLimit = Router::kMaxBodyLimit;  // an ACL entry may list many stations

// Decoded path segments; empty optional for an unparsable target.
std::optional<std::vector<std::string>> segments_of(std::string_view target) {
    auto parsed = boost::urls::parse_origin_form(target);
    if (!parsed) return std::nullopt;
    std::vector<std::string> out;
    for (auto seg : parsed->segments()) out.emplace_back(seg);
    if (!out.empty() && out.back().empty()) out.pop_back();  // tolerate a trailing slash
    return out;
}

// The rate-limit fields of every answer of a limited route (ratelimit/rate_limit_headers.hpp).
void set_rate_limit_headers(Response& res, const ratelimit::Decision& d) {
    res.set(ratelimit::kPolicyField, ratelimit::policy_field_value(d));
    res.set(ratelimit::kLimitField, ratelimit::limit_field_value(d));
}

bool is_loopback(const boost::asio::ip::address& a) {
    if (a.is_loopback()) return true;
    if (a.is_v6() && a.to_v6().is_v4_mapped()) {
        return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6())
            .is_loopback();
    }
    return false;
}

// True when an `Origin` header ("scheme://host[:port]") names the host the request was sent to.
bool same_origin(std::string_view origin, std::string_view host) {
    const auto sep = origin.find("://");
    if (sep == std::string_view::npos || host.empty()) return false;
    return to_lower_ascii(origin.substr(sep + 3)) == to_lower_ascii(host);
}

// `Authorization: Bearer <token>`, or Basic with any user name and the token as password (what
// a browser sends after the dashboard's login prompt). Compared in constant time.
bool admin_credentials_match(std::string_view auth, std::string_view token) {
    if (const auto bearer = auth::bearer_token(auth)) return constant_time_equals(*bearer, token);
    constexpr std::string_view kBasic = "basic ";
    if (auth.size() > kBasic.size() && to_lower_ascii(auth.substr(0, kBasic.size())) == kBasic) {
        const auto decoded = base64_decode(trim_ascii(auth.substr(kBasic.size())));
        if (!decoded) return false;
        const auto colon = decoded->find(':');
        if (colon == std::string::npos) return false;
        return constant_time_equals(std::string_view(*decoded).substr(colon + 1), token);
    }
    return false;
}

Response method_not_allowed(std::string_view allow) {
    auto res = error_response(405, "Method not allowed.");
    res.set(http::field::allow, allow);
    return res;
}

}  // namespace

bool Router::is_charging_session_target(std::string_view target) {
    const auto segs = segments_of(target);
    return segs && segs->size() >= 3 && (*segs)[0] == "api" && (*segs)[1] == "v1" &&
           (*segs)[2] == "charging-session";
}

std::string Router::rate_limit_key(std::optional<std::string_view> client_id,
                                   const boost::asio::ip::address& peer) {
    if (client_id) return "client:" + std::string(*client_id);
    if (peer.is_v6() && peer.to_v6().is_v4_mapped()) {
        return "ip:" + boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, peer.to_v6())
                           .to_string();
    }
    return "ip:" + peer.to_string();
}

void Router::rate_limited(const std::string& key, const boost::asio::any_io_executor& loop,
                          bool charging_create, Reply counted, std::function<void(Reply)> handler) {
    auto* limiter = ctx_.services.rate_limiter;
    if (limiter == nullptr) return handler(std::move(counted));
    // The decision may come from the limiter's thread (Redis): the handler is moved back onto
    // the connection's event loop (inline when the decision was made there).
    limiter->take(key, [this, loop, charging_create, counted = std::move(counted),
                        handler = std::move(handler)](const ratelimit::Decision& d) {
        Reply with_headers = [d, counted](Response res) {
            set_rate_limit_headers(res, d);
            counted(std::move(res));
        };
        if (!d.allowed) {
            ctx_.services.metrics.rate_limited.inc();
            if (charging_create) ctx_.services.metrics.charging_requests.inc("rate_limited");
            auto res = error_response(429, "Rate limit exceeded; retry after Retry-After seconds.");
            res.set(http::field::retry_after, std::to_string(d.retry_after));
            return with_headers(std::move(res));
        }
        boost::asio::dispatch(loop, [handler, with_headers] { handler(with_headers); });
    });
}

size_t Router::body_limit_for(http::verb method, std::string_view target) {
    if (method == http::verb::post && is_charging_session_target(target)) {
        return kChargingBodyLimit;
    }
    return kAdminBodyLimit;
}

std::optional<Response> Router::admin_refusal(const Request& req,
                                              const boost::asio::ip::address& peer,
                                              bool browser) const {
    // A page on another site must not make an operator's browser (logged in, or on loopback)
    // change anything: browsers name the page's origin on cross-origin requests.
    const std::string_view origin = req[http::field::origin];
    if (!origin.empty() && !same_origin(origin, req[http::field::host])) {
        return error_response(403, "Cross-origin admin requests are refused.");
    }
    const auto& token = ctx_.services.config.admin_token;
    if (token.empty()) {
        if (!is_loopback(peer)) {
            return error_response(403,
                                  "The admin API is only served to loopback clients while "
                                  "ADMIN_TOKEN is not set.");
        }
        // A loopback peer may be a browser fooled by DNS rebinding; its Host names the
        // attacker's domain (admin_host.hpp). With a token set, the token is the proof instead.
        if (admin_host_allowed(req[http::field::host], ctx_.services.config.admin_allowed_hosts)) {
            return std::nullopt;
        }
        return error_response(403,
                              "The admin API is only served for a loopback Host or one listed in "
                              "ADMIN_ALLOWED_HOSTS while ADMIN_TOKEN is not set.");
    }
    if (admin_credentials_match(req[http::field::authorization], token)) return std::nullopt;
    auto res = error_response(401, "Invalid credentials.");
    // A browser opening the dashboard gets the Basic prompt; API clients are told Bearer.
    res.set(http::field::www_authenticate,
            browser ? R"(Basic realm="chargegate-admin")" : R"(Bearer realm="chargegate-admin")");
    return res;
}

std::optional<Response> Router::client_refusal(const Request& req, std::string& client_id) const {
    const auto* authenticator = ctx_.services.authenticator;
    if (authenticator == nullptr || !authenticator->required()) return std::nullopt;
    auto result = authenticator->authenticate(req[http::field::authorization], req["X-API-Key"],
                                              ctx_.services.clock.now_ms() / 1000);
    if (result.ok) {
        client_id = std::move(result.client_id);
        return std::nullopt;
    }
    auto res = error_response(401, "Invalid credentials.");
    res.set(http::field::www_authenticate, R"(Bearer realm="chargegate")");
    return res;
}

std::optional<Response> Router::refusal_before_body(const Request& header,
                                                    const boost::asio::ip::address& peer) {
    const auto segs = segments_of(header.target());
    if (!segs || segs->size() < 3 || (*segs)[0] != "api" || (*segs)[1] != "v1") return std::nullopt;
    const auto& s = *segs;
    const size_t n = s.size();
    const auto method = header.method();
    std::string_view route;
    std::optional<Response> refusal;
    if (n == 3 && s[2] == "charging-session" && method == http::verb::post) {
        if (!ctx_.services.config.runs_api()) return std::nullopt;  // handle() answers 404
        route = "charging_session_create";
        std::string client_id;
        if ((refusal = client_refusal(header, client_id))) {
            ctx_.services.metrics.charging_requests.inc("unauthorized");
        } else if (!is_json_content_type(header[http::field::content_type])) {
            ctx_.services.metrics.charging_requests.inc("unsupported_media_type");
            refusal = error_response(415, "Content-Type must be application/json");
        }
    } else if (n == 5 && s[2] == "charging-session" && s[4] == "redeliver" &&
               method == http::verb::post) {
        route = "charging_session_redeliver";
        refusal = admin_refusal(header, peer);
    } else if (n == 4 && (s[2] == "acl" || s[2] == "stations") && method == http::verb::put) {
        route = s[2] == "acl" ? "acl" : "stations";
        refusal = admin_refusal(header, peer);
    }
    if (refusal) {
        ctx_.services.metrics.http_requests.inc(route, static_cast<int>(refusal->result_int()));
    }
    return refusal;
}

void Router::handle(Request req, const boost::asio::ip::address& peer,
                    const boost::asio::any_io_executor& loop, Reply reply) {
    const auto method = req.method();
    const auto segs = segments_of(req.target());
    std::string_view route = "other";
    if (segs) {
        const auto& s = *segs;
        const size_t n = s.size();
        const bool api = n >= 3 && s[0] == "api" && s[1] == "v1";
        if (api && s[2] == "charging-session")
            route = n == 5   ? "charging_session_redeliver"
                    : n == 4 ? "charging_session_status"
                             : "charging_session_create";
        if (api && s[2] == "acl") route = "acl";
        if (api && s[2] == "stations") route = "stations";
        if (api && s[2] == "admin") route = "admin";
        if (n >= 1 && s[0] == "dashboard") route = "dashboard";
        if (n >= 1 && s[0] == "health") route = "health";
        if (n == 1 && s[0] == "metrics") route = "metrics";
    }
    // Count every answer under its route.
    Reply counted = [this, route, reply = std::move(reply)](Response res) {
        ctx_.services.metrics.http_requests.inc(route, static_cast<int>(res.result_int()));
        reply(std::move(res));
    };
    if (!segs) {
        counted(error_response(400, "Malformed request target."));
        return;
    }
    const auto& s = *segs;
    const size_t n = s.size();
    const bool api = n >= 3 && s[0] == "api" && s[1] == "v1";
    // HEAD is served wherever GET is (RFC 9110 §9.3.2): the same handler answers, and the
    // session drops the body while keeping the GET's headers (finish_response).
    const bool get = method == http::verb::get || method == http::verb::head;
    if (api && s[2] != "admin" && !ctx_.services.config.runs_api()) {
        // ROLE=worker: only health, metrics and the admin figures are served here.
        return counted(error_response(
            404, "This instance runs the worker role; send API requests to an api instance."));
    }

    if (api && s[2] == "charging-session" && (n == 3 || n == 4)) {
        if (n == 3 && method != http::verb::post) return counted(method_not_allowed("POST"));
        if (n == 4 && !get) return counted(method_not_allowed("GET, HEAD"));
        // Who is calling comes first: a 401 spends no rate-limit token, and an authenticated
        // client is limited as itself (by its address while authentication is off).
        std::string client_id;
        if (auto refusal = client_refusal(req, client_id)) {
            if (n == 3) ctx_.services.metrics.charging_requests.inc("unauthorized");
            return counted(std::move(*refusal));
        }
        const auto key = rate_limit_key(
            client_id.empty() ? std::nullopt : std::optional<std::string_view>(client_id), peer);
        if (n == 3) {
            auto held = std::make_shared<Request>(std::move(req));  // outlives an async decision
            return rate_limited(key, loop, true, std::move(counted),
                                [this, held, client_id = std::move(client_id)](Reply r) mutable {
                                    create_charging_session(ctx_, *held, std::move(client_id),
                                                            std::move(r));
                                });
        }
        return rate_limited(key, loop, false, std::move(counted),
                            [this, id = s[3], client_id = std::move(client_id)](Reply r) mutable {
                                get_charging_session(ctx_, id, std::move(client_id), std::move(r));
                            });
    }
    if (api && s[2] == "charging-session") {
        if (n == 5 && s[4] == "redeliver") {
            if (method != http::verb::post) return counted(method_not_allowed("POST"));
            if (auto refusal = admin_refusal(req, peer)) return counted(std::move(*refusal));
            return redeliver_charging_session(ctx_, s[3], std::move(counted));
        }
    }
    if (api && n == 4 && s[2] == "acl") {
        if (method != http::verb::put && !get && method != http::verb::delete_) {
            return counted(method_not_allowed("GET, HEAD, PUT, DELETE"));
        }
        if (auto refusal = admin_refusal(req, peer)) return counted(std::move(*refusal));
        if (method == http::verb::put) return put_acl(ctx_, s[3], req, std::move(counted));
        if (get) return get_acl(ctx_, s[3], std::move(counted));
        return delete_acl(ctx_, s[3], std::move(counted));
    }
    if (api && s[2] == "admin") {
        if (!get) return counted(method_not_allowed("GET, HEAD"));
        if (auto refusal = admin_refusal(req, peer)) return counted(std::move(*refusal));
        if (n == 4 && s[3] == "stats") return admin_stats(ctx_, std::move(counted));
        if (n == 4 && s[3] == "dead-letters") {
            std::string limit;
            std::string before;
            if (auto parsed = boost::urls::parse_origin_form(req.target())) {
                for (const auto& p : parsed->params()) {
                    if (p.key == "limit") limit = p.value;
                    if (p.key == "before") before = p.value;
                }
            }
            return admin_dead_letters(ctx_, limit, before, std::move(counted));
        }
        if (n == 5 && s[3] == "requests") return admin_get_request(ctx_, s[4], std::move(counted));
        return counted(error_response(404, "Not found."));
    }
    if (api && n == 4 && s[2] == "stations") {
        if (method != http::verb::put && !get) return counted(method_not_allowed("GET, HEAD, PUT"));
        if (auto refusal = admin_refusal(req, peer)) return counted(std::move(*refusal));
        if (method == http::verb::put) return put_station(ctx_, s[3], req, std::move(counted));
        return get_station(ctx_, s[3], std::move(counted));
    }
    if (n >= 1 && n <= 2 && s[0] == "dashboard") {
        if (!get) return counted(method_not_allowed("GET, HEAD"));
        // The page lives at /dashboard only: a browser's Basic login given for /dashboard/
        // would not cover /api/, which the page calls. Redirected before the login prompt.
        const auto path = req.target().substr(0, req.target().find('?'));
        if (path != "/dashboard" && (n == 1 || s[1] == "index.html")) {
            Response moved{http::status::permanent_redirect, 11};
            moved.set(http::field::location, "/dashboard");
            moved.prepare_payload();
            return counted(std::move(moved));
        }
        if (auto refusal = admin_refusal(req, peer, true)) return counted(std::move(*refusal));
        return dashboard_asset(req, n == 2 ? std::string_view(s[1]) : std::string_view(),
                               std::move(counted));
    }
    if (n == 1 && s[0] == "health") {
        return get ? health(ctx_, std::move(counted)) : counted(method_not_allowed("GET, HEAD"));
    }
    if (n == 2 && s[0] == "health" && s[1] == "live") {
        return get ? health_live(std::move(counted)) : counted(method_not_allowed("GET, HEAD"));
    }
    if (n == 2 && s[0] == "health" && s[1] == "ready") {
        return get ? health_ready(ctx_, std::move(counted))
                   : counted(method_not_allowed("GET, HEAD"));
    }
    if (n == 1 && s[0] == "metrics") {
        return get ? metrics(ctx_, std::move(counted)) : counted(method_not_allowed("GET, HEAD"));
    }
    counted(error_response(404, "Not found."));
}

}  // namespace cg::api
