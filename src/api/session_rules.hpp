#pragma once
// The HTTP rules of a session, apart from its socket: the parser's limits, what each outcome of
// a read means (keep reading, close quietly, or refuse with a status), and the finishing touches
// on an answer. HttpSession applies them to a TCP stream; the fuzz target applies the same
// functions to bytes in memory, so both run exactly this code. Pure functions, no I/O.
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <string_view>

#include "api/responses.hpp"

namespace cg::api {

using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

inline constexpr uint32_t kHeaderLimit = 8 * 1024;  // request line and headers, in bytes

// What a session does after one read step.
struct ReadStep {
    enum class Action {
        kContinue,  // go on: read the body, or dispatch the complete request
        kClose,     // the peer left or was too slow: close without an answer
        kRefuse,    // answer `status` with `message`, then close
    };
    Action action = Action::kContinue;
    unsigned status = 0;
    std::string_view message;  // a literal, valid for the life of the program
    // kContinue after the header only: the client waits for `100 Continue` before it sends the
    // body (RFC 9110 §10.1.1), so the session writes that interim answer before reading on.
    bool send_continue = false;
};

// Arms a fresh parser for the header phase: the header limit, and the largest body limit of
// any route (so that the header phase does not reject an admin body); after_header() lowers it
// once the request line is known.
void arm_for_header(RequestParser& parser);

// Judges the outcome of reading the header. On success it sets the body limit of the route and
// refuses at once, before any of the body is read (every refusal closes the connection):
// - 400 for framing a server cannot trust (RFC 9112 §6.1, §6.3): a Transfer-Encoding other than
//   exactly one `chunked`, Transfer-Encoding together with Content-Length, or any
//   Transfer-Encoding in an HTTP/1.0 request. Otherwise the body would be read as the next
//   request (request smuggling behind a proxy that frames it differently).
// - 400 for an HTTP/1.1 request without exactly one Host (RFC 9112 §3.2). HTTP/1.0 requests
//   may omit Host (1.0 clients predate it) but not repeat it; the admin API still refuses
//   them without ADMIN_TOKEN, as their (empty) Host is not a loopback name.
// - 413 for a Content-Length above the route's limit.
// - 415 for a body with a Content-Encoding other than identity: no handler decodes bodies,
//   and a compressed body would otherwise be judged as malformed JSON.
// - 417 for an Expect other than 100-continue (RFC 9110 §10.1.1); HTTP/1.0 expectations are
//   ignored, as that section requires.
// On kContinue, send_continue tells whether a `100 Continue` is due before the body.
ReadStep after_header(RequestParser& parser, boost::beast::error_code ec);

// Judges the outcome of reading the body.
ReadStep after_body(boost::beast::error_code ec);

// Sets what every answer carries: the request's HTTP version, the connection's keep-alive, the
// Server header, and the framing of an empty body. The answer to a HEAD request keeps the
// headers of the GET answer, Content-Length included, and drops the body (RFC 9110 §9.3.2):
// a body there would be read by the client as the start of the next answer.
void finish_response(Response& res, unsigned version, bool keep_alive, bool head);

}  // namespace cg::api
