#include <gtest/gtest.h>

#include "delivery/callback_payload.hpp"
#include "net/curl_http_client.hpp"
#include "obs/trace.hpp"

namespace cg::delivery {
namespace {

TEST(Payload, ExactContractBody) {
    store::DeliveryJob job;
    job.id = "01a203c8-44cb-7c61-a322-7f54ea001849";
    job.station_id = "123e4567-e89b-12d3-a456-426614174000";
    job.driver_token = "ABCD-efgh1234567890_~valid.token";
    job.decision = {DecisionStatus::kAllowed, "acl_allowed", 1795343445123};
    EXPECT_EQ(callback_body(job),
              R"({"request_id":"01a203c8-44cb-7c61-a322-7f54ea001849",)"
              R"("station_id":"123e4567-e89b-12d3-a456-426614174000",)"
              R"("driver_token":"ABCD-efgh1234567890_~valid.token","status":"allowed",)"
              R"("reason":"acl_allowed","decided_at":"2026-11-22T10:30:45.123Z"})");
    job.decision = {DecisionStatus::kUnknown, "authorizer_timeout", 0};
    EXPECT_NE(callback_body(job).find(R"("status":"unknown","reason":"authorizer_timeout")"),
              std::string::npos);
}

TEST(Traceparent, ContinuesAValidTraceOrStartsANewOne) {
    const std::string in = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    EXPECT_EQ(obs::trace_id_of(in), "0af7651916cd43dd8448eb211c80319c");
    const auto out = obs::make_traceparent(in);
    ASSERT_EQ(out.size(), 55u);
    EXPECT_EQ(out.substr(0, 36), in.substr(0, 36));
    EXPECT_NE(out.substr(36, 16), in.substr(36, 16));
    EXPECT_EQ(out.substr(52), "-01");
    for (const std::string bad :
         {"", "garbage", "00-00000000000000000000000000000000-b7ad6b7169203331-01",
          "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
          "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
          "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
          "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra"}) {
        EXPECT_TRUE(obs::trace_id_of(bad).empty()) << bad;
        const auto fresh = obs::make_traceparent(bad);
        EXPECT_EQ(fresh.size(), 55u);
        EXPECT_FALSE(obs::trace_id_of(fresh).empty()) << fresh;
    }
    EXPECT_NE(obs::make_traceparent("").substr(3, 32), obs::make_traceparent("").substr(3, 32));
}

TEST(TraceContext, TracestateIsStoredWithTheTraceparentAndForwardedAsIs) {
    const std::string tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const std::string ts = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE, tenant@vendor=x y";
    const auto stored = obs::stored_trace_context(tp, ts);
    EXPECT_EQ(obs::traceparent_of(stored), tp);
    EXPECT_EQ(obs::tracestate_of(stored), ts);
    EXPECT_EQ(obs::trace_id_of(stored), "0af7651916cd43dd8448eb211c80319c");
    EXPECT_EQ(obs::make_traceparent(stored).substr(0, 36), tp.substr(0, 36));
    EXPECT_EQ(obs::make_traceparent(stored).size(), 55u);
    // Without a tracestate, and for rows stored before it was kept: the traceparent alone.
    EXPECT_EQ(obs::stored_trace_context(tp, ""), tp);
    EXPECT_EQ(obs::traceparent_of(tp), tp);
    EXPECT_TRUE(obs::tracestate_of(tp).empty());
}

TEST(TraceContext, AnInvalidTracestateIsDropped) {
    const std::string tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    EXPECT_TRUE(obs::valid_tracestate("a=1"));
    EXPECT_TRUE(obs::valid_tracestate("a=1,,b=2"));  // empty members are allowed
    for (const std::string& bad :
         {std::string("="), std::string("novalue"), std::string("Upper=1"), std::string("a=1,b"),
          std::string("a=x\ty"), std::string("a=1=2"), std::string(" , "), std::string(600, 'a')}) {
        EXPECT_FALSE(obs::valid_tracestate(bad)) << bad;
        EXPECT_EQ(obs::stored_trace_context(tp, bad), tp) << bad;
    }
    std::string many;
    for (int i = 0; i < 33; ++i) {
        many += 'k';  // appended: GCC 12 -O3 -Wrestrict false positive on "k" + std::string
        many += std::to_string(i);
        many += "=v,";
    }
    EXPECT_FALSE(obs::valid_tracestate(many));  // more than 32 members
}

TEST(RetryAfter, SecondsAndHttpDates) {
    EXPECT_EQ(net::parse_retry_after_ms("120", 0), 120000);
    EXPECT_EQ(net::parse_retry_after_ms("0", 0), 0);
    EXPECT_EQ(net::parse_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470), 10000);
    EXPECT_EQ(net::parse_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490), 0);
    EXPECT_FALSE(net::parse_retry_after_ms("", 0));
    EXPECT_FALSE(net::parse_retry_after_ms("soon", 0));
    EXPECT_FALSE(net::parse_retry_after_ms("-5", 0));
}

}  // namespace
}  // namespace cg::delivery
