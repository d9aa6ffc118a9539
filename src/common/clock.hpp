#pragma once
// Injected time source, so back-off schedules, expiry and timestamps are testable.
#include <atomic>
#include <chrono>
#include <cstdint>

namespace cg {

class Clock {
  public:
    virtual ~Clock() = default;
    // Wall-clock time in milliseconds since the Unix epoch (UTC). Thread-safe.
    [[nodiscard]] virtual int64_t now_ms() const = 0;
};

class SystemClock final : public Clock {
  public:
    [[nodiscard]] int64_t now_ms() const override {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
};

// A clock tests move by hand. Thread-safe.
class ManualClock final : public Clock {
  public:
    explicit ManualClock(int64_t start_ms) : now_(start_ms) {}
    [[nodiscard]] int64_t now_ms() const override { return now_; }
    void advance(int64_t ms) { now_ += ms; }
    void set(int64_t ms) { now_ = ms; }

  private:
    std::atomic<int64_t> now_;
};

}  // namespace cg
