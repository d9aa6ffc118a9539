// docs/api.md §3 (status) and §5 (health, metrics, logs, SIGTERM), crash safety.
#include <signal.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <thread>

#include "service_fixture.hpp"

namespace cg::test {
namespace {

class OperationsTest : public ServiceTest {};

TEST_F(OperationsTest, StatusFollowsTheRequestAndMasksTheToken) {
    start();
    allow(kToken);
    const auto r = post_session(receiver_.url());
    const auto id = str(parse_object(r.body), "request_id");
    ASSERT_TRUE(wait_state(id, "delivered"));
    const auto raw = http_get(url("/api/v1/charging-session/" + id));
    EXPECT_EQ(raw.body.find(kToken), std::string::npos);
    const auto s = parse_object(raw.body);
    EXPECT_EQ(str(s, "request_id"), id);
    EXPECT_EQ(str(s, "station_id"), kStation);
    EXPECT_EQ(str(s, "driver_token"), "ABCD***");
    EXPECT_EQ(str(s, "created_at").size(), 24u);
    const auto& d = s.at("decision").as_object();
    EXPECT_EQ(str(d, "status"), "allowed");
    EXPECT_EQ(str(d, "reason"), "acl_allowed");
    EXPECT_EQ(str(d, "decided_at").size(), 24u);
    const auto& cb = s.at("callback").as_object();
    EXPECT_EQ(cb.at("attempts").as_int64(), 1);
    EXPECT_EQ(cb.at("last_status_code").as_int64(), 200);
    EXPECT_TRUE(cb.at("last_error").is_null());
    EXPECT_TRUE(cb.at("next_attempt_at").is_null());
    EXPECT_EQ(str(cb, "delivered_at").size(), 24u);
}

TEST_F(OperationsTest, UnknownAndMalformedIdsAre404) {
    start();
    EXPECT_EQ(http_get(url("/api/v1/charging-session/00000000-0000-4000-8000-000000000000")).status,
              404);
    const auto r = http_get(url("/api/v1/charging-session/not-an-id"));
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(str(parse_object(r.body), "status"), "error");
}

TEST_F(OperationsTest, HealthAndMetrics) {
    start();
    auto r = http_get(url("/health"));
    ASSERT_EQ(r.status, 200);
    const auto h = parse_object(r.body);
    EXPECT_EQ(str(h, "status"), "UP");
    const auto& c = h.at("components").as_object();
    for (const char* name : {"queue", "store", "authorizer"}) {
        ASSERT_TRUE(c.contains(name)) << name;
        EXPECT_EQ(str(c.at(name).as_object(), "status"), "UP");
    }
    EXPECT_TRUE(c.at("queue").as_object().contains("depth"));
    EXPECT_EQ(http_get(url("/health/live")).status, 200);
    EXPECT_EQ(http_get(url("/health/ready")).status, 200);
    ASSERT_EQ(post_session(receiver_.url()).status, 200);
    ASSERT_TRUE(receiver_.wait_for_count(1, std::chrono::seconds(10)));
    r = http_get(url("/metrics"));
    ASSERT_EQ(r.status, 200);
    EXPECT_NE(r.header("content-type").find("text/plain"), std::string::npos);
    for (const char* series :
         {"charging_requests_total{status=\"accepted\"} 1",
          "authorization_processing_time_seconds_bucket", "authorization_queue_size",
          "callback_deliveries_total{result=\"delivered\"}",
          "callback_delivery_duration_seconds_bucket",
          "http_requests_total{route=\"charging_session_create\",code=\"200\"} 1"}) {
        EXPECT_NE(r.body.find(series), std::string::npos) << series;
    }
}

TEST_F(OperationsTest, LogsAreJsonLinesWithRequestIdsAndNoFullTokens) {
    env["LOG_LEVEL"] = "DEBUG";
    start();
    const auto r = post_session(receiver_.url());
    const auto id = str(parse_object(r.body), "request_id");
    ASSERT_TRUE(wait_state(id, "delivered"));
    service_->terminate();
    ASSERT_EQ(service_->wait_exit(), 0);
    std::istringstream log(service_->log());
    std::string line;
    bool mentions_request = false;
    while (std::getline(log, line)) {
        if (line.empty()) continue;
        const auto o = parse_object(line);
        ASSERT_FALSE(o.empty()) << "not a JSON object: " << line;
        EXPECT_TRUE(o.contains("ts") && o.contains("level") && o.contains("msg")) << line;
        EXPECT_EQ(line.find(kToken), std::string::npos) << line;
        if (str(o, "request_id") == id) mentions_request = true;
    }
    EXPECT_TRUE(mentions_request);
}

// The start-up line tells an operator what runs: version, mode and role, and which protections
// are on.
TEST_F(OperationsTest, StartupLineSaysVersionModeAndProtections) {
    // The `starts`-th start's line. /health/ready may answer before the line is written, so it
    // is waited for.
    auto ready_line = [&](int starts) {
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        for (;;) {
            std::istringstream log(service_->log());
            std::string line;
            int seen = 0;
            while (std::getline(log, line)) {
                auto o = parse_object(line);
                if (str(o, "msg") == "chargegate ready" && ++seen == starts) return o;
            }
            if (std::chrono::steady_clock::now() > end) return boost::json::object{};
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    };
    start();
    auto o = ready_line(1);
    ASSERT_FALSE(o.empty()) << service_->log();
    EXPECT_EQ(str(o, "version"), CG_VERSION);
    EXPECT_EQ(str(o, "mode"), cluster_mode() ? "cluster" : "embedded");
    EXPECT_EQ(str(o, "role"), "all");
    EXPECT_EQ(str(o, "signing"), "off");
    EXPECT_EQ(str(o, "client_auth"), "off");
    EXPECT_EQ(str(o, "tls"), "off");
    EXPECT_EQ(str(o, "rate_limit"), "off");
    service_->terminate();
    ASSERT_EQ(service_->wait_exit(), 0);

    env["CALLBACK_SIGNING_SECRET"] = "whsec_c2VjcmV0LWtleS1mb3ItdGVzdHM=";
    env["API_AUTH"] = "on";
    env["RATE_LIMIT_PER_SECOND"] = "100";
    start();
    o = ready_line(2);
    ASSERT_FALSE(o.empty()) << service_->log();
    EXPECT_EQ(str(o, "signing"), "on");
    EXPECT_EQ(str(o, "client_auth"), "api_keys");
    EXPECT_EQ(str(o, "rate_limit"), "on");
}

TEST_F(OperationsTest, SigtermDrainsExitsZeroAndStateSurvivesRestart) {
    start();
    std::vector<std::string> ids;
    for (int i = 0; i < 50; ++i) {
        const auto r = post_session(receiver_.url());
        ASSERT_EQ(r.status, 200);
        ids.push_back(str(parse_object(r.body), "request_id"));
    }
    service_->terminate();
    EXPECT_EQ(service_->wait_exit(), 0);
    start();
    for (const auto& id : ids) EXPECT_TRUE(wait_state(id, "delivered")) << id;
}

TEST_F(OperationsTest, BadConfigurationStopsWithOneLine) {
    env["PORT"] = "abc";
    const auto r = run_command(binary(), {"serve"}, env);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("PORT"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST_F(OperationsTest, ForeignDataFileIsAClearStartupError) {
    if (cluster_mode()) {
        GTEST_SKIP() << "about the SQLite file in DATA_DIR, which cluster mode ignores";
    }
    std::filesystem::create_directories(env["DATA_DIR"]);
    std::ofstream(std::filesystem::path(env["DATA_DIR"]) / "chargegate.db")
        << std::string(8192, 'x');
    const auto r = run_command(binary(), {"serve"}, env);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("not a chargegate database"), std::string::npos) << r.err;
}

// kill -9 during a load of concurrent requests; every acknowledged request must reach the
// receiver after a restart.
TEST_F(OperationsTest, KillNineLosesNothingAcknowledged) {
    env["WORKERS"] = "2";
    start();
    std::mutex mu;
    std::set<std::string> acknowledged;
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int t = 0; t < 4; ++t) {
        clients.emplace_back([&] {
            while (!stop.load()) {
                const auto r = post_session(receiver_.url());
                if (r.status == 200) {
                    std::lock_guard lock(mu);
                    acknowledged.insert(str(parse_object(r.body), "request_id"));
                }
            }
        });
    }
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < until) {
        {
            std::lock_guard lock(mu);
            if (acknowledged.size() >= 2000) break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    service_->kill9();
    stop = true;
    for (auto& c : clients) c.join();
    ASSERT_GT(acknowledged.size(), 100u);
    start();
    auto delivered_ids = [&] {
        std::set<std::string> seen;
        for (const auto& r : receiver_.requests()) seen.insert(r.header("webhook-id"));
        return seen;
    };
    const bool all = receiver_.wait_for(
        [&](const std::vector<Recorded>& log) {
            std::set<std::string> seen;
            for (const auto& r : log) seen.insert(r.header("webhook-id"));
            for (const auto& id : acknowledged) {
                if (!seen.count(id)) return false;
            }
            return true;
        },
        std::chrono::seconds(60));
    const auto seen = delivered_ids();
    size_t lost = 0;
    for (const auto& id : acknowledged) lost += seen.count(id) ? 0 : 1;
    const size_t duplicates = receiver_.count() - seen.size();
    std::cout << "[ kill -9 ] acknowledged=" << acknowledged.size() << " delivered=" << seen.size()
              << " duplicates=" << duplicates << " lost=" << lost << "\n";
    EXPECT_TRUE(all);
    EXPECT_EQ(lost, 0u);
}

}  // namespace
}  // namespace cg::test
