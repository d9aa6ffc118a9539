// Cost of recording a metric on a hot path (issue 7: no lock). Run with several threads to see
// that contention stays an atomic add's, and the scrape (render) cost beside it.
#include <benchmark/benchmark.h>

#include "obs/metrics.hpp"

namespace {

cg::obs::Metrics& shared_metrics() {
    static cg::obs::Metrics m;
    return m;
}

void BM_HistogramObserve(benchmark::State& state) {
    auto& m = shared_metrics();
    double v = 0.0004;
    for (auto _ : state) {
        m.accept_latency.observe(v);
        v = v < 1 ? v * 1.7 : 0.0004;
    }
}
BENCHMARK(BM_HistogramObserve)->Threads(1)->Threads(2)->Threads(4);

void BM_CounterVecInc(benchmark::State& state) {
    auto& m = shared_metrics();
    for (auto _ : state) m.charging_requests.inc("accepted");
}
BENCHMARK(BM_CounterVecInc)->Threads(1)->Threads(2)->Threads(4);

void BM_HttpCounterInc(benchmark::State& state) {
    auto& m = shared_metrics();
    for (auto _ : state) m.http_requests.inc("charging_session_create", 200);
}
BENCHMARK(BM_HttpCounterInc)->Threads(1)->Threads(4);

void BM_RenderMetrics(benchmark::State& state) {
    auto& m = shared_metrics();
    const std::vector<cg::obs::GaugeSample> gauges{
        {"authorization_queue_size", "Requests accepted and not yet decided", 12, ""}};
    for (auto _ : state) benchmark::DoNotOptimize(m.render(gauges));
}
BENCHMARK(BM_RenderMetrics);

}  // namespace
