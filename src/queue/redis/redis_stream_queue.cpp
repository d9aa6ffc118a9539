#include "queue/redis/redis_stream_queue.hpp"

#include <algorithm>
#include <charconv>

#include "common/thread_name.hpp"
#include "obs/log.hpp"
#include "redis/redis_conn.hpp"

namespace cg::queue::redis {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr size_t kReadBatch = 256;
constexpr size_t kPublishBatch = 1000;
constexpr size_t kRelayBatch = 1000;
// Under steady load each read finds only the hints that arrived during the previous claim
// (~7 in the cluster benchmark), and each read costs a claim statement whose fixed part (~90 µs
// of PostgreSQL CPU) dominated its per-row part. After a read that found some hints but fewer
// than kGatherBelow, the next read waits until kGatherFor after that one began, so claims come
// in larger batches. Idle or light traffic is not delayed: after an empty read, XREADGROUP's
// BLOCK hands over the next hint the moment it arrives; only the hints behind it wait, at most
// kGatherFor. 10 ms: with 4 ms a claim leased ~9 requests at 2.3k/s per worker, and 1 API x 2
// workers did 4,709 sessions/s; with 10 ms (and the worker's 5 ms commit wait) 6,221-6,485.
constexpr size_t kGatherBelow = 32;
constexpr auto kGatherFor = std::chrono::milliseconds(10);

struct Entry {
    std::string id;
    int64_t seq = 0;  // 0: unreadable entry
};

std::string_view text_of(const redisReply* r) {
    if (r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)) {
        return {r->str, r->len};
    }
    return {};
}

int64_t to_seq(std::string_view v) {
    int64_t out = 0;
    const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    return (ec == std::errc() && p == v.data() + v.size() && out > 0) ? out : 0;
}

// Appends the entries of an array of [id, [field, value, ...]] to `out`; anything else in the
// reply (nil entries of trimmed ids, foreign fields) yields an entry with seq 0 or is skipped.
void parse_entries(const redisReply* list, std::vector<Entry>& out) {
    if (!list || list->type != REDIS_REPLY_ARRAY) return;
    for (size_t i = 0; i < list->elements; ++i) {
        const redisReply* e = list->element[i];
        if (!e || e->type != REDIS_REPLY_ARRAY || e->elements < 1) continue;
        Entry entry;
        entry.id = std::string(text_of(e->element[0]));
        if (entry.id.empty()) continue;
        if (e->elements >= 2 && e->element[1] && e->element[1]->type == REDIS_REPLY_ARRAY) {
            const redisReply* fields = e->element[1];
            for (size_t f = 0; f + 1 < fields->elements; f += 2) {
                if (text_of(fields->element[f]) == "seq") {
                    entry.seq = to_seq(text_of(fields->element[f + 1]));
                }
            }
        }
        out.push_back(std::move(entry));
    }
}

// Sleeps for the current back-off (100 ms doubling to 2 s) unless woken by close.
class Backoff {
  public:
    void reset() { delay_ = 0ms; }
    std::chrono::milliseconds next() {
        delay_ = delay_ == 0ms ? 100ms : std::min<std::chrono::milliseconds>(delay_ * 2, 2000ms);
        return delay_;
    }

  private:
    std::chrono::milliseconds delay_{0};
};

}  // namespace

RedisStreamQueue::RedisStreamQueue(RedisQueueOptions options, store::DispatchLedger& ledger)
    : options_(std::move(options)),
      ledger_(ledger),
      stream_(options_.prefix + ":requests"),
      dead_stream_(options_.prefix + ":dead"),
      group_(options_.prefix + "-workers") {
    (void)cg::redis::parse_redis_url(options_.url);  // a malformed URL fails here, at start
}

RedisStreamQueue::~RedisStreamQueue() { close(); }

void RedisStreamQueue::start() {
    publisher_ = std::thread([this] {
        name_this_thread("cg-redis-pub");
        publish_loop();
    });
    if (options_.consume) consumer_ = std::thread([this] { consume_loop(); });
}

void RedisStreamQueue::on_committed(store::QueuedRequest request) {
    if (!options_.publish) return;
    std::lock_guard lock(mu_);
    if (to_publish_.size() >= options_.max_buffer) {
        // The relay re-publishes it from the ledger after the takeover time.
        to_publish_.pop_front();
    } else {
        buffered_.fetch_add(1);
    }
    to_publish_.push_back(request.seq);
    pub_cv_.notify_one();
}

void RedisStreamQueue::dead_lettered(const std::string& request_id, const std::string& error) {
    std::lock_guard lock(mu_);
    if (dead_.size() >= options_.max_buffer) return;  // the store holds it as failed anyway
    dead_.emplace_back(request_id, error);
    pub_cv_.notify_one();
}

std::vector<store::QueuedRequest> RedisStreamQueue::pop(size_t max,
                                                        std::chrono::milliseconds wait) {
    std::vector<store::QueuedRequest> out;
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, wait, [&] { return closed_ || !items_.empty(); })) return out;
    if (closed_) return out;
    const size_t n = std::min(max, items_.size());
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        out.push_back(std::move(items_.front()));
        items_.pop_front();
    }
    cv_.notify_all();  // room in the window: the consumer thread may read more
    return out;
}

void RedisStreamQueue::acknowledge(const std::vector<int64_t>& seqs) {
    std::lock_guard lock(mu_);
    for (const int64_t s : seqs) {
        auto it = entry_of_.find(s);
        if (it == entry_of_.end()) continue;
        to_ack_.push_back(std::move(it->second));
        entry_of_.erase(it);
    }
}

void RedisStreamQueue::close() {
    {
        std::lock_guard lock(mu_);
        if (closed_ && !publisher_.joinable() && !consumer_.joinable()) return;
        closed_ = true;
    }
    cv_.notify_all();
    if (consumer_.joinable()) consumer_.join();
    // Claimed requests no worker started: give their leases back and publish them again, so
    // other workers take them now rather than after the takeover time.
    std::vector<int64_t> unstarted;
    {
        std::lock_guard lock(mu_);
        for (const auto& q : items_) unstarted.push_back(q.seq);
        items_.clear();
    }
    if (!unstarted.empty()) {
        try {
            ledger_.release(unstarted);
            std::lock_guard lock(mu_);
            to_publish_.insert(to_publish_.end(), unstarted.begin(), unstarted.end());
            buffered_.fetch_add(static_cast<int64_t>(unstarted.size()));
            obs::log_info("handed back claimed requests not started")
                .kv("count", static_cast<int64_t>(unstarted.size()));
        } catch (const std::exception& e) {
            obs::log_warn(
                "could not hand back claimed requests; they move on after the takeover time")
                .kv("error", e.what());
        }
    }
    {
        std::lock_guard lock(mu_);
        stop_publisher_ = true;
    }
    pub_cv_.notify_all();
    if (publisher_.joinable()) publisher_.join();
}

void RedisStreamQueue::publish_loop() {
    cg::redis::RedisConnection conn(cg::redis::parse_redis_url(options_.url), 2000ms);
    Backoff backoff;
    const std::string max_len = std::to_string(options_.max_len);
    for (;;) {
        std::vector<int64_t> seqs;
        std::vector<std::pair<std::string, std::string>> dead;
        bool closing = false;
        {
            std::unique_lock lock(mu_);
            pub_cv_.wait(lock,
                         [&] { return stop_publisher_ || !to_publish_.empty() || !dead_.empty(); });
            closing = stop_publisher_;
            const size_t n = std::min(kPublishBatch, to_publish_.size());
            seqs.assign(to_publish_.begin(), to_publish_.begin() + static_cast<long>(n));
            dead = dead_;
        }
        if (seqs.empty() && dead.empty()) return;  // closed with nothing left
        std::vector<std::vector<std::string>> cmds;
        cmds.reserve(seqs.size() + dead.size());
        for (const int64_t s : seqs) {
            cmds.push_back(
                {"XADD", stream_, "MAXLEN", "~", max_len, "*", "seq", std::to_string(s)});
        }
        for (const auto& [id, error] : dead) {
            cmds.push_back({"XADD", dead_stream_, "MAXLEN", "~", "100000", "*", "request_id", id,
                            "error", error});
        }
        try {
            conn.pipeline(cmds);
            {
                std::lock_guard lock(mu_);
                // Only this thread removes from the fronts; producers only append.
                to_publish_.erase(to_publish_.begin(),
                                  to_publish_.begin() +
                                      static_cast<long>(std::min(seqs.size(), to_publish_.size())));
                dead_.erase(dead_.begin(),
                            dead_.begin() + static_cast<long>(std::min(dead.size(), dead_.size())));
            }
            buffered_.fetch_sub(static_cast<int64_t>(seqs.size()));
            if (!broker_up_.exchange(true)) obs::log_info("Redis reachable again");
            backoff.reset();
        } catch (const cg::redis::RedisError& e) {
            if (broker_up_.exchange(false)) {
                obs::log_error("publishing to Redis failed; hints are kept and retried")
                    .kv("error", e.what());
            }
            if (closing) return;  // the relay re-publishes what is left
            std::unique_lock lock(mu_);
            pub_cv_.wait_for(lock, backoff.next(), [&] { return stop_publisher_; });
        }
    }
}

void RedisStreamQueue::consume_loop() {
    cg::redis::RedisConnection conn(cg::redis::parse_redis_url(options_.url), 3000ms);
    Backoff backoff;
    bool group_ready = false;
    std::vector<Entry> unclaimed;  // read but not yet claimed (the ledger failed)
    auto next_housekeeping = SteadyClock::now();
    const auto housekeeping_every =
        std::chrono::milliseconds(std::max<int64_t>(200, options_.takeover_ms / 3));
    const std::string takeover = std::to_string(options_.takeover_ms);
    std::string autoclaim_cursor = "0-0";
    // When the last read began and whether it found a few hints (see kGatherBelow).
    auto last_read = SteadyClock::now();
    bool gather = false;

    auto ack = [&](const std::vector<std::string>& ids) {
        if (ids.empty()) return;
        std::vector<std::string> argv{"XACK", stream_, group_};
        argv.insert(argv.end(), ids.begin(), ids.end());
        conn.command(argv);
    };
    // Claims what was read; unreadable entries go to the dead-letter stream and are acked.
    auto claim = [&](std::vector<Entry>& entries) {
        std::vector<int64_t> seqs;
        std::vector<std::string> bad;
        for (const auto& e : entries) {
            if (e.seq > 0) {
                seqs.push_back(e.seq);
            } else {
                bad.push_back(e.id);
            }
        }
        for (const auto& id : bad) {
            obs::log_warn("unreadable stream entry dead-lettered").kv("entry", id);
            conn.command({"XADD", dead_stream_, "MAXLEN", "~", "100000", "*", "entry", id, "error",
                          "unreadable stream entry"});
        }
        ack(bad);
        auto result = ledger_.claim(seqs, options_.takeover_ms);  // throws: kept for later
        std::unordered_map<int64_t, std::string> id_of;
        for (auto& e : entries) id_of[e.seq] = e.id;
        entries.clear();
        std::vector<std::string> settled;
        for (const int64_t s : result.settled) settled.push_back(id_of[s]);
        {
            std::lock_guard lock(mu_);
            for (auto& q : result.claimed) {
                entry_of_[q.seq] = id_of[q.seq];
                items_.push_back(std::move(q));
            }
        }
        cv_.notify_all();
        ack(settled);
    };

    for (;;) {
        std::vector<std::string> acks;
        {
            std::unique_lock lock(mu_);
            if (closed_) break;
            acks.swap(to_ack_);
        }
        try {
            if (!group_ready) {
                try {
                    conn.command({"XGROUP", "CREATE", stream_, group_, "0", "MKSTREAM"});
                } catch (const cg::redis::RedisError& e) {
                    if (e.connection() || std::string_view(e.what()).rfind("BUSYGROUP", 0) != 0) {
                        throw;
                    }
                }
                group_ready = true;
            }
            ack(acks);
            acks.clear();
            if (!unclaimed.empty()) claim(unclaimed);
            if (SteadyClock::now() >= next_housekeeping) {
                next_housekeeping = SteadyClock::now() + housekeeping_every;
                // Outbox relay: queued requests whose hint never reached a worker.
                for (;;) {
                    const auto stale = ledger_.take_unpublished(options_.takeover_ms, kRelayBatch);
                    if (stale.empty()) break;
                    std::vector<std::vector<std::string>> cmds;
                    for (const int64_t s : stale) {
                        cmds.push_back({"XADD", stream_, "MAXLEN", "~",
                                        std::to_string(options_.max_len), "*", "seq",
                                        std::to_string(s)});
                    }
                    conn.pipeline(cmds);
                    obs::log_info("re-published queued requests from the database")
                        .kv("count", static_cast<int64_t>(stale.size()));
                    if (stale.size() < kRelayBatch) break;
                }
                // Entries a dead consumer read and never acknowledged: a few pages a round, the
                // cursor carried over to the next round.
                for (int page = 0; page < 4; ++page) {
                    auto r =
                        conn.command({"XAUTOCLAIM", stream_, group_, options_.consumer, takeover,
                                      autoclaim_cursor, "COUNT", std::to_string(kReadBatch)});
                    if (r.get()->type != REDIS_REPLY_ARRAY || r.get()->elements < 2) break;
                    const auto next = text_of(r.get()->element[0]);
                    autoclaim_cursor = next.empty() ? "0-0" : std::string(next);
                    parse_entries(r.get()->element[1], unclaimed);
                    if (!unclaimed.empty()) {
                        obs::log_info("took over stream entries of an unresponsive worker")
                            .kv("count", static_cast<int64_t>(unclaimed.size()));
                        claim(unclaimed);
                    }
                    if (autoclaim_cursor == "0-0") break;
                }
            }
            size_t room = 0;
            {
                std::unique_lock lock(mu_);
                cv_.wait_for(lock, 10ms,
                             [&] { return closed_ || items_.size() < options_.window; });
                if (closed_) break;
                room = options_.window - std::min(options_.window, items_.size());
            }
            if (room == 0) continue;
            if (gather) {
                std::unique_lock lock(mu_);
                if (cv_.wait_until(lock, last_read + kGatherFor, [&] { return closed_; })) break;
            }
            last_read = SteadyClock::now();
            gather = false;
            auto r = conn.command({"XREADGROUP", "GROUP", group_, options_.consumer, "COUNT",
                                   std::to_string(std::min(room, kReadBatch)), "BLOCK", "100",
                                   "STREAMS", stream_, ">"});
            if (r.get()->type == REDIS_REPLY_ARRAY) {
                for (size_t i = 0; i < r.get()->elements; ++i) {
                    const redisReply* s = r.get()->element[i];
                    if (s && s->type == REDIS_REPLY_ARRAY && s->elements >= 2) {
                        parse_entries(s->element[1], unclaimed);
                    }
                }
                gather = !unclaimed.empty() && unclaimed.size() < kGatherBelow;
                if (!unclaimed.empty()) claim(unclaimed);
            }
            if (!broker_up_.exchange(true)) obs::log_info("Redis reachable again");
            backoff.reset();
        } catch (const cg::redis::RedisError& e) {
            if (!e.connection() && std::string_view(e.what()).rfind("NOGROUP", 0) == 0) {
                group_ready = false;  // Redis lost the group (restarted without its data)
                continue;
            }
            if (broker_up_.exchange(false)) {
                obs::log_error("reading from Redis failed; retrying").kv("error", e.what());
            }
            {  // acks not sent are sent after the reconnect
                std::lock_guard lock(mu_);
                to_ack_.insert(to_ack_.end(), acks.begin(), acks.end());
            }
            std::unique_lock lock(mu_);
            cv_.wait_for(lock, backoff.next(), [&] { return closed_; });
        } catch (const std::exception& e) {
            // The ledger (database) failed: what was read stays in `unclaimed` for the next round.
            obs::log_error("claiming queued requests failed; retrying").kv("error", e.what());
            {
                std::lock_guard lock(mu_);
                to_ack_.insert(to_ack_.end(), acks.begin(), acks.end());
            }
            std::unique_lock lock(mu_);
            cv_.wait_for(lock, backoff.next(), [&] { return closed_; });
        }
    }
}

}  // namespace cg::queue::redis
