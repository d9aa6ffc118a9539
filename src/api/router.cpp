#include "api/router.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/url/parse.hpp>

#include "common/text.hpp"

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

bool is_loopback(const boost::asio::ip::address& a) {
    if (a.is_loopback()) return true;
    if (a.is_v6() && a.to_v6().is_v4_mapped()) {
        return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6())
            .is_loopback();
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

size_t Router::body_limit_for(http::verb method, std::string_view target) {
    if (method == http::verb::post && is_charging_session_target(target)) {
        return kChargingBodyLimit;
    }
    return kAdminBodyLimit;
}

std::optional<Response> Router::admin_refusal(const Request& req,
                                              const boost::asio::ip::address& peer) const {
    const auto& token = ctx_.services.config.admin_token;
    if (token.empty()) {
        if (is_loopback(peer)) return std::nullopt;
        return error_response(403,
                              "The admin API is only served to loopback clients while "
                              "ADMIN_TOKEN is not set.");
    }
    const std::string_view auth = req[http::field::authorization];
    constexpr std::string_view kBearer = "Bearer ";
    if (auth.size() > kBearer.size() &&
        to_lower_ascii(auth.substr(0, kBearer.size())) == "bearer " &&
        constant_time_equals(auth.substr(kBearer.size()), token)) {
        return std::nullopt;
    }
    auto res = error_response(401, "Invalid credentials.");
    res.set(http::field::www_authenticate, R"(Bearer realm="chargegate-admin")");
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

void Router::handle(const Request& req, const boost::asio::ip::address& peer, Reply reply) {
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
    if (api && !ctx_.services.config.runs_api()) {
        // ROLE=worker: only health and metrics are served here.
        return counted(error_response(
            404, "This instance runs the worker role; send API requests to an api instance."));
    }

    if (api && s[2] == "charging-session") {
        if (n == 3) {
            if (method != http::verb::post) return counted(method_not_allowed("POST"));
            std::string client_id;
            if (auto refusal = client_refusal(req, client_id)) {
                return counted(std::move(*refusal));
            }
            return create_charging_session(ctx_, req, std::move(client_id), std::move(counted));
        }
        if (n == 4) {
            if (method != http::verb::get) return counted(method_not_allowed("GET"));
            std::string client_id;
            if (auto refusal = client_refusal(req, client_id)) {
                return counted(std::move(*refusal));
            }
            return get_charging_session(ctx_, s[3], std::move(client_id), std::move(counted));
        }
        if (n == 5 && s[4] == "redeliver") {
            if (method != http::verb::post) return counted(method_not_allowed("POST"));
            if (auto refusal = admin_refusal(req, peer)) return counted(std::move(*refusal));
            return redeliver_charging_session(ctx_, s[3], std::move(counted));
        }
    }
    if (api && n == 4 && s[2] == "acl") {
        if (method != http::verb::put && method != http::verb::get &&
            method != http::verb::delete_) {
            return counted(method_not_allowed("GET, PUT, DELETE"));
        }
        if (auto refusal = admin_refusal(req, peer)) return counted(std::move(*refusal));
        if (method == http::verb::put) return put_acl(ctx_, s[3], req, std::move(counted));
        if (method == http::verb::get) return get_acl(ctx_, s[3], std::move(counted));
        return delete_acl(ctx_, s[3], std::move(counted));
    }
    if (api && n == 4 && s[2] == "stations") {
        if (method != http::verb::put && method != http::verb::get) {
            return counted(method_not_allowed("GET, PUT"));
        }
        if (auto refusal = admin_refusal(req, peer)) return counted(std::move(*refusal));
        if (method == http::verb::put) return put_station(ctx_, s[3], req, std::move(counted));
        return get_station(ctx_, s[3], std::move(counted));
    }
    const bool get = method == http::verb::get || method == http::verb::head;
    if (n == 1 && s[0] == "health") {
        return get ? health(ctx_, std::move(counted)) : counted(method_not_allowed("GET"));
    }
    if (n == 2 && s[0] == "health" && s[1] == "live") {
        return get ? health_live(std::move(counted)) : counted(method_not_allowed("GET"));
    }
    if (n == 2 && s[0] == "health" && s[1] == "ready") {
        return get ? health_ready(ctx_, std::move(counted)) : counted(method_not_allowed("GET"));
    }
    if (n == 1 && s[0] == "metrics") {
        return get ? metrics(ctx_, std::move(counted)) : counted(method_not_allowed("GET"));
    }
    counted(error_response(404, "Not found."));
}

}  // namespace cg::api
