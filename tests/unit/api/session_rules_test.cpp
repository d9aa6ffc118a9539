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
        header_of(small, "POST /api/v1/charging-session HTTP/1.1\r\nContent-Length: 16384\r\n\r\n")
            .action,
        Action::kContinue);
    RequestParser large;
    const auto step =
        header_of(large, "POST /api/v1/charging-session HTTP/1.1\r\nContent-Length: 16385\r\n\r\n");
    EXPECT_EQ(step.action, Action::kRefuse);
    EXPECT_EQ(step.status, 413u);
    RequestParser admin;
    EXPECT_EQ(
        header_of(admin, "PUT /api/v1/acl/x HTTP/1.1\r\nContent-Length: 16385\r\n\r\n").action,
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
        const auto step = header_of(
            parser, std::string("POST ") + target + " HTTP/1.1\r\nContent-Length: 16385\r\n\r\n");
        EXPECT_EQ(step.status, 413u) << target;
    }
    EXPECT_TRUE(Router::is_charging_session_target("/api/v1/charging%2Dsession"));
    EXPECT_FALSE(Router::is_charging_session_target("/api/v1/charging-sessions"));
    EXPECT_FALSE(Router::is_charging_session_target("/api/v1/acl/x"));
}

TEST(SessionRules, HeadersAboveEightKibAreRefused) {
    RequestParser parser;
    const auto step =
        header_of(parser, "GET /health HTTP/1.1\r\nX-Pad: " + std::string(9000, 'p') + "\r\n\r\n");
    EXPECT_EQ(step.status, 431u);
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
