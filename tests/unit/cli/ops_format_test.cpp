#include "cli/ops_format.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "cli/text_table.hpp"

namespace cg::cli {
namespace {

boost::json::object obj(const char* text) { return boost::json::parse(text).as_object(); }

const char* kFailed = R"({
  "request_id": "0193a1b2-0000-7000-8000-000000000001",
  "station_id": "123e4567-e89b-12d3-a456-426614174000",
  "driver_token": "ABCD***", "state": "failed", "created_at": "2026-11-30T08:00:00.000Z",
  "decision": {"status": "allowed", "reason": "acl_allowed",
               "decided_at": "2026-11-30T08:00:00.010Z"},
  "callback": {"attempts": 2, "last_status_code": 500, "last_error": "receiver answered 500",
               "next_attempt_at": null, "delivered_at": null},
  "callback_url": "http://127.0.0.1:9000/cb", "client_id": null,
  "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
  "attempts": [
    {"attempt": 1, "started_at": "2026-11-30T08:00:00.020Z", "duration_ms": 12,
     "status_code": 500, "error": "receiver answered 500"},
    {"attempt": 2, "started_at": "2026-11-30T08:00:01.020Z", "duration_ms": 2003,
     "status_code": null, "error": "timeout"}]
})";

TEST(FormatRequestHistory, ShowsEveryFieldAndEveryAttempt) {
    const auto text = format_request_history(obj(kFailed));
    for (const char* expected :
         {"request       0193a1b2-0000-7000-8000-000000000001", "state         failed",
          "station       123e4567-e89b-12d3-a456-426614174000", "driver token  ABCD***",
          "client        -", "decision      allowed (acl_allowed) at 2026-11-30T08:00:00.010Z",
          "callback url  http://127.0.0.1:9000/cb",
          "trace id      4bf92f3577b34da6a3ce929d0e0e4736", "delivered     -",
          "last result   500 receiver answered 500", "2 callback attempts",
          "1  2026-11-30T08:00:00.020Z     12 ms  500 receiver answered 500",
          "2  2026-11-30T08:00:01.020Z  2,003 ms  timeout"}) {
        EXPECT_NE(text.find(expected), std::string::npos) << expected << "\n" << text;
    }
    EXPECT_EQ(text.find("ABCD-"), std::string::npos);  // only what the service masked
}

TEST(FormatRequestHistory, UndecidedRequestWithoutAttempts) {
    const auto text = format_request_history(
        obj(R"({"request_id":"r","state":"queued","decision":null,"attempts":[]})"));
    EXPECT_NE(text.find("decision      not decided yet"), std::string::npos) << text;
    EXPECT_NE(text.find("no callback attempts yet"), std::string::npos) << text;
    EXPECT_NE(text.find("trace id      -"), std::string::npos) << text;
}

TEST(FormatDeadLetters, OneRowPerRequestAndTheTotal) {
    const std::vector<boost::json::object> items = {
        obj(R"({"request_id":"id-1","station_id":"st-1","attempts":12,"last_status_code":500,
               "last_error":"receiver answered 500","created_at":"2026-11-30T08:00:00.000Z"})"),
        obj(R"({"request_id":"id-2","station_id":"st-2","attempts":1,"last_status_code":null,
               "last_error":"connect_failed: Connection refused",
               "created_at":"2026-11-30T07:00:00.000Z"})")};
    const auto text = format_dead_letters(items, 5);
    EXPECT_NE(text.find("request id  station  attempts  last status/error"), std::string::npos)
        << text;
    EXPECT_NE(text.find("id-1        st-1           12  500 receiver answered 500"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("connect_failed: Connection refused"), std::string::npos);
    EXPECT_NE(text.find("2 of 5 dead letters shown"), std::string::npos) << text;
    EXPECT_EQ(format_dead_letters({}, 0), "no dead letters\n");
}

TEST(StatusOrError, CombinesWhatIsThere) {
    EXPECT_EQ(status_or_error(obj(R"({"s":500,"e":null})"), "s", "e"), "500");
    EXPECT_EQ(status_or_error(obj(R"({"s":null,"e":"timeout"})"), "s", "e"), "timeout");
    EXPECT_EQ(status_or_error(obj(R"({})"), "s", "e"), "-");
}

TEST(TextTable, PadsColumnsAndAlignsRight) {
    TextTable t({"a", "num", "c"}, {false, true, false});
    t.add({"long cell", "1", "x"});
    t.add({"b", "1234", ""});
    EXPECT_EQ(t.str(), "a           num  c\nlong cell     1  x\nb          1234\n");
    EXPECT_EQ(group_thousands(1234567), "1,234,567");
    EXPECT_EQ(group_thousands(999), "999");
    EXPECT_EQ(clip("abcdefgh", 6), "abc...");
    EXPECT_EQ(clip("abc", 6), "abc");
}

}  // namespace
}  // namespace cg::cli
