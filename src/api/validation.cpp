#include "api/validation.hpp"

#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>

#include "common/text.hpp"
#include "net/ssrf_guard.hpp"

namespace cg::api {

namespace {

// Parses a JSON object body; on failure records why in `errors` and returns null.
const boost::json::object* object_body(std::string_view body, boost::json::value& holder,
                                       std::vector<FieldError>& errors) {
    boost::system::error_code ec;
    holder = boost::json::parse(body, ec);
    if (ec) {
        errors.push_back({"body", "must be valid JSON"});
        return nullptr;
    }
    if (!holder.is_object()) {
        errors.push_back({"body", "must be a JSON object"});
        return nullptr;
    }
    return &holder.as_object();
}

}  // namespace

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
    // After the authority comes "/", "?", "#" or the end (RFC 3986 path-abempty). Boost.URL
    // 1.81 ends an IPv4 host early: in "http://1.2.3.4.evil.example/" it reads host 1.2.3.4 and
    // path ".evil.example/", while curl connects to the name; such a URL must not pass.
    if (const auto path = parsed->encoded_path(); !path.empty() && path.front() != '/') {
        return fail("must be an absolute http or https URL");
    }
    if (parsed->has_userinfo()) return fail("must not contain user-info");
    if (parsed->has_fragment()) return fail("must not contain a fragment");
    const std::string_view h = parsed->encoded_host();
    if (h.empty()) return fail("must have a host");
    if (parsed->has_port()) {
        const auto port = parsed->port_number();
        if (port == 0) return fail("port must be between 1 and 65535");
    }
    // A name is judged as the resolver will see it: curl percent-decodes it ("%31" is "1").
    if (host) {
        *host = parsed->host_type() == boost::urls::host_type::name ? parsed->host_name()
                                                                    : std::string(h);
    }
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
        } else if (!allow_private_networks && net::host_is_blocked_literal(host)) {
            errors.push_back(
                {"callback_url", "points to a private, loopback or link-local address"});
        } else {
            out.callback_url = std::string(*s);
        }
    }
    if (!errors.empty()) return errors;
    return out;
}

std::variant<store::AclEntry, std::vector<FieldError>> validate_acl_entry(
    std::string_view driver_token, std::string_view body) {
    std::vector<FieldError> errors;
    if (!valid_driver_token(driver_token)) {
        errors.push_back({"driver_token", "must be 20-80 characters of A-Z a-z 0-9 - . _ ~"});
    }
    boost::json::value holder;
    const auto* obj = object_body(body, holder, errors);
    store::AclEntry entry;
    entry.driver_token = std::string(driver_token);
    if (obj) {
        const auto* status = obj->if_contains("status");
        if (status && status->is_string() && status->as_string() == "allowed") {
            entry.status = store::AclStatus::kAllowed;
        } else if (status && status->is_string() && status->as_string() == "blocked") {
            entry.status = store::AclStatus::kBlocked;
        } else {
            errors.push_back({"status", "must be \"allowed\" or \"blocked\""});
        }
        if (const auto* st = obj->if_contains("stations"); st && !st->is_null()) {
            if (!st->is_array()) {
                errors.push_back({"stations", "must be an array of station UUIDs or null"});
            } else {
                std::vector<std::string> list;
                bool ok = true;
                for (const auto& s : st->as_array()) {
                    if (!s.is_string() || !is_canonical_uuid(s.as_string())) {
                        ok = false;
                        break;
                    }
                    list.push_back(to_lower_ascii(s.as_string()));
                }
                if (ok) {
                    entry.stations = std::move(list);
                } else {
                    errors.push_back({"stations", "must be an array of station UUIDs or null"});
                }
            }
        }
        if (const auto* ex = obj->if_contains("expires_at"); ex && !ex->is_null()) {
            std::optional<int64_t> t;
            if (ex->is_string()) t = parse_rfc3339_ms(ex->as_string());
            if (t) {
                entry.expires_at_ms = t;
            } else {
                errors.push_back({"expires_at", "must be an RFC 3339 time or null"});
            }
        }
    }
    if (!errors.empty()) return errors;
    return entry;
}

std::variant<store::StationEntry, std::vector<FieldError>> validate_station_entry(
    std::string_view station_id, std::string_view body) {
    std::vector<FieldError> errors;
    if (!is_canonical_uuid(station_id)) {
        errors.push_back({"station_id", "must be a UUID (8-4-4-4-12 hexadecimal digits)"});
    }
    boost::json::value holder;
    const auto* obj = object_body(body, holder, errors);
    store::StationEntry entry;
    entry.station_id = to_lower_ascii(station_id);
    if (obj) {
        const auto* active = obj->if_contains("active");
        if (active && active->is_bool()) {
            entry.active = active->as_bool();
        } else {
            errors.push_back({"active", "must be true or false"});
        }
    }
    if (!errors.empty()) return errors;
    return entry;
}

}  // namespace cg::api
