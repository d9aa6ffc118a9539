#include "loadtest/latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace cg::loadtest {

namespace {
constexpr int kLinear = 1024;  // exact microseconds below this
constexpr int kSubBits = 9;    // 512 sub-buckets per power of two above it
constexpr int kMaxBit = 40;    // ~12 days in µs; larger values are clamped
}  // namespace

LatencyHistogram::LatencyHistogram()
    : buckets_(kLinear + static_cast<size_t>(kMaxBit - 10 + 1) * (1u << kSubBits), 0) {}

size_t LatencyHistogram::index_of(int64_t v) {
    if (v < 0) v = 0;
    if (v < kLinear) return static_cast<size_t>(v);
    const int msb = std::min(63 - std::countl_zero(static_cast<uint64_t>(v)), kMaxBit);
    const auto sub = static_cast<size_t>((static_cast<uint64_t>(v) >> (msb - kSubBits)) &
                                         ((1u << kSubBits) - 1));
    return kLinear + static_cast<size_t>(msb - 10) * (1u << kSubBits) + sub;
}

int64_t LatencyHistogram::upper_of(size_t index) {
    if (index < kLinear) return static_cast<int64_t>(index);
    const size_t rel = index - kLinear;
    const int msb = static_cast<int>(rel >> kSubBits) + 10;
    const auto sub = static_cast<int64_t>(rel & ((1u << kSubBits) - 1));
    const int64_t base = int64_t{1} << msb;
    const int64_t step = int64_t{1} << (msb - kSubBits);
    return base + (sub + 1) * step - 1;
}

void LatencyHistogram::record(int64_t micros) {
    ++buckets_[std::min(index_of(micros), buckets_.size() - 1)];
    ++count_;
    max_ = std::max(max_, micros);
    sum_ += static_cast<double>(micros);
}

void LatencyHistogram::merge(const LatencyHistogram& o) {
    for (size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += o.buckets_[i];
    count_ += o.count_;
    max_ = std::max(max_, o.max_);
    sum_ += o.sum_;
}

double LatencyHistogram::mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0; }

int64_t LatencyHistogram::quantile(double q) const {
    if (count_ == 0) return 0;
    const auto target = static_cast<int64_t>(std::ceil(q * static_cast<double>(count_)));
    int64_t seen = 0;
    for (size_t i = 0; i < buckets_.size(); ++i) {
        seen += buckets_[i];
        if (seen >= std::max<int64_t>(target, 1)) return std::min(upper_of(i), max_);
    }
    return max_;
}

}  // namespace cg::loadtest
