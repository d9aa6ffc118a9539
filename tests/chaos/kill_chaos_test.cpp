// Chaos scenario 1 (docs/api.md §1 "Accepted is a promise", §2 at-least-once): a steady load of
// requests while the service is killed with SIGKILL at random moments and restarted on the same
// data directory, the callback receiver refuses or is gone for a while, and the remote
// authorizer hangs past its deadline. After the last cycle every acknowledged request must have
// reached the receiver and be `delivered`.
//
// Settings (environment): CHAOS_CYCLES (5), CHAOS_SEED (random, printed), CHAOS_CLIENTS (4),
// CHAOS_RATE (total requests/s, 200), CHAOS_MIN_CYCLE_MS (1000), CHAOS_MAX_CYCLE_MS (3000),
// CHAOS_SETTLE_SECONDS (120).
#include <atomic>
#include <iomanip>
#include <iostream>
#include <random>
#include <sstream>

#include "chaos/chaos_support.hpp"
#include "integration/service_fixture.hpp"

namespace cg::test {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using chaos::CallbackReceiver;

int64_t ms_since(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

// Tokens the fake authorizer allows, and tokens it does not know.
const std::vector<std::string> kAllowed = {"CHAOS-allowed-0000000001", "CHAOS-allowed-0000000002",
                                           "CHAOS-allowed-0000000003", "CHAOS-allowed-0000000004",
                                           "CHAOS-allowed-0000000005", "CHAOS-allowed-0000000006"};
const std::vector<std::string> kUnknown = {"CHAOS-unknown-0000000001", "CHAOS-unknown-0000000002"};
const std::vector<std::string> kStations = {"123e4567-e89b-12d3-a456-426614174000",
                                            "00000000-0000-4000-8000-000000000001",
                                            "A0B1C2D3-E4F5-4A6B-8C7D-0E1F2A3B4C5D"};

constexpr int64_t kAuthorizationTimeoutMs = 300;

// What a client sent, by the request id the service acknowledged.
struct Sent {
    std::string station_id;
    std::string driver_token;
    bool allowed_token = false;
};

class KillChaosTest : public ServiceTest {
  protected:
    CallbackReceiver receiver{kSecret};
    TestHttpServer authorizer;
    std::atomic<bool> authorizer_hangs{false};

    std::mutex mu;  // guards the client-side ledger below
    std::map<std::string, Sent> acknowledged;
    std::map<std::string, std::string> id_by_key;  // Idempotency-Key → request_id
    size_t unanswered_posts = 0;                   // POSTs without any answer (kill, restart)
    size_t given_up_keyed = 0;                     // keyed requests whose retries ended unanswered
    size_t given_up = 0;              // requests never acknowledged (no retry, or retries ended)
    size_t refused = 0;               // answered, not 200 (e.g. 503 back-pressure)
    size_t answered_after_retry = 0;  // keyed requests acknowledged after an unanswered POST
    std::vector<std::string> errors;  // answers that break the contract
    std::map<std::string, size_t> unanswered_by_error;  // curl's reason for no answer

    std::atomic<bool> stop_new{false};  // no new requests
    std::atomic<bool> stop_all{false};  // give up pending retries too

    void SetUp() override {
        ServiceTest::SetUp();
        authorizer.set_handler([this](const Recorded& r) {
            const auto o = parse_object(r.body);
            const auto token = str(o, "driver_token");
            Reply reply{200, R"({"status":"not_allowed","reason":"token_unknown"})"};
            if (std::find(kAllowed.begin(), kAllowed.end(), token) != kAllowed.end()) {
                reply = Reply{200, R"({"status":"allowed","reason":"acl_allowed"})"};
            }
            if (authorizer_hangs.load()) reply.delay = std::chrono::milliseconds(1500);
            return reply;
        });
        env["AUTHORIZER_URL"] = authorizer.url("/authorize");
        env["AUTHORIZATION_TIMEOUT_MS"] = std::to_string(kAuthorizationTimeoutMs);
        env["CALLBACK_SIGNING_SECRET"] = kSecret;
        env["CALLBACK_RETRY_BASE_MS"] = "50";
        env["CALLBACK_RETRY_MAX_MS"] = "1000";
        env["CALLBACK_TIMEOUT_MS"] = "1000";
        // Never dead-letter here: every acknowledged request must end `delivered`.
        env["CALLBACK_MAX_ATTEMPTS"] = "1000";
    }

    // One client: keep-alive connection, paced. Even-numbered clients send an Idempotency-Key
    // and repeat an unanswered POST with the same key (it must map to the same request);
    // odd-numbered clients fire and forget (an unanswered POST is "unacknowledged").
    void client(int index, uint64_t seed, std::chrono::microseconds interval) {
        std::mt19937_64 rng(seed);
        HttpConnection conn;
        const bool keyed = index % 2 == 0;
        auto next = Clock::now();
        for (int n = 0; !stop_new.load(); ++n) {
            next += interval;
            std::this_thread::sleep_until(next);
            if (Clock::now() > next + 1s) next = Clock::now();  // don't burst after an outage
            const bool allowed = rng() % 4 != 0;
            const auto& tokens = allowed ? kAllowed : kUnknown;
            Sent sent{kStations[rng() % kStations.size()], tokens[rng() % tokens.size()], allowed};
            const std::string key = "chaos-" + std::to_string(index) + "-" + std::to_string(n);
            Headers headers;
            if (keyed) headers.emplace_back("Idempotency-Key", key);
            // The query tells the receiver which kind of client sent the request.
            const std::string body = this->body(sent.station_id, sent.driver_token,
                                                receiver.url() + (keyed ? "?client=keyed" : ""));
            bool unanswered_before = false;
            for (;;) {
                const auto r = conn.post_json(url("/api/v1/charging-session"), body, headers);
                if (settle_post(r, sent, keyed ? key : std::string(), unanswered_before)) break;
                std::this_thread::sleep_for(20ms);
            }
        }
    }

    // Books one POST's outcome; true when the request is settled (acknowledged or given up).
    bool settle_post(const HttpResult& r, const Sent& sent, const std::string& key,
                     bool& unanswered_before) {
        std::lock_guard lock(mu);
        if (r.status == 200) {
            const auto id = str(parse_object(r.body), "request_id");
            if (id.empty()) errors.push_back("200 without request_id: " + r.body);
            if (key.empty() && acknowledged.contains(id)) {
                errors.push_back("request_id acknowledged twice: " + id);
            }
            acknowledged[id] = sent;
            if (!key.empty()) {
                auto [it, fresh] = id_by_key.emplace(key, id);
                if (!fresh && it->second != id) {
                    errors.push_back("key " + key + " answered with two request ids");
                }
                if (unanswered_before) ++answered_after_retry;
            }
            return true;
        }
        if (r.status == 0) {
            ++unanswered_posts;
            ++unanswered_by_error[r.error];
            unanswered_before = true;
            if (key.empty()) {  // fire and forget: unacknowledged
                ++given_up;
                return true;
            }
        } else if (r.status == 503 || r.status == 409) {
            ++refused;  // back-pressure, or the same key still in flight: try again
        } else {
            errors.push_back("POST answered " + std::to_string(r.status) + ": " + r.body);
            ++given_up;
            given_up_keyed += key.empty() ? 0 : 1;
            return true;
        }
        if (stop_all.load()) {
            ++given_up;
            given_up_keyed += key.empty() ? 0 : 1;
            return true;
        }
        return false;
    }

    size_t acknowledged_count() {
        std::lock_guard lock(mu);
        return acknowledged.size();
    }
};

TEST_F(KillChaosTest, KillNineAtRandomMomentsLosesNothingAcknowledged) {
    const int cycles = static_cast<int>(chaos::env_int("CHAOS_CYCLES", 5));
    const int clients = static_cast<int>(chaos::env_int("CHAOS_CLIENTS", 4));
    const int64_t rate = std::max<int64_t>(1, chaos::env_int("CHAOS_RATE", 200));
    const int64_t min_cycle_ms = chaos::env_int("CHAOS_MIN_CYCLE_MS", 1000);
    const int64_t max_cycle_ms = std::max(min_cycle_ms, chaos::env_int("CHAOS_MAX_CYCLE_MS", 3000));
    const auto settle = std::chrono::seconds(chaos::env_int("CHAOS_SETTLE_SECONDS", 120));
    const uint64_t seed = chaos::seed_from_env();
    std::cout << "[ chaos ] seed=" << seed << " (repeat with CHAOS_SEED=" << seed
              << ") cycles=" << cycles << " clients=" << clients << " rate=" << rate << "/s\n";
    std::mt19937_64 rng(seed);
    auto uniform = [&rng](int64_t lo, int64_t hi) {
        return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
    };

    const auto started = Clock::now();
    start();
    const auto interval = std::chrono::microseconds(1'000'000LL * clients / rate);
    std::vector<std::thread> threads;
    for (int i = 0; i < clients; ++i) {
        threads.emplace_back([this, i, seed, interval] { client(i, seed + 1 + i, interval); });
    }

    int64_t max_recovery_ms = 0;
    std::vector<int> died_by_itself;  // cycles whose service did not answer /health/live
    for (int cycle = 1; cycle <= cycles; ++cycle) {
        // Disruptions start at a random moment of the cycle and last until the next cycle
        // chooses again, so some restarts happen while the receiver or the authorizer is down.
        const int64_t cycle_ms = uniform(min_cycle_ms, max_cycle_ms);
        const int64_t disrupt_at = uniform(0, cycle_ms);
        const int64_t roll = uniform(0, 99);
        const auto mode = roll < 50   ? CallbackReceiver::Mode::kUp
                          : roll < 75 ? CallbackReceiver::Mode::kBusy
                                      : CallbackReceiver::Mode::kDown;
        const bool hang = uniform(0, 99) < 40;
        std::this_thread::sleep_for(std::chrono::milliseconds(disrupt_at));
        receiver.set_mode(mode);
        authorizer_hangs = hang;
        std::this_thread::sleep_for(std::chrono::milliseconds(cycle_ms - disrupt_at));

        // The service must still be alive when we kill it: a crash of its own would otherwise
        // hide behind the next restart.
        const auto live = http_request("GET", url("/health/live"), {}, {}, 2000);
        if (live.status != 200) died_by_itself.push_back(cycle);
        const auto killed_at = Clock::now();
        service_->kill9();
        service_->start();
        ASSERT_TRUE(service_->wait_ready(60s)) << "no recovery after kill -9 in cycle " << cycle;
        const int64_t recovery_ms = ms_since(killed_at);
        max_recovery_ms = std::max(max_recovery_ms, recovery_ms);
        std::cout << "[ chaos ] cycle " << cycle << ": ran " << cycle_ms << " ms, receiver "
                  << chaos::to_string(mode) << " and authorizer " << (hang ? "hanging" : "ok")
                  << " from " << disrupt_at << " ms, kill -9, ready again after " << recovery_ms
                  << " ms, acknowledged so far " << acknowledged_count() << "\n";
    }

    // The last restart is done: no new requests; pending keyed retries may finish (bounded).
    stop_new = true;
    std::this_thread::sleep_for(2s);
    stop_all = true;
    for (auto& t : threads) t.join();
    receiver.set_mode(CallbackReceiver::Mode::kUp);
    authorizer_hangs = false;

    std::set<std::string> ids;
    for (const auto& [id, sent] : acknowledged) ids.insert(id);
    ASSERT_FALSE(ids.empty());

    // Settle: every acknowledged request reaches the receiver and its status is final.
    const auto settle_end = Clock::now() + settle;
    while (Clock::now() < settle_end && !receiver.missing(ids).empty()) {
        std::this_thread::sleep_for(100ms);
    }
    std::map<std::string, std::string> state_of;
    std::map<std::string, std::string> callback_of;  // the status's callback object, if not final
    std::set<std::string> pending = ids;
    while (!pending.empty()) {
        for (auto it = pending.begin(); it != pending.end();) {
            const auto r = http_get(url("/api/v1/charging-session/" + *it));
            const auto state = r.status == 200 ? str(parse_object(r.body), "state")
                                               : "http " + std::to_string(r.status);
            state_of[*it] = state;
            const bool final = state == "delivered" || state == "failed";
            if (!final && r.status == 200) {
                const auto o = parse_object(r.body);
                if (const auto* cb = o.if_contains("callback")) {
                    callback_of[*it] = boost::json::serialize(*cb);
                }
            }
            it = final ? pending.erase(it) : std::next(it);
        }
        if (pending.empty() || Clock::now() >= settle_end) break;
        std::this_thread::sleep_for(200ms);
    }

    const auto deliveries = receiver.deliveries();
    const auto totals = receiver.totals();
    size_t delivered = 0;
    size_t lost = 0;
    size_t stuck = 0;
    size_t failed = 0;
    size_t wrong_decisions = 0;
    std::vector<std::string> examples;
    for (const auto& [id, sent] : acknowledged) {
        const auto d = deliveries.find(id);
        if (d == deliveries.end()) {
            ++lost;
            if (examples.size() < 10) examples.push_back("lost " + id + " (" + state_of[id] + ")");
        } else {
            ++delivered;
            // The callback carries what was sent and a decision that fits the token.
            const auto o = parse_object(d->second.body);
            const auto status = str(o, "status");
            const bool fits =
                status == "unknown" || status == (sent.allowed_token ? "allowed" : "not_allowed");
            if (!fits || str(o, "station_id") != sent.station_id ||
                str(o, "driver_token") != sent.driver_token) {
                ++wrong_decisions;
                if (examples.size() < 10) examples.push_back("wrong " + d->second.body);
            }
        }
        const auto& state = state_of[id];
        if (state == "failed") {
            ++failed;
        } else if (state != "delivered") {
            ++stuck;
            if (examples.size() < 10) {
                examples.push_back("stuck " + id + " (" + state + ") " + callback_of[id]);
            }
        }
    }
    size_t orphans = 0;        // callbacks for requests whose POST was never acknowledged
    size_t keyed_orphans = 0;  // ... sent by a client that repeats with its Idempotency-Key
    for (const auto& [id, d] : deliveries) {
        if (acknowledged.contains(id)) continue;
        ++orphans;
        if (d.target.find("client=keyed") != std::string::npos) ++keyed_orphans;
    }
    const size_t duplicates = totals.answered_2xx - deliveries.size();
    const double total_s = static_cast<double>(ms_since(started)) / 1000.0;

    std::cout << "[ chaos ] summary: cycles=" << cycles << " acknowledged=" << acknowledged.size()
              << " delivered=" << delivered << " duplicates=" << duplicates << " lost=" << lost
              << " stuck=" << stuck << " failed=" << failed
              << " max_recovery_ms=" << max_recovery_ms << " total_s=" << std::fixed
              << std::setprecision(1) << total_s << "\n";
    std::cout << "[ chaos ] details: seed=" << seed << " unanswered_posts=" << unanswered_posts
              << " answered_after_retry=" << answered_after_retry << " given_up=" << given_up
              << " refused=" << refused << " orphans=" << orphans
              << " keyed_orphans=" << keyed_orphans << " keyed_given_up=" << given_up_keyed
              << " receipts=" << totals.receipts << " answered_503=" << totals.answered_503
              << " bad_signatures=" << totals.bad_signatures << " bad_bodies=" << totals.bad_bodies
              << " stale_timestamps=" << totals.stale_timestamps
              << " wrong_decisions=" << wrong_decisions << "\n";
    for (const auto& [error, n] : unanswered_by_error) {
        std::cout << "[ chaos ]   unanswered (" << error << "): " << n << "\n";
    }
    for (const auto& e : examples) std::cout << "[ chaos ]   " << e << "\n";
    for (size_t i = 0; i < std::min<size_t>(errors.size(), 10); ++i) {
        std::cout << "[ chaos ]   contract error: " << errors[i] << "\n";
    }

    EXPECT_TRUE(died_by_itself.empty()) << "service not alive before the kill in cycle "
                                        << died_by_itself.front() << "; seed " << seed;
    const auto log = service_->log();
    for (const char* marker : {"Sanitizer", "runtime error:"}) {
        EXPECT_EQ(log.find(marker), std::string::npos) << "service log reports: " << marker;
    }
    EXPECT_EQ(lost, 0u) << "seed " << seed;
    EXPECT_EQ(stuck, 0u) << "seed " << seed;
    EXPECT_EQ(failed, 0u) << "nothing is configured to dead-letter; seed " << seed;
    EXPECT_EQ(wrong_decisions, 0u);
    EXPECT_EQ(totals.bad_signatures, 0u);
    EXPECT_EQ(totals.bad_bodies, 0u);
    EXPECT_EQ(totals.stale_timestamps, 0u);
    EXPECT_TRUE(errors.empty());
    // Only fire-and-forget POSTs left without an answer may have created a request nobody knows.
    EXPECT_LE(orphans, given_up);
    // A keyed POST that was stored before a kill cut its answer must be found again by the
    // repeat with the same key, so it is acknowledged: an orphan from a keyed client means the
    // repeat created a second request (unless that client gave up at the very end).
    EXPECT_LE(keyed_orphans, given_up_keyed) << "Idempotency-Key did not survive a kill";
}

}  // namespace
}  // namespace cg::test
