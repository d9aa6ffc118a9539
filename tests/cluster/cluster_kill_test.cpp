// Cluster mode, "Accepted is a promise" across processes: real Redis and PostgreSQL, two API
// processes and three workers, a load of requests to both API processes while, in turn, a
// worker, an API process, Redis and PostgreSQL are killed with SIGKILL and restarted. Every
// request answered 200 must reach the receiver (at least once), within a bounded time after
// the load ends.
//
// Settings (environment): CLUSTER_KILL_CLIENTS (4), CLUSTER_KILL_RATE (total requests/s, 100),
// CLUSTER_KILL_DOWN_MS (how long each part stays down, 1500), CLUSTER_KILL_SETTLE_SECONDS (120).
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "chaos/chaos_support.hpp"
#include "cluster/cluster_support.hpp"
#include "support/http_client.hpp"

namespace cg::test::cluster {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using chaos::CallbackReceiver;
using chaos::env_int;

const std::string kSecret = "whsec_c2VjcmV0LWtleS1mb3ItdGVzdHM=";
const std::string kKillStation = "123e4567-e89b-12d3-a456-426614174000";
const std::string kAllowed = "CLUSTER-allowed-00000001";
const std::string kUnknown = "CLUSTER-unknown-00000001";
const std::vector<std::string> kApis = {"api-0", "api-1"};
const std::vector<std::string> kWorkers = {"worker-0", "worker-1", "worker-2"};

int64_t ms_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
}

int64_t ms_since(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

std::string json_field(const std::string& body, const char* key) {
    boost::system::error_code ec;
    const auto v = boost::json::parse(body, ec);
    if (ec || !v.is_object()) return {};
    const auto* f = v.as_object().if_contains(key);
    return f && f->is_string() ? std::string(f->as_string()) : std::string();
}

class ClusterKillTest : public ::testing::Test {
  protected:
    CallbackReceiver receiver{kSecret};
    Cluster cluster{{{"CALLBACK_SIGNING_SECRET", kSecret},
                     {"CALLBACK_RETRY_BASE_MS", "50"},
                     {"CALLBACK_RETRY_MAX_MS", "1000"},
                     {"CALLBACK_TIMEOUT_MS", "2000"},
                     // Never dead-letter here: every acknowledged request must be delivered.
                     {"CALLBACK_MAX_ATTEMPTS", "1000"}}};

    std::mutex mu;  // guards the ledger below
    std::set<std::string> acknowledged;
    std::map<long, size_t> answers;                   // HTTP status → count (0: no answer)
    std::map<std::string, size_t> unanswered_errors;  // curl's reason for no answer
    std::vector<std::string> errors;                  // answers that break the contract
    std::atomic<Clock::time_point::rep> last_ack{0};
    std::atomic<bool> stop{false};

    void TearDown() override {
        for (const auto& report : cluster.sanitizer_reports()) ADD_FAILURE() << report;
        if (HasFailure()) std::cerr << cluster.logs();
    }

    // One client: a keep-alive connection to each API process, requests alternating between
    // them, paced at `interval`. Fire and forget: a POST without an answer is not acknowledged.
    void client(int index, std::chrono::microseconds interval) {
        HttpConnection conns[2];
        auto next = Clock::now();
        for (int n = 0; !stop.load(); ++n) {
            next += interval;
            std::this_thread::sleep_until(next);
            if (Clock::now() > next + 1s) next = Clock::now();  // no burst after an outage
            const size_t api = static_cast<size_t>(index + n) % kApis.size();
            const std::string& token = n % 4 == 3 ? kUnknown : kAllowed;
            const std::string body = R"({"station_id":")" + kKillStation + R"(","driver_token":")" +
                                     token + R"(","callback_url":")" + receiver.url() + R"("})";
            const auto r =
                conns[api].post_json(cluster.url(kApis[api], "/api/v1/charging-session"), body);
            std::lock_guard lock(mu);
            ++answers[r.status];
            if (r.status == 200) {
                const auto id = json_field(r.body, "request_id");
                if (id.empty() || !acknowledged.insert(id).second) {
                    errors.push_back("200 with a missing or repeated request_id: " + r.body);
                }
                last_ack = Clock::now().time_since_epoch().count();
            } else if (r.status == 0) {
                ++unanswered_errors[r.error];
            } else if (r.status != 503) {
                errors.push_back("POST answered " + std::to_string(r.status) + ": " + r.body);
            }
        }
    }

    size_t acknowledged_count() {
        std::lock_guard lock(mu);
        return acknowledged.size();
    }

    // Waits until a request is acknowledged after `since`; the ms that took, or -1.
    int64_t first_ack_after(Clock::time_point since, std::chrono::milliseconds timeout) {
        const auto end = since + timeout;
        while (Clock::now() < end) {
            if (Clock::time_point(Clock::duration(last_ack.load())) > since) return ms_since(since);
            std::this_thread::sleep_for(10ms);
        }
        return -1;
    }
};

TEST_F(ClusterKillTest, KillNineOfEachPartLosesNothingAcknowledged) {
    const int clients = static_cast<int>(env_int("CLUSTER_KILL_CLIENTS", 4));
    const int64_t rate = std::max<int64_t>(1, env_int("CLUSTER_KILL_RATE", 100));
    const auto down = std::chrono::milliseconds(env_int("CLUSTER_KILL_DOWN_MS", 1500));
    const auto settle = std::chrono::seconds(env_int("CLUSTER_KILL_SETTLE_SECONDS", 120));

    const auto t0 = Clock::now();
    cluster.start_backends();
    // All five at once on the fresh database: MIGRATE_ON_START from several instances.
    for (const auto& name : kApis) cluster.launch(name, "api");
    for (const auto& name : kWorkers) cluster.launch(name, "worker");
    ASSERT_TRUE(cluster.wait_all_ready()) << "the cluster did not start";
    const auto acl = http_request("PUT", cluster.url("api-0", "/api/v1/acl/" + kAllowed),
                                  {{"Content-Type", "application/json"}},
                                  R"({"status":"allowed","stations":null,"expires_at":null})");
    ASSERT_EQ(acl.status, 200) << acl.body;
    std::cout << "[ cluster kill ] 2 api + 3 worker processes ready after " << ms_since(t0)
              << " ms; " << clients << " clients, " << rate << " requests/s\n";

    const auto load_start = Clock::now();
    const auto interval = std::chrono::microseconds(1'000'000LL * clients / rate);
    std::vector<std::thread> threads;
    // Stops and joins the clients however this scope is left: a restart that throws must not
    // destroy joinable threads (std::terminate would leave every server of the test running).
    struct JoinClients {
        std::atomic<bool>& stop;
        std::vector<std::thread>& threads;
        ~JoinClients() {
            stop = true;
            for (auto& t : threads) {
                if (t.joinable()) t.join();
            }
        }
    } join_clients{stop, threads};
    for (int i = 0; i < clients; ++i) {
        threads.emplace_back([this, i, interval] { client(i, interval); });
    }

    // Each part in turn: kill -9, down for `down`, restarted; then the load runs on for a while
    // with everything up before the next part goes.
    struct Part {
        std::string name;
        std::function<void()> kill;
        std::function<void()> restart;
    };
    const auto restart_process = [this](const std::string& name) {
        auto& p = cluster.process(name);
        p.start();
        if (!p.wait_ready(60s)) ADD_FAILURE() << name << " not ready after its restart";
    };
    const std::vector<Part> parts = {
        {"worker-0", [this] { cluster.process("worker-0").kill9(); },
         [&] { restart_process("worker-0"); }},
        {"api-1", [this] { cluster.process("api-1").kill9(); }, [&] { restart_process("api-1"); }},
        {"redis", [this] { cluster.redis().kill9(); }, [this] { cluster.redis().restart(); }},
        {"postgres", [this] { cluster.postgres().kill9(); },
         [this] { cluster.postgres().restart(); }},
    };
    std::this_thread::sleep_for(3s);
    for (const auto& part : parts) {
        const size_t before = acknowledged_count();
        const auto kill_at = Clock::now();
        part.kill();
        const auto killed_at = Clock::now();
        std::this_thread::sleep_for(down);
        const auto restart_at = Clock::now();
        part.restart();
        const auto restarted_at = Clock::now();
        const int64_t ack_ms = first_ack_after(restarted_at, 30s);
        std::cout << "[ cluster kill ] " << part.name << ": kill -9 ("
                  << ms_between(kill_at, killed_at) << " ms), down "
                  << ms_between(killed_at, restart_at) << " ms, restart took "
                  << ms_between(restart_at, restarted_at) << " ms; "
                  << (acknowledged_count() - before) << " acknowledged meanwhile; first 200 "
                  << ack_ms << " ms after the restart\n";
        EXPECT_GE(ack_ms, 0) << "no request acknowledged within 30 s after " << part.name
                             << " came back";
        std::this_thread::sleep_for(3s);
    }
    stop = true;
    for (auto& t : threads) t.join();
    const auto load_end = Clock::now();

    ASSERT_FALSE(acknowledged.empty());
    const auto settle_end = load_end + settle;
    while (Clock::now() < settle_end && !receiver.missing(acknowledged).empty()) {
        std::this_thread::sleep_for(100ms);
    }
    const int64_t settle_ms = ms_since(load_end);
    const auto deliveries = receiver.deliveries();
    const auto totals = receiver.totals();
    const auto missing = receiver.missing(acknowledged);
    size_t delivered = 0;
    for (const auto& id : acknowledged) delivered += deliveries.contains(id) ? 1 : 0;
    const size_t duplicates = totals.answered_2xx - deliveries.size();
    std::cout << "[ cluster kill ] load " << ms_since(load_start) / 1000 << " s; answers:";
    for (const auto& [status, n] : answers) std::cout << " " << status << "=" << n;
    std::cout << "; all delivered " << settle_ms << " ms after the load ended\n";
    for (const auto& [error, n] : unanswered_errors) {
        std::cout << "[ cluster kill ] unanswered: " << n << " x " << error << "\n";
    }
    std::cout << "[ cluster kill ] acknowledged=" << acknowledged.size()
              << " delivered=" << delivered << " duplicates=" << duplicates
              << " lost=" << missing.size() << "\n";
    size_t shown = 0;
    for (const auto& id : missing) {
        if (++shown > 5) break;
        const auto s = http_get(cluster.url("api-0", "/api/v1/charging-session/" + id));
        ADD_FAILURE() << "lost " << id << ": " << s.status << " " << s.body;
    }
    EXPECT_EQ(missing.size(), 0u);
    EXPECT_EQ(totals.bad_signatures, 0u);
    EXPECT_EQ(totals.bad_bodies, 0u);
    for (const auto& e : errors) ADD_FAILURE() << e;

    // Every acknowledged request's status is final, read through either API process; and every
    // process is alive (none died by itself during the run).
    size_t not_delivered = 0;
    size_t i = 0;
    for (const auto& id : acknowledged) {
        const auto& api = kApis[i++ % kApis.size()];
        std::string state;
        for (int tries = 0; tries < 100 && state != "delivered"; ++tries) {
            if (tries > 0) std::this_thread::sleep_for(50ms);
            state = json_field(http_get(cluster.url(api, "/api/v1/charging-session/" + id)).body,
                               "state");
        }
        if (state != "delivered" && ++not_delivered <= 5) {
            ADD_FAILURE() << id << " is " << (state.empty() ? "unreadable" : state);
        }
    }
    EXPECT_EQ(not_delivered, 0u);
    for (const auto& name : kApis) {
        EXPECT_EQ(http_get(cluster.url(name, "/health/ready")).status, 200) << name;
    }
    for (const auto& name : kWorkers) {
        EXPECT_EQ(http_get(cluster.url(name, "/health/ready")).status, 200) << name;
    }
}

}  // namespace
}  // namespace cg::test::cluster
