#include "authz/circuit_breaker.hpp"

#include <algorithm>

namespace cg::authz {

namespace {
constexpr uint64_t kStateMask = 3;
constexpr uint64_t kCountMax = 0xffff;

CircuitState state_of(uint64_t word) { return static_cast<CircuitState>(word & kStateMask); }
uint64_t generation_of(uint64_t word) { return word >> 2; }
uint64_t make_word(uint64_t generation, CircuitState s) {
    return (generation << 2) | static_cast<uint64_t>(s);
}
uint64_t pack(uint32_t epoch, uint64_t calls, uint64_t failures) {
    return (static_cast<uint64_t>(epoch) << 32) | (std::min(calls, kCountMax) << 16) |
           std::min(failures, kCountMax);
}
uint32_t epoch_of(uint64_t v) { return static_cast<uint32_t>(v >> 32); }
uint64_t calls_of(uint64_t v) { return (v >> 16) & kCountMax; }
uint64_t failures_of(uint64_t v) { return v & kCountMax; }
}  // namespace

const char* to_string(CircuitState state) {
    switch (state) {
        case CircuitState::kClosed:
            return "closed";
        case CircuitState::kOpen:
            return "open";
        case CircuitState::kHalfOpen:
            return "half_open";
    }
    return "closed";
}

CircuitBreaker::CircuitBreaker(CircuitBreakerOptions options, const Clock& clock, Listener listener)
    : options_(options),
      clock_(clock),
      listener_(std::move(listener)),
      slice_ms_(std::max<int64_t>(1, options.window_ms / kSlices)) {
    options_.min_calls = std::max(1, options_.min_calls);
    options_.half_open_probes = std::max(1, options_.half_open_probes);
}

uint32_t CircuitBreaker::slice_epoch(int64_t now_ms) const {
    return static_cast<uint32_t>(static_cast<uint64_t>(now_ms / slice_ms_));
}

CircuitBreaker::Permit CircuitBreaker::try_acquire() {
    for (;;) {
        const uint64_t w = word_.load(std::memory_order_acquire);
        switch (state_of(w)) {
            case CircuitState::kClosed:
                return {true, false, generation_of(w)};
            case CircuitState::kOpen: {
                const int64_t now = clock_.now_ms();
                if (now < opened_at_ms_.load(std::memory_order_acquire) + options_.open_ms) {
                    return {};
                }
                // Nobody touches the probe counters while open: reset them, then publish.
                probes_started_.store(0, std::memory_order_relaxed);
                probes_succeeded_.store(0, std::memory_order_relaxed);
                transition(w, CircuitState::kHalfOpen);
                continue;  // take a probe in the new state (or see who won the race)
            }
            case CircuitState::kHalfOpen: {
                if (probes_started_.fetch_add(1, std::memory_order_acq_rel) <
                    options_.half_open_probes) {
                    return {true, true, generation_of(w)};
                }
                return {};
            }
        }
    }
}

void CircuitBreaker::record(const Permit& permit, bool success) {
    if (!permit.allowed) return;
    const uint64_t w = word_.load(std::memory_order_acquire);
    if (generation_of(w) != permit.generation) return;  // started before a transition
    switch (state_of(w)) {
        case CircuitState::kClosed: {
            count(success);
            if (success) return;
            int64_t calls = 0;
            int64_t failures = 0;
            window(calls, failures);
            if (calls >= options_.min_calls &&
                static_cast<double>(failures) >=
                    options_.failure_ratio * static_cast<double>(calls)) {
                opened_at_ms_.store(clock_.now_ms(), std::memory_order_release);
                transition(w, CircuitState::kOpen);
            }
            return;
        }
        case CircuitState::kHalfOpen:
            if (!permit.probe) return;
            if (!success) {
                opened_at_ms_.store(clock_.now_ms(), std::memory_order_release);
                transition(w, CircuitState::kOpen);
            } else if (probes_succeeded_.fetch_add(1, std::memory_order_acq_rel) + 1 >=
                       options_.half_open_probes) {
                for (auto& s : slices_) s.store(0, std::memory_order_relaxed);
                transition(w, CircuitState::kClosed);
            }
            return;
        case CircuitState::kOpen:
            return;
    }
}

bool CircuitBreaker::transition(uint64_t from_word, CircuitState to) {
    uint64_t expected = from_word;
    if (!word_.compare_exchange_strong(expected, make_word(generation_of(from_word) + 1, to),
                                       std::memory_order_acq_rel)) {
        return false;  // another thread moved it first
    }
    if (to == CircuitState::kOpen) times_opened_.fetch_add(1, std::memory_order_relaxed);
    if (listener_) listener_(state_of(from_word), to, snapshot());
    return true;
}

void CircuitBreaker::count(bool success) {
    const uint32_t epoch = slice_epoch(clock_.now_ms());
    auto& slot = slices_[epoch % kSlices];
    uint64_t v = slot.load(std::memory_order_relaxed);
    for (;;) {
        const bool same = epoch_of(v) == epoch;
        const uint64_t next = pack(epoch, (same ? calls_of(v) : 0) + 1,
                                   (same ? failures_of(v) : 0) + (success ? 0 : 1));
        if (slot.compare_exchange_weak(v, next, std::memory_order_acq_rel)) return;
    }
}

void CircuitBreaker::window(int64_t& calls, int64_t& failures) const {
    const uint32_t now_epoch = slice_epoch(clock_.now_ms());
    for (const auto& slot : slices_) {
        const uint64_t v = slot.load(std::memory_order_acquire);
        if (v == 0) continue;
        if (static_cast<uint32_t>(now_epoch - epoch_of(v)) >= kSlices) continue;  // too old
        calls += static_cast<int64_t>(calls_of(v));
        failures += static_cast<int64_t>(failures_of(v));
    }
}

CircuitState CircuitBreaker::state() const {
    return state_of(word_.load(std::memory_order_acquire));
}

CircuitBreaker::Snapshot CircuitBreaker::snapshot() const {
    Snapshot s;
    s.state = state();
    window(s.window_calls, s.window_failures);
    s.times_opened = times_opened_.load(std::memory_order_relaxed);
    if (s.state == CircuitState::kOpen) {
        s.open_until_ms = opened_at_ms_.load(std::memory_order_acquire) + options_.open_ms;
    }
    return s;
}

}  // namespace cg::authz
