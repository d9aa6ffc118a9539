#include "cli/stats_view.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "cli/admin_client.hpp"

namespace cg::cli {
namespace {

Histogram histogram(std::vector<double> bounds, std::vector<uint64_t> buckets) {
    Histogram h;
    h.bounds = std::move(bounds);
    h.buckets = std::move(buckets);
    h.count = h.total();
    return h;
}

TEST(HistogramQuantile, InterpolatesInsideTheBucketItFallsIn) {
    // 10 observations in (0, 1], 10 in (1, 2].
    const auto h = histogram({1, 2, 4}, {10, 10, 0, 0});
    EXPECT_DOUBLE_EQ(histogram_quantile(h, 0.5)->seconds, 1.0);
    EXPECT_DOUBLE_EQ(histogram_quantile(h, 0.25)->seconds, 0.5);
    EXPECT_DOUBLE_EQ(histogram_quantile(h, 0.75)->seconds, 1.5);
    EXPECT_DOUBLE_EQ(histogram_quantile(h, 1.0)->seconds, 2.0);
    EXPECT_FALSE(histogram_quantile(h, 0.99)->above_top);
}

TEST(HistogramQuantile, SkipsEmptyBucketsAndStartsAtZero) {
    const auto h = histogram({0.001, 0.01, 0.1}, {0, 0, 4, 0});
    // All four between 10 ms and 100 ms: p50 is half-way.
    EXPECT_DOUBLE_EQ(histogram_quantile(h, 0.5)->seconds, 0.055);
    const auto first = histogram({0.001, 0.01}, {2, 0, 0});
    EXPECT_DOUBLE_EQ(histogram_quantile(first, 0.5)->seconds, 0.0005);
}

TEST(HistogramQuantile, TheInfBucketIsReportedAsAboveTheTopBound) {
    const auto h = histogram({1, 2}, {1, 0, 9});
    const auto q = histogram_quantile(h, 0.95);
    ASSERT_TRUE(q.has_value());
    EXPECT_TRUE(q->above_top);
    EXPECT_DOUBLE_EQ(q->seconds, 2.0);
    EXPECT_DOUBLE_EQ(histogram_quantile(h, 0.05)->seconds, 0.5);
}

TEST(HistogramQuantile, EmptyOrMalformedHasNone) {
    EXPECT_FALSE(histogram_quantile(histogram({1, 2}, {0, 0, 0}), 0.5).has_value());
    EXPECT_FALSE(histogram_quantile(histogram({1, 2}, {1, 1}), 0.5).has_value());  // no +Inf
    EXPECT_FALSE(histogram_quantile(histogram({1}, {1, 0}), 0).has_value());
}

TEST(HistogramDifference, IsWhatHappenedBetweenTwoReads) {
    const auto before = histogram({1, 2}, {5, 1, 0});
    const auto after = histogram({1, 2}, {5, 4, 1});
    const auto d = histogram_difference(after, before);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->buckets, (std::vector<uint64_t>{0, 3, 1}));
    EXPECT_EQ(d->count, 4u);
    // Over the interval the median is in (1, 2], not in (0, 1] where the old ones were.
    EXPECT_GT(histogram_quantile(*d, 0.5)->seconds, 1.0);
}

TEST(HistogramDifference, RestartOrOtherBoundsCannotBeCompared) {
    EXPECT_FALSE(histogram_difference(histogram({1, 2}, {1, 0, 0}), histogram({1, 2}, {2, 0, 0}))
                     .has_value());
    EXPECT_FALSE(histogram_difference(histogram({1, 3}, {1, 0, 0}), histogram({1, 2}, {0, 0, 0}))
                     .has_value());
}

const char* kStats = R"({
  "version": "0.1.0", "role": "all", "uptime_seconds": 10.0, "time": "2026-11-30T08:00:00.000Z",
  "counters": {"accepted": 10, "replayed": 0, "rejected": 1,
               "decided": {"allowed": 8, "not_allowed": 1, "unknown": 1},
               "delivered": 9, "attempts_failed": 3, "retries_scheduled": 2, "dead_lettered": 1},
  "gauges": {"queue_depth": 7, "oldest_queued_age_seconds": 1.5, "authorizations_in_flight": 2,
             "callback_pending": 3, "callback_in_flight": 1, "store_writable": true,
             "circuit_state": null},
  "latency": {"accept": {"bounds": [0.001, 0.01], "buckets": [10, 0, 0], "count": 10,
                         "sum": 0.005},
              "end_to_end": {"bounds": [0.1, 1], "buckets": [0, 9, 0], "count": 9, "sum": 4}},
  "receivers": [{"receiver": "http://127.0.0.1:9000", "failures": 4,
                 "consecutive_failures": 3, "last_status_code": 500,
                 "last_error": "receiver answered 500",
                 "last_failure_at": "2026-11-30T07:59:59.000Z", "concurrency_limit": 3}],
  "receiver_flow": [{"receiver": "http://127.0.0.1:9000", "concurrency_limit": 3,
                     "in_flight": 3, "waiting": 12, "paused_until": "2026-11-30T08:00:05.000Z",
                     "delivered": 40},
                    {"receiver": "https://fast.example:443", "concurrency_limit": 24,
                     "in_flight": 2, "waiting": 0, "paused_until": null, "delivered": 900}]
})";

// The line of `text` that starts with `start`, or "".
std::string line_starting(const std::string& text, const std::string& start) {
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        if (text.compare(pos, start.size(), start) == 0) return text.substr(pos, end - pos);
        pos = end + 1;
    }
    return "";
}

StatsSnapshot snapshot(const std::string& text) {
    return parse_stats(boost::json::parse(text).as_object());
}

TEST(StatsSnapshot, ReadsEveryPartOfTheAnswer) {
    const auto s = snapshot(kStats);
    EXPECT_EQ(s.version, "0.1.0");
    EXPECT_DOUBLE_EQ(s.uptime_seconds, 10.0);
    EXPECT_EQ(s.counter("accepted"), 10);
    EXPECT_EQ(s.counter("decided.not_allowed"), 1);
    EXPECT_EQ(s.counter("no_such_counter"), 0);
    EXPECT_EQ(s.queue_depth, 7);
    EXPECT_DOUBLE_EQ(s.oldest_queued_age_seconds, 1.5);
    EXPECT_TRUE(s.circuit_state.empty());
    ASSERT_EQ(s.latency.count("accept"), 1u);
    EXPECT_EQ(s.latency.at("accept").buckets.size(), 3u);
    ASSERT_EQ(s.receivers.size(), 1u);
    EXPECT_EQ(s.receivers[0].last_status_code, 500);
    EXPECT_EQ(s.receivers[0].concurrency_limit, 3);
    ASSERT_TRUE(s.receiver_flow.has_value());
    ASSERT_EQ(s.receiver_flow->size(), 2u);
    const auto& slow = (*s.receiver_flow)[0];
    EXPECT_EQ(slow.receiver, "http://127.0.0.1:9000");
    EXPECT_EQ(slow.concurrency_limit, 3);
    EXPECT_EQ(slow.in_flight, 3);
    EXPECT_EQ(slow.waiting, 12);
    EXPECT_EQ(slow.paused_until, "2026-11-30T08:00:05.000Z");
    EXPECT_EQ(slow.delivered, 40);
    EXPECT_TRUE((*s.receiver_flow)[1].paused_until.empty());
}

TEST(StatsSnapshot, AnOlderServerWithoutFlowOrLimitsIsRead) {
    auto o = boost::json::parse(kStats).as_object();
    o.erase("receiver_flow");
    o["receivers"].as_array()[0].as_object().erase("concurrency_limit");
    const auto s = parse_stats(o);
    EXPECT_FALSE(s.receiver_flow.has_value());
    ASSERT_EQ(s.receivers.size(), 1u);
    EXPECT_FALSE(s.receivers[0].concurrency_limit.has_value());
    const auto text = render_stats(s, nullptr, {"u", 2, true});
    EXPECT_EQ(text.find("\nreceivers"), std::string::npos) << text;
    EXPECT_NE(text.find("failing receivers (most"), std::string::npos) << text;
}

TEST(RenderStats, ShowsTheBusiestReceiversAndTheFailingOnesLimit) {
    auto s = snapshot(kStats);
    const auto text = render_stats(s, nullptr, {"u", 2, true});
    const auto header = line_starting(text, "receiver ");
    EXPECT_NE(header.find("limit"), std::string::npos) << text;
    EXPECT_NE(header.find("in flight"), std::string::npos) << text;
    EXPECT_NE(header.find("waiting"), std::string::npos) << text;
    EXPECT_NE(header.find("paused until"), std::string::npos) << text;
    const auto fast = line_starting(text, "https://fast.example:443");
    EXPECT_NE(fast.find(" 24 "), std::string::npos) << text;
    EXPECT_TRUE(fast.ends_with(" -")) << text;  // not paused
    const auto slow_rows = text.find("2026-11-30T08:00:05.000Z");
    EXPECT_NE(slow_rows, std::string::npos) << text;
    EXPECT_NE(text.find("in a row  limit"), std::string::npos) << text;

    s.receiver_flow->clear();
    s.receivers.clear();
    const auto idle = render_stats(s, nullptr, {"u", 2, true});
    EXPECT_NE(idle.find("receivers: no deliveries in flight"), std::string::npos) << idle;
}

TEST(StatsSnapshot, AnAnswerWithoutCountersIsAnError) {
    EXPECT_THROW(snapshot(R"({"status":"UP"})"), AdminError);
    // Wrong types read as zero instead of throwing.
    const auto s = snapshot(R"({"counters":{"accepted":"many"},"gauges":[],"latency":{"x":1}})");
    EXPECT_EQ(s.counter("accepted"), 0);
}

TEST(CounterRate, IsTheDifferenceOverTheServicesUptime) {
    auto before = snapshot(kStats);
    auto after = before;
    after.uptime_seconds = 12.0;
    after.counters["accepted"] = 30;
    EXPECT_DOUBLE_EQ(*counter_rate(after, &before, "accepted"), 10.0);
    EXPECT_DOUBLE_EQ(*counter_rate(after, &before, "delivered"), 0.0);
    EXPECT_FALSE(counter_rate(after, nullptr, "accepted").has_value());
    EXPECT_FALSE(counter_rate(before, &before, "accepted").has_value());  // no time passed
    after.counters["accepted"] = 3;                                       // the service restarted
    EXPECT_FALSE(counter_rate(after, &before, "accepted").has_value());
}

TEST(FormatSeconds, PicksAUnitThatFits) {
    EXPECT_EQ(format_seconds(0.000125), "125us");
    EXPECT_EQ(format_seconds(0.0042), "4.20ms");
    EXPECT_EQ(format_seconds(0.125), "125.0ms");
    EXPECT_EQ(format_seconds(1.5), "1.50s");
    EXPECT_EQ(format_seconds(125), "2m05s");
    EXPECT_EQ(format_seconds(-1), "-");
}

TEST(RenderStats, OnceShowsTotalsAndLifetimePercentilesWithoutRates) {
    const auto s = snapshot(kStats);
    const auto text = render_stats(s, nullptr, {"http://127.0.0.1:8080", 2, true});
    EXPECT_NE(text.find("chargegate 0.1.0"), std::string::npos) << text;
    EXPECT_NE(text.find("http://127.0.0.1:8080"), std::string::npos);
    EXPECT_EQ(text.find("per second"), std::string::npos) << text;
    EXPECT_NE(text.find("since start"), std::string::npos);
    EXPECT_NE(text.find("queue depth 7 (oldest 1.50s)"), std::string::npos) << text;
    EXPECT_NE(text.find("built-in ACL"), std::string::npos);
    EXPECT_NE(text.find("end-to-end"), std::string::npos);
    EXPECT_NE(text.find("http://127.0.0.1:9000"), std::string::npos);
    EXPECT_NE(text.find("500 receiver answered 500"), std::string::npos);
    // Each counter on its own line with its total.
    EXPECT_TRUE(line_starting(text, "dead-lettered").ends_with(" 1")) << text;
    EXPECT_TRUE(line_starting(text, "decided allowed").ends_with(" 8")) << text;
    EXPECT_EQ(text.find('\x1b'), std::string::npos);  // no terminal codes in the text itself
}

TEST(RenderStats, LiveShowsRatesAndPercentilesOfTheLastInterval) {
    const auto before = snapshot(kStats);
    auto after = before;
    after.uptime_seconds = 12.0;
    after.counters["accepted"] = 30;
    after.latency["accept"].buckets = {10, 20, 0};  // the new 20 took 1-10 ms
    after.receivers.clear();
    const auto text = render_stats(after, &before, {"u", 2, false});
    EXPECT_NE(text.find("per second"), std::string::npos) << text;
    // 20 accepted in 2 s.
    const auto accepted = line_starting(text, "accepted");
    EXPECT_TRUE(accepted.ends_with(" 10.00")) << text;
    EXPECT_NE(accepted.find(" 30 "), std::string::npos) << text;
    EXPECT_TRUE(line_starting(text, "delivered").ends_with(" 0.00")) << text;
    EXPECT_NE(text.find("last 2.0s"), std::string::npos) << text;
    // p50 of the last interval is 5.5 ms, not the lifetime's sub-millisecond one.
    EXPECT_NE(text.find("5.50ms"), std::string::npos) << text;
    EXPECT_NE(text.find("failing receivers: none"), std::string::npos);

    const auto first = render_stats(before, nullptr, {"u", 2, false});
    EXPECT_NE(first.find("rates from the next read"), std::string::npos) << first;
    auto restarted = before;
    restarted.uptime_seconds = 1;
    const auto after_restart = render_stats(restarted, &before, {"u", 2, false});
    EXPECT_NE(after_restart.find("restarted"), std::string::npos) << after_restart;
}

}  // namespace
}  // namespace cg::cli
