#include "api/session_rules.hpp"

#include <gtest/gtest.h>

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <string>

#include "api/router.hpp"

namespace cg::api {
namespace {

namespace http = boost::beast::http;
using Action = ReadStep::Action;

// Feeds `bytes` to a parser armed as the session arms it, up to the end of the header.
ReadStep header_of(RequestParser& parser, const std::string& bytes) {
    arm_for_header(parser);
    boost::beast::error_code ec;
    parser.put(boost::asio::buffer(bytes), ec);
    if (ec == http::error::need_more) ec = {};
    return after_header(parser, ec);
}

TEST(SessionRules, ReadErrorsAreClosedOrRefused) {
    RequestParser parser;
    EXPECT_EQ(after_header(parser, http::error::end_of_stream).action, Action::kClose);
    EXPECT_EQ(after_header(parser, boost::asio::error::connection_reset).action, Action::kClose);
    EXPECT_EQ(after_header(parser, http::error::header_limit).status, 431u);
    EXPECT_EQ(after_header(parser, http::error::body_limit).status, 413u);
    EXPECT_EQ(after_header(parser, http::error::bad_method).status, 400u);
    EXPECT_EQ(after_body(http::error::body_limit).status, 413u);
    EXPECT_EQ(after_body(http::error::partial_message).action, Action::kClose);
    EXPECT_EQ(after_body(http::error::bad_chunk).status, 400u);
    EXPECT_EQ(after_body({}).action, Action::kContinue);
}

TEST(SessionRules, AnnouncedBodiesAboveTheRouteLimitAreRefusedBeforeReading) {
    RequestParser small;
    EXPECT_EQ(
        header_of(
            small,
            "POST /api/v1/charging-session HTTP/1.1\r\nHost: a\r\nContent-Length: 16384\r\n\r\n")
            .action,
        Action::kContinue);
    RequestParser large;
    const auto step = header_of(
        large,
        "POST /api/v1/charging-session HTTP/1.1\r\nHost: a\r\nContent-Length: 16385\r\n\r\n");
    EXPECT_EQ(step.action, Action::kRefuse);
    EXPECT_EQ(step.status, 413u);
    RequestParser admin;
    EXPECT_EQ(
        header_of(admin, "PUT /api/v1/acl/x HTTP/1.1\r\nHost: a\r\nContent-Length: 16385\r\n\r\n")
            .action,
        Action::kContinue);
}

// Found by review while writing http_request_fuzz's invariant "the create handler never sees
// more than 16 KiB" (the fuzzer confirms it with a crafted input): the limit was chosen on the
// raw target, the route on the decoded one, so "/api/v1/charging%2Dsession" reached the create
// handler with up to 1 MiB of body.
TEST(SessionRules, EverySpellingOfTheChargingRouteHasItsLimit) {
    for (const char* target :
         {"/api/v1/charging%2Dsession", "/api/v1/charging%2dsession/", "/%61pi/v1/charging-session",
          "/api/v1/charging-session?x=1", "/api/v1/charging-session/"}) {
        RequestParser parser;
        const auto step =
            header_of(parser, std::string("POST ") + target +
                                  " HTTP/1.1\r\nHost: a\r\nContent-Length: 16385\r\n\r\n");
        EXPECT_EQ(step.status, 413u) << target;
    }
    EXPECT_TRUE(Router::is_charging_session_target("/api/v1/charging%2Dsession"));
    EXPECT_FALSE(Router::is_charging_session_target("/api/v1/charging-sessions"));
    EXPECT_FALSE(Router::is_charging_session_target("/api/v1/acl/x"));
}

TEST(SessionRules, HeadersAboveEightKibAreRefused) {
    RequestParser parser;
    const auto step = header_of(
        parser, "GET /health HTTP/1.1\r\nHost: a\r\nX-Pad: " + std::string(9000, 'p') + "\r\n\r\n");
    EXPECT_EQ(step.status, 431u);
}

// Issue 12, point 1 (RFC 9112 §6.1, §6.3): Beast reads a request whose Transfer-Encoding does
// not end in chunked as having no body, so its body was served as the next request.
TEST(SessionRules, TransferEncodingOtherThanOneChunkedIsRefused) {
    for (const char* te :
         {"Transfer-Encoding: identity\r\n", "Transfer-Encoding: gzip\r\n",
          "Transfer-Encoding: chunked, chunked\r\n", "Transfer-Encoding: gzip, chunked\r\n",
          "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
          "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
          "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"}) {
        RequestParser parser;
        const auto step = header_of(
            parser, std::string("PUT /api/v1/acl/x HTTP/1.1\r\nHost: a\r\n") + te + "\r\n");
        EXPECT_EQ(step.action, Action::kRefuse) << te;
        EXPECT_EQ(step.status, 400u) << te;
    }
    RequestParser http10;
    EXPECT_EQ(header_of(http10, "PUT /api/v1/acl/x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n")
                  .status,
              400u);
    for (const char* te : {"chunked", "Chunked", " chunked "}) {
        RequestParser parser;
        EXPECT_EQ(header_of(parser, std::string("PUT /api/v1/acl/x HTTP/1.1\r\nHost: a\r\n"
                                                "Transfer-Encoding:") +
                                        te + "\r\n\r\n")
                      .action,
                  Action::kContinue)
            << te;
    }
}

// Issue 12, point 4 (RFC 9112 §3.2): HTTP/1.1 needs exactly one Host; HTTP/1.0 may omit it.
TEST(SessionRules, Http11WithoutExactlyOneHostIsRefused) {
    RequestParser none;
    EXPECT_EQ(header_of(none, "GET /health HTTP/1.1\r\n\r\n").status, 400u);
    RequestParser two;
    EXPECT_EQ(header_of(two, "GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").status, 400u);
    RequestParser two10;
    EXPECT_EQ(header_of(two10, "GET /health HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n").status, 400u);
    RequestParser one;
    EXPECT_EQ(header_of(one, "GET /health HTTP/1.1\r\nHost: a\r\n\r\n").action, Action::kContinue);
    RequestParser http10;
    EXPECT_EQ(header_of(http10, "GET /health HTTP/1.0\r\n\r\n").action, Action::kContinue);
}

// Issue 12, point 5: no handler decodes bodies; a gzip body used to get a JSON syntax error.
TEST(SessionRules, EncodedBodiesAre415) {
    for (const char* ce : {"gzip", "deflate", "br", "identity, gzip", "x-unknown"}) {
        RequestParser parser;
        const auto step =
            header_of(parser, std::string("POST /api/v1/charging-session HTTP/1.1\r\nHost: a\r\n"
                                          "Content-Length: 10\r\nContent-Encoding: ") +
                                  ce + "\r\n\r\n");
        EXPECT_EQ(step.action, Action::kRefuse) << ce;
        EXPECT_EQ(step.status, 415u) << ce;
        EXPECT_FALSE(step.message.empty());
    }
    RequestParser chunked;
    EXPECT_EQ(header_of(chunked,
                        "PUT /api/v1/acl/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                        "Content-Encoding: gzip\r\n\r\n")
                  .status,
              415u);
    RequestParser identity;
    EXPECT_EQ(header_of(identity,
                        "POST /api/v1/charging-session HTTP/1.1\r\nHost: a\r\n"
                        "Content-Length: 10\r\nContent-Encoding: Identity\r\n\r\n")
                  .action,
              Action::kContinue);
    RequestParser no_body;  // nothing to decode
    EXPECT_EQ(
        header_of(no_body, "GET /health HTTP/1.1\r\nHost: a\r\nContent-Encoding: gzip\r\n\r\n")
            .action,
        Action::kContinue);
}

// Issue 12, point 2 (RFC 9110 §10.1.1): 100 Continue when the body is still to come, the final
// answer instead when the header already decides it, 417 for other expectations.
TEST(SessionRules, ExpectContinueAsksForTheBodyOrGetsTheFinalAnswer) {
    RequestParser waiting;
    auto step = header_of(waiting,
                          "PUT /api/v1/acl/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                          "Expect: 100-Continue\r\n\r\n");
    EXPECT_EQ(step.action, Action::kContinue);
    EXPECT_TRUE(step.send_continue);

    RequestParser plain;
    step = header_of(plain, "PUT /api/v1/acl/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n");
    EXPECT_FALSE(step.send_continue);

    RequestParser no_body;
    step = header_of(no_body, "GET /health HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n");
    EXPECT_EQ(step.action, Action::kContinue);
    EXPECT_FALSE(step.send_continue);

    RequestParser too_large;
    step = header_of(too_large,
                     "POST /api/v1/charging-session HTTP/1.1\r\nHost: a\r\n"
                     "Content-Length: 16385\r\nExpect: 100-continue\r\n\r\n");
    EXPECT_EQ(step.status, 413u);

    RequestParser other;
    step = header_of(other,
                     "PUT /api/v1/acl/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                     "Expect: 200-ok\r\n\r\n");
    EXPECT_EQ(step.action, Action::kRefuse);
    EXPECT_EQ(step.status, 417u);

    RequestParser http10;  // HTTP/1.0 expectations are ignored
    step = header_of(http10,
                     "PUT /api/v1/acl/x HTTP/1.0\r\nContent-Length: 5\r\n"
                     "Expect: 100-continue\r\n\r\n");
    EXPECT_EQ(step.action, Action::kContinue);
    EXPECT_FALSE(step.send_continue);
}

// Found by http_request_fuzz: the answer to a HEAD request carried its body, which a keep-alive
// client reads as the start of the next answer.
TEST(SessionRules, HeadAnswersKeepContentLengthAndDropTheBody) {
    auto res = json_response(200, std::string(R"({"status":"UP"})"));
    finish_response(res, 11, true, true);
    EXPECT_TRUE(res.body().empty());
    EXPECT_EQ(res[http::field::content_length], "15");
    EXPECT_EQ(res[http::field::server], "chargegate");

    auto get = json_response(200, std::string(R"({"status":"UP"})"));
    finish_response(get, 10, false, false);
    EXPECT_EQ(get.body(), R"({"status":"UP"})");
    EXPECT_EQ(get.version(), 10u);
    EXPECT_FALSE(get.keep_alive());
}

}  // namespace
}  // namespace cg::api
