#pragma once
// Answer bodies and shapes of docs/api.md (the error shapes of its Conventions, JSON content type).
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "api/validation.hpp"

namespace cg::api {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

inline constexpr std::string_view kJsonType = "application/json; charset=utf-8";

// {"status":"accepted","message":"Request queued for async processing.","request_id":"<id>"}
std::string accepted_body(std::string_view request_id);

Response json_response(unsigned status, std::string body);
Response json_response(unsigned status, const boost::json::value& body);
// {"status":"error","message":"..."}
Response error_response(unsigned status, std::string_view message);
// 503 with the error body and `Retry-After: 1`.
Response unavailable_response(std::string_view message = "Storage is unavailable; retry later.");
// {"status":"invalid","message":"...","errors":[{"field":...,"message":...}]}
Response invalid_response(const std::vector<FieldError>& errors);

}  // namespace cg::api
