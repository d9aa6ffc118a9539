#pragma once
// A circuit breaker for calls to a remote dependency (the authorization service).
//
// closed    → calls go out; outcomes are counted in a rolling window of `window_ms`. When the
//             window holds at least `min_calls` calls and failures/calls >= `failure_ratio`,
//             it opens.
// open      → calls are refused at once for `open_ms`; then the next caller moves it to
// half_open → at most `half_open_probes` calls go out; one failure opens it again, and when
//             all of them succeed it closes with an empty window.
//
// Lock-free: the state and a generation number share one atomic word, and the window is a ring
// of per-slice counters packed into atomics, so the closed-state path costs two atomic
// operations. A call's outcome counts only in the generation it started in, so a slow answer
// from before a transition cannot close or reopen the circuit. Thread-safe.
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>

#include "common/clock.hpp"

namespace cg::authz {

enum class CircuitState { kClosed = 0, kOpen = 1, kHalfOpen = 2 };
const char* to_string(CircuitState state);

struct CircuitBreakerOptions {
    int64_t window_ms = 10000;   // AUTHORIZER_BREAKER_WINDOW_MS
    int min_calls = 20;          // AUTHORIZER_BREAKER_MIN_CALLS
    double failure_ratio = 0.5;  // AUTHORIZER_BREAKER_FAILURE_RATIO
    int64_t open_ms = 5000;      // AUTHORIZER_BREAKER_OPEN_MS
    int half_open_probes = 3;    // AUTHORIZER_BREAKER_PROBES
};

class CircuitBreaker {
  public:
    // What try_acquire hands out; pass it back to record().
    struct Permit {
        bool allowed = false;
        bool probe = false;
        uint64_t generation = 0;
    };
    struct Snapshot {
        CircuitState state = CircuitState::kClosed;
        int64_t window_calls = 0;
        int64_t window_failures = 0;
        uint64_t times_opened = 0;
        int64_t open_until_ms = 0;  // while open
    };
    // Called after every transition, on the thread that caused it.
    using Listener = std::function<void(CircuitState from, CircuitState to, const Snapshot&)>;

    CircuitBreaker(CircuitBreakerOptions options, const Clock& clock, Listener listener = {});

    // Whether a call may go out now. When `allowed`, the caller must report the outcome.
    Permit try_acquire();
    void record(const Permit& permit, bool success);
    [[nodiscard]] CircuitState state() const;
    [[nodiscard]] Snapshot snapshot() const;

  private:
    static constexpr int kSlices = 10;
    bool transition(uint64_t from_word, CircuitState to);
    void count(bool success);
    void window(int64_t& calls, int64_t& failures) const;
    [[nodiscard]] uint32_t slice_epoch(int64_t now_ms) const;

    CircuitBreakerOptions options_;
    const Clock& clock_;
    Listener listener_;
    int64_t slice_ms_;
    std::atomic<uint64_t> word_{0};  // generation << 2 | state
    std::atomic<int64_t> opened_at_ms_{0};
    std::atomic<int> probes_started_{0};
    std::atomic<int> probes_succeeded_{0};
    std::atomic<uint64_t> times_opened_{0};
    // Each slice: epoch (32 bits) | calls (16 bits) | failures (16 bits).
    std::array<std::atomic<uint64_t>, kSlices> slices_{};
};

}  // namespace cg::authz
