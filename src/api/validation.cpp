#include "api/validation.hpp"

#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>

#include "common/text.hpp"
#include "delivery/ssrf_guard.hpp"

namespace cg::api {

bool valid_driver_token(std::string_view token) {
    if (token.size() < 20 || token.size() > 80) return false;
    for (const char c : token) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
        if (!ok) return false;
    }
    return true;
}

bool valid_idempotency_key(std::string_view key) {
    if (key.empty() || key.size() > 255) return false;
    for (const char c : key) {
        if (c < 0x21 || c > 0x7E) return false;
    }
    return true;
}

bool valid_callback_url(std::string_view url, std::string* why, std::string* host) {
    auto fail = [&](const char* msg) {
        if (why) *why = msg;
        return false;
    };
    if (url.empty()) return fail("must not be empty");
    if (url.size() > 2048) return fail("must be at most 2048 characters");
    for (const char c : url) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) {
            return fail("must not contain spaces or control characters");
        }
    }
    auto parsed = boost::urls::parse_absolute_uri(url);
    if (!parsed) return fail("must be an absolute http or https URL");
    const auto scheme = to_lower_ascii(parsed->scheme());
    if (scheme != "http" && scheme != "https") return fail("scheme must be http or https");
    if (!parsed->has_authority()) return fail("must have a host");
    if (parsed->has_userinfo()) return fail("must not contain user-info");
    if (parsed->has_fragment()) return fail("must not contain a fragment");
    const std::string_view h = parsed->encoded_host();
    if (h.empty()) return fail("must have a host");
    if (parsed->has_port()) {
        const auto port = parsed->port_number();
        if (port == 0) return fail("port must be between 1 and 65535");
    }
    if (host) *host = std::string(h);
    return true;
}

std::variant<ValidatedRequest, std::vector<FieldError>> validate_charging_request(
    std::string_view body, bool allow_private_networks) {
    std::vector<FieldError> errors;
    boost::system::error_code ec;
    const auto doc = boost::json::parse(body, ec);
    if (ec) return std::vector<FieldError>{{"body", "must be valid JSON"}};
    if (!doc.is_object()) return std::vector<FieldError>{{"body", "must be a JSON object"}};
    const auto& obj = doc.as_object();

    auto string_field = [&](const char* name) -> const boost::json::string* {
        const auto* v = obj.if_contains(name);
        if (v == nullptr || v->is_null()) {
            errors.push_back({name, "is required"});
            return nullptr;
        }
        if (!v->is_string()) {
            errors.push_back({name, "must be a string"});
            return nullptr;
        }
        return &v->as_string();
    };

    ValidatedRequest out;
    if (const auto* s = string_field("station_id")) {
        if (!is_canonical_uuid(*s)) {
            errors.push_back({"station_id", "must be a UUID (8-4-4-4-12 hexadecimal digits)"});
        } else {
            out.station_id = std::string(*s);
        }
    }
    if (const auto* s = string_field("driver_token")) {
        if (!valid_driver_token(*s)) {
            errors.push_back({"driver_token", "must be 20-80 characters of A-Z a-z 0-9 - . _ ~"});
        } else {
            out.driver_token = std::string(*s);
        }
    }
    if (const auto* s = string_field("callback_url")) {
        std::string why;
        std::string host;
        if (!valid_callback_url(*s, &why, &host)) {
            errors.push_back({"callback_url", why});
        } else if (!allow_private_networks && delivery::host_is_blocked_literal(host)) {
            errors.push_back(
                {"callback_url", "points to a private, loopback or link-local address"});
        } else {
            out.callback_url = std::string(*s);
        }
    }
    if (!errors.empty()) return errors;
    return out;
}

}  // namespace cg::api
