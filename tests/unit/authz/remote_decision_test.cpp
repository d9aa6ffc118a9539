#include <gtest/gtest.h>

#include "authz/remote_authorizer.hpp"

namespace cg::authz {
namespace {

net::HttpResponse answer(int status, std::string body) {
    net::HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

TEST(RemoteDecision, PassesAllowedAndNotAllowedThrough) {
    auto d = decision_from_response(answer(200, R"({"status":"allowed","reason":"vip"})"), 5);
    EXPECT_EQ(d.status, DecisionStatus::kAllowed);
    EXPECT_EQ(d.reason, "vip");
    EXPECT_EQ(d.decided_at_ms, 5);
    d = decision_from_response(answer(200, R"({"status":"not_allowed"})"), 5);
    EXPECT_EQ(d.status, DecisionStatus::kNotAllowed);
    EXPECT_EQ(d.reason, "authorizer_denied");
}

TEST(RemoteDecision, UnsafeReasonIsReplaced) {
    auto d = decision_from_response(
        answer(200, R"({"status":"allowed","reason":"<script>alert(1)</script>"})"), 5);
    EXPECT_EQ(d.status, DecisionStatus::kAllowed);
    EXPECT_EQ(d.reason, "authorizer_allowed");
}

TEST(RemoteDecision, FailsClosed) {
    for (const auto& r : {answer(500, R"({"status":"allowed"})"), answer(200, "not json"),
                          answer(200, R"({"status":"maybe"})"), answer(200, R"(["allowed"])"),
                          answer(200, R"({"status":true})"), answer(0, "")}) {
        const auto d = decision_from_response(r, 5);
        EXPECT_EQ(d.status, DecisionStatus::kUnknown);
        EXPECT_EQ(d.reason, "authorizer_error");
    }
    net::HttpResponse timeout;
    timeout.error = net::HttpError::kTimeout;
    const auto d = decision_from_response(timeout, 5);
    EXPECT_EQ(d.status, DecisionStatus::kUnknown);
    EXPECT_EQ(d.reason, "authorizer_timeout");
}

}  // namespace
}  // namespace cg::authz
