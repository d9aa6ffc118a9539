#pragma once
// Shared by the chaos scenarios: settings from the environment (the same code is the short CI
// run and the long soak), a callback receiver that verifies and counts deliveries per request,
// and small process/time helpers.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "support/test_http_server.hpp"

namespace cg::test::chaos {

// An integer setting from the environment, or `fallback` when unset or not a number.
int64_t env_int(const char* name, int64_t fallback);

// CHAOS_SEED when set, else a fresh random seed (printed by the caller so a run can be
// repeated).
uint64_t seed_from_env();

// Resident memory of a process in KiB, from /proc/<pid>/status; -1 where unreadable.
// `anon` is the heap and stacks; `file` is file-backed pages (the binary, libraries and
// SQLite's shared-memory WAL index), which the kernel can reclaim.
struct Memory {
    int64_t rss = -1;  // VmRSS = anon + file + shmem
    int64_t anon = -1;
    int64_t file = -1;
};
Memory memory_kib(pid_t pid);

// "2026-11-22T10:30:45.123Z" → unix milliseconds, or -1 if malformed.
int64_t parse_rfc3339_ms(const std::string& text);

// The service's nominal back-off before retry number `attempt` (1-based): min(base·2^(n−1), max)
// — the README's documented schedule, recomputed independently of src/delivery/backoff.cpp.
int64_t nominal_backoff_ms(int attempt, int64_t base_ms, int64_t max_ms);

// A callback receiver on loopback that answers, checks and records every callback.
// Deliveries are counted per request id (webhook-id) only when the receiver answered 2xx.
class CallbackReceiver {
  public:
    enum class Mode {
        kUp,    // answers 200
        kBusy,  // answers 503 with Retry-After: 1 (requests are recorded, not delivered)
        kDown,  // listener closed: connections are refused
    };

    struct Delivery {
        int count = 0;  // 2xx answers given for this request id
        std::string body;
        std::string target;  // the callback URL's path and query
        std::chrono::steady_clock::time_point first_at;
    };

    struct Totals {
        size_t receipts = 0;        // every callback request seen
        size_t answered_2xx = 0;    // deliveries (may include duplicates)
        size_t answered_503 = 0;    // refused while busy
        size_t bad_signatures = 0;  // missing or invalid webhook-signature
        size_t bad_bodies = 0;      // not JSON, or request_id differs from webhook-id
        size_t stale_timestamps = 0;
    };

    explicit CallbackReceiver(std::string secret);
    CallbackReceiver(const CallbackReceiver&) = delete;
    CallbackReceiver& operator=(const CallbackReceiver&) = delete;

    [[nodiscard]] std::string url() const { return server_.url("/api/callbacks/charge-result"); }
    void set_mode(Mode mode);
    [[nodiscard]] Mode mode() const;

    [[nodiscard]] std::map<std::string, Delivery> deliveries() const;
    [[nodiscard]] Totals totals() const;
    // Ids of `wanted` not yet delivered.
    [[nodiscard]] std::set<std::string> missing(const std::set<std::string>& wanted) const;

  private:
    Reply on_request(const Recorded& r);

    std::string secret_;
    mutable std::mutex mu_;
    Mode mode_ = Mode::kUp;
    std::map<std::string, Delivery> deliveries_;
    Totals totals_;
    TestHttpServer server_;  // last: its threads use the members above
};

const char* to_string(CallbackReceiver::Mode mode);

}  // namespace cg::test::chaos
