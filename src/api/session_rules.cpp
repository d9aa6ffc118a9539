#include "api/session_rules.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>

#include "api/router.hpp"

namespace cg::api {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr ReadStep kClose{ReadStep::Action::kClose, 0, {}};
constexpr ReadStep kContinue{};

constexpr ReadStep refuse(unsigned status, std::string_view message) {
    return {ReadStep::Action::kRefuse, status, message};
}

constexpr ReadStep kTooLarge = refuse(413, "The request body is too large.");
constexpr ReadStep kMalformed = refuse(400, "Malformed HTTP request.");

}  // namespace

void arm_for_header(RequestParser& parser) {
    parser.header_limit(kHeaderLimit);
    parser.body_limit(Router::kMaxBodyLimit);
}

ReadStep after_header(RequestParser& parser, beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == boost::asio::error::operation_aborted || ec == boost::asio::error::eof ||
        ec == boost::asio::error::connection_reset) {
        return kClose;
    }
    if (ec == http::error::header_limit) return refuse(431, "Request headers are too large.");
    if (ec == http::error::body_limit) return kTooLarge;
    if (ec) return kMalformed;
    const auto& h = parser.get();
    const size_t limit = Router::body_limit_for(h.method(), h.target());
    parser.body_limit(limit);
    if (const auto len = parser.content_length(); len && *len > limit) return kTooLarge;
    return kContinue;
}

ReadStep after_body(beast::error_code ec) {
    if (ec == http::error::body_limit) return kTooLarge;
    if (ec == beast::error::timeout || ec == http::error::end_of_stream ||
        ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset ||
        ec == boost::asio::error::operation_aborted || ec == http::error::partial_message) {
        return kClose;
    }
    if (ec) return kMalformed;
    return kContinue;
}

void finish_response(Response& res, unsigned version, bool keep_alive, bool head) {
    res.version(version);
    res.keep_alive(keep_alive);
    res.set(http::field::server, "chargegate");
    if (res.body().empty() && res.result() != http::status::no_content) res.prepare_payload();
    if (head) res.body().clear();  // Content-Length stays that of the GET answer
}

}  // namespace cg::api
