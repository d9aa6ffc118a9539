#pragma once
// Latency histogram for the load generator: log-linear buckets over microseconds (exact below
// 1 ms, then 512 sub-buckets per power of two, i.e. < 0.2 % error), cheap to record and to
// merge. Hand-written because Debian 12 packages no HdrHistogram for C++; this keeps the one
// property we need (bounded relative error at every magnitude) in ~60 lines. Not thread-safe:
// one per thread, merged at the end.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace cg::loadtest {

class LatencyHistogram {
  public:
    LatencyHistogram();
    void record(int64_t micros);
    void merge(const LatencyHistogram& other);
    [[nodiscard]] int64_t count() const { return count_; }
    [[nodiscard]] int64_t max() const { return max_; }
    [[nodiscard]] double mean() const;
    // Value at quantile q in [0, 1], in microseconds (upper edge of its bucket).
    [[nodiscard]] int64_t quantile(double q) const;

  private:
    static size_t index_of(int64_t v);
    static int64_t upper_of(size_t index);
    std::vector<int64_t> buckets_;
    int64_t count_ = 0;
    int64_t max_ = 0;
    double sum_ = 0;
};

}  // namespace cg::loadtest
