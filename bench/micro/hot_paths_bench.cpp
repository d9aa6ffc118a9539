// Micro-benchmarks of the per-request work on the hot paths: request parsing + validation,
// callback JSON encoding, webhook signing, the in-memory rate limiter, and the store's
// group-committed insert.
// Run: build/micro_bench (Release build).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>

#include "api/validation.hpp"
#include "common/text.hpp"
#include "delivery/callback_payload.hpp"
#include "delivery/signer.hpp"
#include "ratelimit/memory_rate_limiter.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace {

const std::string kBody = R"({"station_id":"123e4567-e89b-12d3-a456-426614174000",)"
                          R"("driver_token":"ABCD-efgh1234567890_~valid.token",)"
                          R"("callback_url":"https://client.app/api/callbacks/charge-result"})";

void BM_ParseAndValidate(benchmark::State& state) {
    for (auto _ : state) {
        auto r = cg::api::validate_charging_request(kBody, false);
        benchmark::DoNotOptimize(r);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kBody.size()));
}
BENCHMARK(BM_ParseAndValidate);

cg::store::DeliveryJob job() {
    cg::store::DeliveryJob j;
    j.id = cg::new_request_id(1795343445123);
    j.station_id = "123e4567-e89b-12d3-a456-426614174000";
    j.driver_token = "ABCD-efgh1234567890_~valid.token";
    j.callback_url = "https://client.app/api/callbacks/charge-result";
    j.decision = {cg::DecisionStatus::kAllowed, "acl_allowed", 1795343445123};
    return j;
}

void BM_CallbackBody(benchmark::State& state) {
    const auto j = job();
    for (auto _ : state) benchmark::DoNotOptimize(cg::delivery::callback_body(j));
}
BENCHMARK(BM_CallbackBody);

void BM_Sign(benchmark::State& state) {
    const auto signer =
        cg::delivery::SigningKeys::from_secrets({"whsec_c2VjcmV0LWtleS1mb3ItdGVzdHM="}, nullptr);
    const auto j = job();
    const auto body = cg::delivery::callback_body(j);
    for (auto _ : state) benchmark::DoNotOptimize(signer->sign(j.id, 1795343445, body));
}
BENCHMARK(BM_Sign);

void BM_NewRequestId(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(cg::new_request_id(1795343445123));
}
BENCHMARK(BM_NewRequestId);

// Accepts `batch` requests at once and waits until all are durable (fsync'd): the writer
// group-commits them. Reports requests per second.
void BM_StoreGroupCommit(benchmark::State& state) {
    const auto batch = static_cast<int>(state.range(0));
    char tmpl[] = "/tmp/cg-bench-XXXXXX";
    const std::string dir = mkdtemp(tmpl);
    {
        cg::store::sqlite::SqliteOptions o;
        o.data_dir = dir;
        auto store = cg::store::sqlite::open_sqlite_store(o, nullptr);
        int64_t n = 0;
        for (auto _ : state) {
            std::mutex mu;
            std::condition_variable cv;
            int left = batch;
            for (int i = 0; i < batch; ++i) {
                cg::store::NewRequest r;
                r.id = cg::new_request_id(++n);
                r.station_id = "123e4567-e89b-12d3-a456-426614174000";
                r.driver_token = "ABCD-efgh1234567890_~valid.token";
                r.callback_url = "https://client.app/api/callbacks/charge-result";
                r.created_at_ms = n;
                store->accept(std::move(r), [&](cg::store::AcceptResult) {
                    std::lock_guard lock(mu);
                    if (--left == 0) cv.notify_one();
                });
            }
            std::unique_lock lock(mu);
            cv.wait(lock, [&] { return left == 0; });
        }
        store->close();
        state.SetItemsProcessed(state.iterations() * batch);
    }
    std::filesystem::remove_all(dir);
}
BENCHMARK(BM_StoreGroupCommit)->Arg(1)->Arg(64)->Arg(1024)->UseRealTime();

// One take per request from the embedded rate limiter; with ->Threads(n) the threads hit
// different keys (different shards, mostly) as the event loops do.
void BM_MemoryRateLimiterTake(benchmark::State& state) {
    static cg::SystemClock clock;
    static cg::ratelimit::MemoryRateLimiter limiter({{1000, 1000}, 100'000, 64, 10'000, nullptr},
                                                    clock);
    const std::string key = "ip:10.0.0." + std::to_string(state.thread_index());
    for (auto _ : state) benchmark::DoNotOptimize(limiter.take_now(key));
}
BENCHMARK(BM_MemoryRateLimiterTake)->Threads(1)->Threads(4);

}  // namespace
