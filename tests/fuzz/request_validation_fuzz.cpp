// Fuzz target: bytes → the JSON body validators. The input is a request body as a client sends
// it, given to validate_charging_request (POST /api/v1/charging-session, with and without
// CALLBACK_ALLOW_PRIVATE_NETWORKS) and to the admin body validators validate_acl_entry
// (PUT /api/v1/acl/{token}) and validate_station_entry (PUT /api/v1/stations/{id}).
//
// Invariants: an accepted body yields a canonical station UUID, a valid driver token and a valid
// callback URL whose host passes the SSRF check; revalidating the accepted fields gives the same
// result; allowing private networks never turns an accepted body into a refused one; a refusal
// names at least one known field with a message; an accepted admin entry has lower-case station
// UUIDs and an expiry time that formats and parses back to itself.
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "api/validation.hpp"
#include "common/text.hpp"
#include "fuzz/fuzz_check.hpp"
#include "net/ssrf_guard.hpp"

namespace {

using cg::api::FieldError;
using cg::api::ValidatedRequest;

// A lower-case canonical UUID (the form stored and shown by the API).
bool lower_uuid(std::string_view s) {
    return cg::is_canonical_uuid(s) && cg::to_lower_ascii(s) == s;
}

void check_refusal(const std::vector<FieldError>& errors, const std::set<std::string>& fields) {
    CG_FUZZ_CHECK(!errors.empty());
    for (const auto& e : errors) {
        CG_FUZZ_CHECK(fields.contains(e.field));
        CG_FUZZ_CHECK(!e.message.empty());
    }
}

// Returns the accepted request, or null after checking the refusal.
const ValidatedRequest* check_charging(
    const std::variant<ValidatedRequest, std::vector<FieldError>>& result, bool allow_private) {
    if (const auto* errors = std::get_if<std::vector<FieldError>>(&result)) {
        check_refusal(*errors, {"body", "station_id", "driver_token", "callback_url"});
        return nullptr;
    }
    const auto& v = std::get<ValidatedRequest>(result);
    CG_FUZZ_CHECK(!v.station_id.empty() && cg::is_canonical_uuid(v.station_id));
    CG_FUZZ_CHECK(cg::api::valid_driver_token(v.driver_token));
    std::string why;
    std::string host;
    CG_FUZZ_CHECK(cg::api::valid_callback_url(v.callback_url, &why, &host));
    if (!allow_private) CG_FUZZ_CHECK(!cg::net::host_is_blocked_literal(host));

    // The accepted fields, sent again on their own, are accepted unchanged.
    const boost::json::object again{{"station_id", v.station_id},
                                    {"driver_token", v.driver_token},
                                    {"callback_url", v.callback_url}};
    const auto re =
        cg::api::validate_charging_request(boost::json::serialize(again), allow_private);
    const auto* w = std::get_if<ValidatedRequest>(&re);
    CG_FUZZ_CHECK(w != nullptr);
    CG_FUZZ_CHECK(w->station_id == v.station_id && w->driver_token == v.driver_token &&
                  w->callback_url == v.callback_url);
    return &v;
}

void check_acl(std::string_view token, std::string_view body) {
    const auto result = cg::api::validate_acl_entry(token, body);
    if (const auto* errors = std::get_if<std::vector<FieldError>>(&result)) {
        check_refusal(*errors, {"body", "driver_token", "status", "stations", "expires_at"});
        return;
    }
    const auto& e = std::get<cg::store::AclEntry>(result);
    CG_FUZZ_CHECK(e.driver_token == token && cg::api::valid_driver_token(e.driver_token));
    CG_FUZZ_CHECK(e.status == cg::store::AclStatus::kAllowed ||
                  e.status == cg::store::AclStatus::kBlocked);
    if (e.stations) {
        for (const auto& s : *e.stations) CG_FUZZ_CHECK(lower_uuid(s));
    }
    if (e.expires_at_ms) {
        // GET /api/v1/acl shows the expiry as RFC 3339 text, which must read back as the same time.
        const std::string shown = cg::format_rfc3339_ms(*e.expires_at_ms);
        CG_FUZZ_CHECK(cg::parse_rfc3339_ms(shown) == e.expires_at_ms);
    }
}

void check_station(std::string_view station_id, std::string_view body) {
    const auto result = cg::api::validate_station_entry(station_id, body);
    if (const auto* errors = std::get_if<std::vector<FieldError>>(&result)) {
        check_refusal(*errors, {"body", "station_id", "active"});
        return;
    }
    const auto& e = std::get<cg::store::StationEntry>(result);
    CG_FUZZ_CHECK(lower_uuid(e.station_id));
    CG_FUZZ_CHECK(e.station_id == cg::to_lower_ascii(station_id));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);

    const auto strict = cg::api::validate_charging_request(body, false);
    const auto open = cg::api::validate_charging_request(body, true);
    const auto* s = check_charging(strict, false);
    const auto* o = check_charging(open, true);
    if (s != nullptr) {
        CG_FUZZ_CHECK(o != nullptr && o->station_id == s->station_id &&
                      o->driver_token == s->driver_token && o->callback_url == s->callback_url);
    }

    check_acl("ABCD-efgh1234567890_~valid.token", body);
    check_station("123E4567-E89B-12D3-A456-426614174000", body);

    // The header and path checks of the same requests, on the same bytes.
    if (cg::api::valid_idempotency_key(body)) CG_FUZZ_CHECK(!body.empty() && body.size() <= 255);
    if (cg::api::valid_driver_token(body)) CG_FUZZ_CHECK(body.size() >= 20 && body.size() <= 80);
    if (const auto t = cg::parse_rfc3339_ms(body)) {
        CG_FUZZ_CHECK(cg::parse_rfc3339_ms(cg::format_rfc3339_ms(*t)) == t);
    }
    return 0;
}
