#include "api/responses.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/json/serialize.hpp>

namespace cg::api {

namespace http = boost::beast::http;

std::string accepted_body(std::string_view request_id) {
    std::string out;
    out.reserve(120);
    out +=
        R"({"status":"accepted","message":"Request queued for async processing.","request_id":")";
    out += request_id;  // a UUID: nothing to escape
    out += "\"}";
    return out;
}

Response json_response(unsigned status, std::string body) {
    Response res{static_cast<http::status>(status), 11};
    res.set(http::field::content_type, kJsonType);
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

Response json_response(unsigned status, const boost::json::value& body) {
    return json_response(status, boost::json::serialize(body));
}

Response error_response(unsigned status, std::string_view message) {
    boost::json::object o;
    o["status"] = "error";
    o["message"] = message;
    return json_response(status, o);
}

Response invalid_response(const std::vector<FieldError>& errors) {
    boost::json::object o;
    o["status"] = "invalid";
    o["message"] = "The request is invalid; see errors.";
    boost::json::array list;
    for (const auto& e : errors) {
        list.push_back(boost::json::object{{"field", e.field}, {"message", e.message}});
    }
    o["errors"] = std::move(list);
    return json_response(400, o);
}

Response unavailable_response(std::string_view message) {
    auto res = error_response(503, message);
    res.set(boost::beast::http::field::retry_after, "1");
    return res;
}

}  // namespace cg::api
