#include "obs/metrics.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace cg::obs {
namespace {

bool contains(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

TEST(Metrics, RendersContractSeriesInPrometheusFormat) {
    Metrics m;
    m.charging_requests.inc("accepted", 3);
    m.callback_deliveries.inc("delivered");
    m.http_requests.inc("charging_session_create", 200);
    m.authorization_time.observe(0.0004);
    const auto text = m.render({{"authorization_queue_size", "queued", 5, ""}});
    EXPECT_TRUE(contains(text, "# TYPE charging_requests_total counter"));
    EXPECT_TRUE(contains(text, "charging_requests_total{status=\"accepted\"} 3\n"));
    EXPECT_TRUE(contains(text, "# TYPE authorization_processing_time_seconds histogram"));
    EXPECT_TRUE(contains(text, "authorization_processing_time_seconds_bucket{le=\"0.0005\"} 1\n"));
    EXPECT_TRUE(contains(text, "authorization_processing_time_seconds_bucket{le=\"0.00025\"} 0\n"));
    EXPECT_TRUE(contains(text, "authorization_processing_time_seconds_bucket{le=\"+Inf\"} 1\n"));
    EXPECT_TRUE(contains(text, "authorization_processing_time_seconds_count 1\n"));
    EXPECT_TRUE(contains(text, "callback_deliveries_total{result=\"delivered\"} 1\n"));
    EXPECT_TRUE(contains(text, "# TYPE callback_delivery_duration_seconds histogram"));
    EXPECT_TRUE(
        contains(text, "http_requests_total{route=\"charging_session_create\",code=\"200\"} 1\n"));
    EXPECT_TRUE(
        contains(text, "# TYPE authorization_queue_size gauge\nauthorization_queue_size 5\n"));
}

TEST(Metrics, LabelValuesAreEscaped) {
    EXPECT_EQ(label_pair("receiver", "http://a:80"), "receiver=\"http://a:80\"");
    EXPECT_EQ(label_pair("receiver", "a\\b\"c\nd"), "receiver=\"a\\\\b\\\"c\\nd\"");
}

TEST(Metrics, LabelledGaugesShareOneHeader) {
    Metrics m;
    const auto text =
        m.render({{"callback_concurrency_limit", "limit", 4, label_pair("receiver", "a")},
                  {"callback_concurrency_limit", "limit", 8, label_pair("receiver", "b")}});
    EXPECT_TRUE(contains(text,
                         "# TYPE callback_concurrency_limit gauge\n"
                         "callback_concurrency_limit{receiver=\"a\"} 4\n"
                         "callback_concurrency_limit{receiver=\"b\"} 8\n"));
}

TEST(Metrics, UnknownLabelValuesFallIntoTheLastValue) {
    CounterVec c("x_total", "x", "kind", {"a", "other"});
    c.inc("zzz");
    EXPECT_EQ(c.value("other"), 1u);
    EXPECT_EQ(c.value("a"), 0u);
}

TEST(Metrics, ACounterVecTotalSumsEveryValue) {
    CounterVec c("x_total", "x", "kind", {"a", "b", "other"});
    EXPECT_EQ(c.total(), 0u);
    c.inc("a", 2);
    c.inc("b");
    c.inc("zzz", 4);
    EXPECT_EQ(c.total(), 7u);
}

TEST(Metrics, ConcurrentIncrementsAreNotLost) {
    Histogram h("h", "h", {0.1, 1});
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 10000; ++i) h.observe(0.05);
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(h.count(), 40000u);
}

}  // namespace
}  // namespace cg::obs
