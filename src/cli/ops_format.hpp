#pragma once
// Human-readable text of the admin API's answers for `chargegate status` and
// `chargegate dlq list` (docs/operations.md). Pure functions, no I/O; missing or null fields
// show as "-".
#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace cg::cli {

// One request's full history: state, station, masked token, decision, callback URL, trace id,
// then every attempt (time, duration, status code or error), oldest first.
std::string format_request_history(const boost::json::object& request);

// The dead-letter table (request id, station, attempts, last status/error, created at) and a
// closing line with how many were shown of `total`.
std::string format_dead_letters(const std::vector<boost::json::object>& items, int64_t total);

// "500", "500 receiver answered 500", "connect_failed: ..." or "-".
std::string status_or_error(const boost::json::object& o, const char* status_key,
                            const char* error_key);

}  // namespace cg::cli
