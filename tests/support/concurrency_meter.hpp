#pragma once
// Counts how many calls of a test server's handler run at once, and the most seen. Thread-safe.
#include <atomic>

namespace cg::test {

class ConcurrencyMeter {
  public:
    // Holds one unit of concurrency for its lifetime.
    class Scope {
      public:
        explicit Scope(ConcurrencyMeter& m) : m_(m) {
            const int now = m_.current_.fetch_add(1) + 1;
            int seen = m_.max_.load();
            while (now > seen && !m_.max_.compare_exchange_weak(seen, now)) {
            }
        }
        ~Scope() { m_.current_.fetch_sub(1); }
        Scope(const Scope&) = delete;
        Scope& operator=(const Scope&) = delete;

      private:
        ConcurrencyMeter& m_;
    };

    [[nodiscard]] int max() const { return max_.load(); }

  private:
    std::atomic<int> current_{0};
    std::atomic<int> max_{0};
};

}  // namespace cg::test
