#include "api/session_rules.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>

#include "api/router.hpp"
#include "common/text.hpp"

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
constexpr ReadStep kBadFraming =
    refuse(400, "Transfer-Encoding must be exactly \"chunked\", without Content-Length.");
constexpr ReadStep kBadHost = refuse(400, "An HTTP/1.1 request needs exactly one Host header.");
constexpr ReadStep kEncodedBody =
    refuse(415, "Content-Encoding is not supported; send the body uncompressed.");
constexpr ReadStep kBadExpectation = refuse(417, "Only \"Expect: 100-continue\" is supported.");

bool is_token(std::string_view value, std::string_view token) {
    return beast::iequals(trim_ascii(value), token);
}

// The framing rules of RFC 9112 §6.1/§6.3 that Beast's parser leaves to the server. Beast
// reads a request whose Transfer-Encoding does not end in chunked as having no body.
bool framing_ok(const RequestParser& parser) {
    const auto& h = parser.get();
    const auto te = h.count(http::field::transfer_encoding);
    if (te == 0) return true;
    if (te > 1 || h.version() < 11 || h.count(http::field::content_length) > 0) return false;
    return is_token(h[http::field::transfer_encoding], "chunked");
}

bool host_ok(const RequestParser& parser) {
    const auto& h = parser.get();
    const auto hosts = h.count(http::field::host);
    return hosts == 1 || (hosts == 0 && h.version() < 11);
}

// A body is coming (or came) with a Content-Encoding other than identity.
bool encoded_body(const RequestParser& parser) {
    const auto& h = parser.get();
    const auto range = h.equal_range(http::field::content_encoding);
    if (range.first == range.second) return false;
    const bool has_body = parser.chunked() || parser.content_length().value_or(0) > 0;
    if (!has_body) return false;
    for (auto it = range.first; it != range.second; ++it) {
        if (!is_token(it->value(), "identity")) return true;
    }
    return false;
}

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
    if (!framing_ok(parser)) return kBadFraming;
    if (!host_ok(parser)) return kBadHost;
    const auto& h = parser.get();
    const size_t limit = Router::body_limit_for(h.method(), h.target());
    parser.body_limit(limit);
    if (const auto len = parser.content_length(); len && *len > limit) return kTooLarge;
    if (encoded_body(parser)) return kEncodedBody;
    ReadStep step = kContinue;
    if (h.version() >= 11) {
        const auto range = h.equal_range(http::field::expect);
        for (auto it = range.first; it != range.second; ++it) {
            if (!is_token(it->value(), "100-continue")) return kBadExpectation;
            // Only worth sending while the client still holds the body back.
            step.send_continue = !parser.is_done();
        }
    }
    return step;
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
