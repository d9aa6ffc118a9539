// Chaos scenario 2 (docs/api.md §2 retries with exponential back-off): the callback receiver is
// gone — its listener closed, connections refused — while requests are accepted, then comes
// back on the same port. Every callback must arrive soon after, each request's attempts must
// follow the back-off schedule, and the service's memory must stay flat during the outage.
//
// Settings (environment): OUTAGE_SECONDS (20), OUTAGE_REQUESTS (200), OUTAGE_RETRY_BASE_MS
// (200), OUTAGE_RETRY_MAX_MS (2000), OUTAGE_RSS_BOUND_MB (32).
#include <array>
#include <atomic>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "chaos/chaos_support.hpp"
#include "integration/service_fixture.hpp"

namespace cg::test {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using chaos::CallbackReceiver;

// Under a sanitizer the service's memory is mostly shadow memory and the allocator's
// quarantine, so its RSS says nothing about the service's own growth: reported, not checked.
// GCC defines __SANITIZE_ADDRESS__ / __SANITIZE_THREAD__; clang answers __has_feature instead.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kCheckMemory = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kCheckMemory = false;
#else
constexpr bool kCheckMemory = true;
#endif
#else
constexpr bool kCheckMemory = true;
#endif

// How late an attempt may start after its nominal back-off: the engine looks for due retries
// every 250 ms, plus the store write and scheduling under load.
constexpr int64_t kLateToleranceMs = 250 + 750;

class ReceiverOutageTest : public ServiceTest {
  protected:
    CallbackReceiver receiver{kSecret};
};

TEST_F(ReceiverOutageTest, CallbacksArriveAfterTheReceiverReturnsWithBackoffAndFlatMemory) {
    const int64_t outage_s = chaos::env_int("OUTAGE_SECONDS", 20);
    const int requests = static_cast<int>(chaos::env_int("OUTAGE_REQUESTS", 200));
    const int64_t base_ms = chaos::env_int("OUTAGE_RETRY_BASE_MS", 200);
    const int64_t max_ms = chaos::env_int("OUTAGE_RETRY_MAX_MS", 2000);
    const int64_t rss_bound_kib = chaos::env_int("OUTAGE_RSS_BOUND_MB", 32) * 1024;
    env["CALLBACK_SIGNING_SECRET"] = kSecret;
    env["CALLBACK_RETRY_BASE_MS"] = std::to_string(base_ms);
    env["CALLBACK_RETRY_MAX_MS"] = std::to_string(max_ms);
    env["CALLBACK_MAX_ATTEMPTS"] = "1000";  // the outage must not dead-letter anything
    env["LOG_LEVEL"] = "WARN";
    start();
    allow(kToken);
    const pid_t pid = service_->pid();
    std::cout << "[ outage ] " << outage_s << " s, " << requests << " requests, back-off "
              << base_ms << " ms doubling to " << max_ms << " ms, service pid " << pid << "\n";

    // The receiver goes away before the first request: connections are refused.
    receiver.set_mode(CallbackReceiver::Mode::kDown);
    const auto outage_start = Clock::now();
    std::vector<chaos::Memory> mem;  // one sample per second
    std::atomic<bool> sampling{true};
    std::thread sampler([&] {
        auto next = Clock::now();
        while (sampling.load()) {
            mem.push_back(chaos::memory_kib(pid));
            next += 1s;
            while (sampling.load() && Clock::now() < next) std::this_thread::sleep_for(10ms);
        }
    });

    std::set<std::string> ids;
    HttpConnection conn;
    for (int i = 0; i < requests; ++i) {
        const auto r =
            conn.post_json(url("/api/v1/charging-session"), body(kStation, kToken, receiver.url()));
        if (r.status == 200) ids.insert(str(parse_object(r.body), "request_id"));
    }
    const auto accepted_in = Clock::now() - outage_start;
    std::this_thread::sleep_until(outage_start + std::chrono::seconds(outage_s));
    sampling = false;
    sampler.join();
    const auto during = receiver.totals();

    // Back on the same port: every callback must arrive within one back-off ceiling plus the
    // retry poll and some slack for sending them all.
    receiver.set_mode(CallbackReceiver::Mode::kUp);
    const auto back_at = Clock::now();
    const auto bound = std::chrono::milliseconds(max_ms + kLateToleranceMs + 2000);
    while (Clock::now() < back_at + bound + 30s && !receiver.missing(ids).empty()) {
        std::this_thread::sleep_for(20ms);
    }
    const auto deliveries = receiver.deliveries();
    int64_t last_arrival_ms = 0;
    for (const auto& id : ids) {
        const auto d = deliveries.find(id);
        if (d == deliveries.end()) continue;
        last_arrival_ms = std::max<int64_t>(
            last_arrival_ms,
            std::chrono::duration_cast<std::chrono::milliseconds>(d->second.first_at - back_at)
                .count());
    }
    const size_t missing = receiver.missing(ids).size();

    // Back-off from the attempt log of each request (status endpoint): the gap between attempt
    // n and n+1 lies in [d/2, d + tolerance] with d = min(base·2^(n−1), max), so before the
    // ceiling every gap is at least as long as the one before it.
    size_t too_early = 0;
    size_t too_late = 0;
    size_t not_delivered = 0;
    size_t attempts_total = 0;
    std::map<int, std::pair<int64_t, int64_t>> gap_sum;  // attempt → (sum, count)
    std::string example;
    for (const auto& id : ids) {
        auto s = status_of(id);
        for (int i = 0; i < 50 && str(s, "state") != "delivered"; ++i) {
            std::this_thread::sleep_for(100ms);  // the 2xx is recorded just after it is received
            s = status_of(id);
        }
        if (str(s, "state") != "delivered") ++not_delivered;
        const auto* log = s.if_contains("attempts");
        if (log == nullptr || !log->is_array()) continue;
        attempts_total +=
            static_cast<size_t>(s.at("callback").as_object().at("attempts").to_number<int64_t>());
        std::vector<std::pair<int, int64_t>> starts;  // attempt number, started at
        for (const auto& a : log->as_array()) {
            const auto& o = a.as_object();
            starts.emplace_back(
                static_cast<int>(o.at("attempt").to_number<int64_t>()),
                chaos::parse_rfc3339_ms(std::string(o.at("started_at").as_string())));
        }
        std::ostringstream gaps;
        for (size_t i = 1; i < starts.size(); ++i) {
            const int n = starts[i - 1].first;
            if (starts[i].first != n + 1) continue;
            const int64_t gap = starts[i].second - starts[i - 1].second;
            const int64_t nominal = chaos::nominal_backoff_ms(n, base_ms, max_ms);
            // Timestamps have millisecond resolution: allow 1 ms of rounding.
            if (gap < nominal / 2 - 1) ++too_early;
            if (gap > nominal + kLateToleranceMs) ++too_late;
            auto& [sum, count] = gap_sum[n];
            sum += gap;
            ++count;
            gaps << (i > 1 ? " " : "") << gap;
        }
        if (example.empty()) example = id + " gaps(ms): " + gaps.str();
    }

    // first / max / last of one field of the samples
    const auto span = [&mem](int64_t chaos::Memory::*field) {
        std::array<int64_t, 3> out{-1, -1, -1};
        if (mem.empty()) return out;
        out[0] = mem.front().*field;
        out[1] = out[0];
        for (const auto& m : mem) out[1] = std::max(out[1], m.*field);
        out[2] = mem.back().*field;
        return out;
    };
    const auto rss = span(&chaos::Memory::rss);
    const auto anon = span(&chaos::Memory::anon);
    const auto file = span(&chaos::Memory::file);
    std::ostringstream samples;
    for (size_t i = 0; i < mem.size(); ++i) samples << (i ? " " : "") << mem[i].rss;
    std::ostringstream mean_gaps;
    int shown = 0;  // the first ten attempt numbers still in the log (it keeps the last 100)
    for (const auto& [n, sc] : gap_sum) {
        if (++shown > 10) break;
        mean_gaps << (shown > 1 ? " " : "") << n << ":"
                  << sc.first / std::max<int64_t>(1, sc.second) << "/"
                  << chaos::nominal_backoff_ms(n, base_ms, max_ms);
    }

    std::cout << "[ outage ] summary: outage_s=" << outage_s << " accepted=" << ids.size() << "/"
              << requests << " delivered=" << (ids.size() - missing)
              << " last_arrival_after_return_ms=" << last_arrival_ms
              << " bound_ms=" << bound.count() << " attempts=" << attempts_total
              << " backoff_too_early=" << too_early << " backoff_too_late=" << too_late
              << " rss_kib first=" << rss[0] << " max=" << rss[1] << " last=" << rss[2] << "\n";
    std::cout << "[ outage ] anon_kib first=" << anon[0] << " max=" << anon[1]
              << " last=" << anon[2] << "; file_kib first=" << file[0] << " max=" << file[1]
              << " last=" << file[2] << "\n";
    std::cout << "[ outage ] accepted in "
              << std::chrono::duration_cast<std::chrono::milliseconds>(accepted_in).count()
              << " ms; receipts while down=" << during.receipts
              << "; duplicates=" << (receiver.totals().answered_2xx - deliveries.size()) << "\n";
    std::cout << "[ outage ] mean gap by attempt (measured/nominal ms): " << mean_gaps.str()
              << "\n";
    std::cout << "[ outage ] example " << example << "\n";
    std::cout << "[ outage ] rss_kib samples (1/s): " << samples.str() << "\n";

    EXPECT_EQ(ids.size(), static_cast<size_t>(requests)) << "every request is accepted";
    EXPECT_EQ(during.receipts, 0u) << "the receiver was down: nothing can have arrived";
    EXPECT_EQ(missing, 0u);
    EXPECT_EQ(not_delivered, 0u);
    EXPECT_LE(last_arrival_ms, bound.count());
    EXPECT_EQ(too_early, 0u);
    EXPECT_EQ(too_late, 0u);
    EXPECT_GT(attempts_total, ids.size() * 3) << "the service kept retrying during the outage";
    const auto t = receiver.totals();
    EXPECT_EQ(t.bad_signatures, 0u);
    EXPECT_EQ(t.bad_bodies, 0u);
    const auto log = service_->log();
    for (const char* marker : {"Sanitizer", "runtime error:"}) {
        EXPECT_EQ(log.find(marker), std::string::npos) << "service log reports: " << marker;
    }
    EXPECT_EQ(http_get(url("/health/live")).status, 200) << "the service survived the outage";
    ASSERT_FALSE(mem.empty());
    EXPECT_GT(rss[0], 0);
    if (kCheckMemory) {
        EXPECT_LE(rss[1] - rss[0], rss_bound_kib) << "memory grew during the outage";
    } else {
        std::cout << "[ outage ] sanitizer build: the memory bound is not checked\n";
    }
}

}  // namespace
}  // namespace cg::test
