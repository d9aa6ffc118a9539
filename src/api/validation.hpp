#pragma once
// Validation of the public request (docs/api.md §1) and of admin inputs. Pure functions, no I/O.
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "store/records.hpp"

namespace cg::api {

struct FieldError {
    std::string field;
    std::string message;
};

struct ValidatedRequest {
    std::string station_id;
    std::string driver_token;
    std::string callback_url;
};

// Parses and validates a charging-session body. Every invalid field is reported. Unknown fields
// are ignored; a key given twice counts with its last value (Boost.JSON's behaviour).
std::variant<ValidatedRequest, std::vector<FieldError>> validate_charging_request(
    std::string_view body, bool allow_private_networks);

// PUT /api/v1/acl/{driver_token}: the entry that `body` describes, or every invalid field (the
// token of the path included). Station ids are lower-cased; `updated_at_ms` is left to the
// caller.
std::variant<store::AclEntry, std::vector<FieldError>> validate_acl_entry(
    std::string_view driver_token, std::string_view body);

// PUT /api/v1/stations/{station_id}: the entry that `body` describes, or every invalid field.
// The station id is lower-cased; `updated_at_ms` is left to the caller.
std::variant<store::StationEntry, std::vector<FieldError>> validate_station_entry(
    std::string_view station_id, std::string_view body);

// 20–80 characters of A-Z a-z 0-9 - . _ ~
bool valid_driver_token(std::string_view token);
// 1–255 visible ASCII characters (0x21–0x7E).
bool valid_idempotency_key(std::string_view key);
// Absolute http(s) URL with a host, ≤ 2048 characters, no user-info, no fragment. On failure
// `why` says what is wrong. `host` receives the host when valid: an IP literal as written
// (IPv6 in brackets), a name percent-decoded, as curl resolves it.
bool valid_callback_url(std::string_view url, std::string* why, std::string* host);

}  // namespace cg::api
