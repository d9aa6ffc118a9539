#include "delivery/delivery_engine.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "common/text.hpp"
#include "common/thread_name.hpp"
#include "delivery/callback_payload.hpp"
#include "delivery/retry_decision.hpp"
#include "delivery/signer.hpp"
#include "net/origin.hpp"
#include "obs/log.hpp"
#include "obs/trace.hpp"

namespace cg::delivery {

namespace {

using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Receivers with nothing in memory are forgotten after this long (their limit with them).
constexpr int64_t kIdleForgetMs = 60'000;

}  // namespace

struct DeliveryEngine::Impl {
    DeliveryOptions options;
    store::Store& store;
    net::HttpClient& http;
    const cg::Clock& clock;
    obs::Metrics& metrics;
    RetryPolicy policy;
    SeededRandom rng{std::random_device{}()};  // engine thread only

    // Shared with other threads; guarded by `mu`, which is held only to move batches.
    std::mutex mu;
    std::condition_variable cv;
    std::vector<store::DeliveryJob> inbox;
    // An attempt that ended, with the receiver it went to: a receiver with attempts in flight is
    // never swept, so the pointer stays valid until the completion is handled.
    struct Receiver;
    struct Completion {
        store::DeliveryJob job;
        net::HttpResponse response;
        int64_t started_at_ms = 0;
        Receiver* receiver = nullptr;
    };
    std::vector<Completion> completions;
    std::vector<store::AttemptRecord> unrecorded;  // attempt results whose write failed
    std::vector<int64_t> recorded;                 // seqs whose outcome is durable
    std::unordered_set<int64_t> resident;          // held here, from arrival until recorded
    // The resident ones read from the store as due: their rows stay due there until their
    // attempt is recorded, so a due read returns them again and must look past them.
    std::unordered_set<int64_t> loaded;
    bool wake_requested = true;  // look for due parked deliveries
    bool stopping = false;
    bool running = false;
    std::atomic<size_t> held{0};
    std::thread thread;

    // Engine thread only.
    struct Receiver {
        explicit Receiver(std::string k, const LimitOptions& o) : key(std::move(k)), limit(o) {}
        std::string key;
        AdaptiveLimit limit;
        size_t in_flight = 0;
        std::deque<store::DeliveryJob> waiting;
        std::deque<int64_t> waiting_since;  // when each of `waiting` joined the line
        int64_t paused_until_ms = 0;
        int64_t delivered = 0;
        int64_t idle_since_ms = 0;
        bool in_ready = false;
    };
    std::unordered_map<std::string, std::unique_ptr<Receiver>> receivers;
    std::string key_scratch;      // the origin of the delivery at hand (receiver_for)
    std::deque<Receiver*> ready;  // waiting deliveries, room under the limit, not paused
    std::vector<Receiver*> paused;
    size_t launched = 0;  // attempts in flight in all
    ReceiverHealth receiver_health;
    int64_t next_sweep_ms = 0;

    Impl(DeliveryOptions o, store::Store& s, net::HttpClient& h, const cg::Clock& c,
         obs::Metrics& m)
        : options(std::move(o)), store(s), http(h), clock(c), metrics(m) {
        options.max_in_flight = std::max<size_t>(1, options.max_in_flight);
        options.max_resident = std::max(options.max_resident, options.max_in_flight);
        options.limit.max = std::max<size_t>(1, options.limit.max);
        options.limit.min = std::clamp<size_t>(options.limit.min, 1, options.limit.max);
        policy.max_attempts = options.max_attempts;
        policy.backoff = options.backoff;
    }

    Receiver& receiver_for(const store::DeliveryJob& job) {
        // A URL that has no origin was refused at accept; were one stored, it keys alone and its
        // attempt fails as the client finds it.
        if (!net::origin_of(job.callback_url, key_scratch)) key_scratch = job.callback_url;
        auto it = receivers.find(key_scratch);
        if (it == receivers.end()) {
            it = receivers
                     .emplace(key_scratch, std::make_unique<Receiver>(key_scratch, options.limit))
                     .first;
        }
        return *it->second;
    }

    [[nodiscard]] bool has_room(const Receiver& r, int64_t now) const {
        return !r.waiting.empty() && r.in_flight < r.limit.limit() && r.paused_until_ms <= now;
    }

    void make_ready(Receiver& r, int64_t now) {
        if (!r.in_ready && has_room(r, now)) {
            r.in_ready = true;
            ready.push_back(&r);
        }
    }

    // Whether the receiver's line is too long to keep in memory: its oldest delivery has
    // waited longer than `wait_ms` (or a Retry-After pause lasts longer than that), and
    // (outside cluster mode, where a lease bounds any wait) the line holds more than a quarter
    // of the resident room, which others may need. Judged by what was observed, not by a
    // forecast of the receiver's pace: a receiver that held its answers for a while and then
    // answered them all at once is not parked, and a busy but healthy receiver that is the
    // only one, however long its line, never is.
    [[nodiscard]] bool too_long(const Receiver& r, int64_t now, int64_t wait_ms) const {
        if (r.waiting.size() <= 1) return false;
        if (now - r.waiting_since.front() <= wait_ms && r.paused_until_ms - now <= wait_ms) {
            return false;
        }
        return options.bound_every_line || r.waiting.size() * 4 > options.max_resident;
    }

    // A delivery arrived (fresh, from a due read, or back after a failed write).
    void enqueue(store::DeliveryJob job, int64_t now, std::vector<store::DeliveryJob>& to_park) {
        Receiver& r = receiver_for(job);
        if (too_long(r, now, options.max_resident_wait.count())) {
            to_park.push_back(std::move(job));
            return;
        }
        r.waiting.push_back(std::move(job));
        r.waiting_since.push_back(now);
        make_ready(r, now);
    }

    // Parks the tail of a receiver's line that is too long (see too_long()).
    void trim(Receiver& r, int64_t now, std::vector<store::DeliveryJob>& to_park) {
        const int64_t wait_ms = options.max_resident_wait.count();
        while (too_long(r, now, wait_ms)) {
            to_park.push_back(std::move(r.waiting.back()));
            r.waiting.pop_back();
            r.waiting_since.pop_back();
        }
    }

    // Starts attempts while there are free slots: one per receiver per turn, round robin.
    void pump(int64_t now) {
        while (launched < options.max_in_flight && !ready.empty()) {
            Receiver* r = ready.front();
            ready.pop_front();
            r->in_ready = false;
            if (!has_room(*r, now)) continue;
            auto job = std::move(r->waiting.front());
            r->waiting.pop_front();
            r->waiting_since.pop_front();
            ++r->in_flight;
            ++launched;
            launch(std::move(job), *r, now);
            make_ready(*r, now);
        }
    }

    // Parks deliveries in the store for max_resident_wait (or until their receiver's pause
    // ends), spread over a quarter as long again so that they come back a few at a time. Until the
    // write is durable they stay held; if it fails they go back to the inbox and are tried again.
    void park(std::vector<store::DeliveryJob> jobs, int64_t now) {
        if (jobs.empty()) return;
        std::vector<store::DeferRecord> records;
        records.reserve(jobs.size());
        std::unordered_map<const Receiver*, int64_t> delay_of;
        for (const auto& j : jobs) {
            const Receiver& r = receiver_for(j);
            auto d = delay_of.find(&r);
            if (d == delay_of.end()) {
                // Back after max_resident_wait, or when the receiver's pause ends if sooner.
                int64_t ms = options.max_resident_wait.count();
                if (r.paused_until_ms > now) ms = std::min(ms, r.paused_until_ms - now);
                ms = std::max<int64_t>(ms, 1000);
                d = delay_of.emplace(&r, ms).first;
            }
            const auto jitter =
                static_cast<int64_t>(rng.uniform() * static_cast<double>(d->second / 4));
            records.push_back({j.seq, now + d->second + jitter});
        }
        metrics.callback_deferred.inc(jobs.size());
        auto held_jobs = std::make_shared<std::vector<store::DeliveryJob>>(std::move(jobs));
        store.defer_deliveries(std::move(records), [this, held_jobs](bool ok) {
            std::lock_guard lock(mu);
            for (auto& j : *held_jobs) {
                if (ok) {
                    recorded.push_back(j.seq);
                } else {
                    inbox.push_back(std::move(j));  // still resident: enqueued again
                }
            }
            cv.notify_one();
        });
    }

    void launch(store::DeliveryJob job, Receiver& receiver, int64_t now) {
        net::HttpRequest req;
        req.url = job.callback_url;
        req.timeout = options.attempt_timeout;
        req.block_private_addresses = !options.allow_private_networks;
        req.body = callback_body(job);
        const int64_t ts = now / 1000;
        req.headers.reserve(7);
        req.headers.emplace_back("Content-Type", "application/json");
        req.headers.emplace_back("User-Agent", "chargegate/" CG_VERSION);
        req.headers.emplace_back("webhook-id", job.id);
        req.headers.emplace_back("webhook-timestamp", std::to_string(ts));
        const SigningKeys* keys = &options.signing_keys;
        std::shared_ptr<const SigningKeys> own;
        if (!job.client_id.empty() && options.client_signing_keys) {
            own = options.client_signing_keys(job.client_id);
            if (own && !own->empty()) keys = own.get();
        }
        if (!keys->empty()) {
            req.headers.emplace_back("webhook-signature", keys->sign(job.id, ts, req.body));
        }
        req.headers.emplace_back("traceparent", obs::make_traceparent(job.traceparent));
        if (const auto state = obs::tracestate_of(job.traceparent); !state.empty()) {
            req.headers.emplace_back("tracestate", std::string(state));
        }
        http.post(std::move(req),
                  [this, job = std::move(job), now, rp = &receiver](net::HttpResponse r) mutable {
                      std::lock_guard lock(mu);
                      // The engine takes every completion at once: the first of a batch wakes it.
                      if (completions.empty()) cv.notify_one();
                      completions.push_back({std::move(job), std::move(r), now, rp});
                  });
    }

    // An attempt ended: frees its slot, feeds the receiver's limit and returns what to record.
    store::AttemptRecord complete(Completion& c, int64_t now,
                                  std::vector<store::DeliveryJob>& to_park) {
        const auto& resp = c.response;
        const int round_no = c.job.round_attempts + 1;
        const AttemptVerdict v = decide_attempt(resp, round_no, policy, now, rng);
        const auto duration_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(resp.duration).count();

        Receiver& r = *c.receiver;
        // Deliveries still waiting when an attempt ends: the limit (or the shared slots) held
        // them back, since every turn starts what the limit allows.
        const bool saturated = !r.waiting.empty();
        if (r.in_flight > 0) --r.in_flight;
        if (launched > 0) --launched;
        const size_t limit_before = r.limit.limit();
        if (v.verdict == Verdict::kDelivered) {
            r.limit.on_success(resp.duration, saturated);
            ++r.delivered;
        } else if (v.overload) {
            r.limit.on_overload();
        }
        if (r.limit.limit() != limit_before && obs::log_enabled(obs::Level::kDebug)) {
            obs::log_debug("receiver limit changed")
                .kv("receiver", r.key)
                .kv("from", static_cast<int64_t>(limit_before))
                .kv("to", static_cast<int64_t>(r.limit.limit()))
                .kv("baseline_us", r.limit.baseline().count())
                .kv("last_window_us", r.limit.last_window_mean().count());
        }
        if (v.pause_until_ms > now && v.pause_until_ms > r.paused_until_ms) {
            if (r.paused_until_ms <= now) paused.push_back(&r);
            r.paused_until_ms = v.pause_until_ms;
            obs::log_info("receiver asked for a pause (Retry-After)")
                .kv("receiver", r.key)
                .kv("until", format_rfc3339_ms(v.pause_until_ms));
        }
        trim(r, now, to_park);
        make_ready(r, now);
        if (r.in_flight == 0 && r.waiting.empty()) r.idle_since_ms = now;

        store::AttemptRecord a;
        a.seq = c.job.seq;
        a.attempt_no = c.job.attempts + 1;
        a.started_at_ms = c.started_at_ms;
        a.duration_ms = duration_ms;
        a.http_status = resp.status;
        metrics.callback_duration.observe(std::chrono::duration<double>(resp.duration).count());
        metrics.callback_deliveries.inc(v.result);
        const auto receiver = std::string_view(r.key);
        if (v.verdict == Verdict::kDelivered) {
            a.outcome = store::AttemptOutcome::kDelivered;
            receiver_health.record(receiver, true, resp.status, {}, c.started_at_ms);
            // End to end is acceptance to the first delivery; a redelivery (a new round, asked
            // for by an operator) would only measure how long the operator took.
            if (c.job.created_at_ms > 0 && c.job.attempts == c.job.round_attempts) {
                metrics.end_to_end.observe(
                    static_cast<double>(std::max<int64_t>(0, now - c.job.created_at_ms)) / 1000.0);
            }
            return a;
        }
        a.error = v.error;
        receiver_health.record(receiver, false,
                               resp.error == net::HttpError::kNone ? resp.status : 0, a.error,
                               c.started_at_ms + a.duration_ms);
        if (v.verdict == Verdict::kDeadLetter) {
            a.outcome = store::AttemptOutcome::kFailed;
            metrics.dead_lettered.inc();
            if (options.on_dead_letter) options.on_dead_letter(c.job.id, a.error);
            obs::log_warn("callback dead-lettered")
                .kv("request_id", c.job.id)
                .kv("trace_id", obs::trace_id_of(c.job.traceparent))
                .kv("driver_token", mask_token(c.job.driver_token))
                .kv("attempts", a.attempt_no)
                .kv("error", a.error);
        } else {
            a.outcome = store::AttemptOutcome::kRetry;
            a.next_attempt_at_ms = v.next_attempt_at_ms;
            metrics.retries_scheduled.inc();
            obs::log_debug("callback attempt failed; retry scheduled")
                .kv("request_id", c.job.id)
                .kv("trace_id", obs::trace_id_of(c.job.traceparent))
                .kv("attempt", a.attempt_no)
                .kv("error", a.error)
                .kv("next_attempt_at", format_rfc3339_ms(a.next_attempt_at_ms));
        }
        return a;
    }

    void record(std::vector<store::AttemptRecord> records) {
        if (records.empty()) return;
        std::vector<int64_t> seqs;
        seqs.reserve(records.size());
        for (const auto& r : records) seqs.push_back(r.seq);
        auto copy = std::make_shared<std::vector<store::AttemptRecord>>(records);
        store.record_attempts(std::move(records), [this, seqs = std::move(seqs), copy](bool ok) {
            std::lock_guard lock(mu);
            if (ok) {
                recorded.insert(recorded.end(), seqs.begin(), seqs.end());
            } else {
                // Keep the results and write them again: until then the requests stay held.
                unrecorded.insert(unrecorded.end(), copy->begin(), copy->end());
            }
            cv.notify_one();
        });
    }

    // Ends pauses that are over; returns when the next one ends (0: none).
    int64_t resume_paused(int64_t now) {
        int64_t next = 0;
        std::erase_if(paused, [&](Receiver* r) {
            if (r->paused_until_ms <= now) {
                r->paused_until_ms = 0;
                make_ready(*r, now);
                return true;
            }
            next = next == 0 ? r->paused_until_ms : std::min(next, r->paused_until_ms);
            return false;
        });
        return next;
    }

    // Forgets receivers idle for a while, so a flood of distinct receivers cannot grow memory.
    void sweep(int64_t now) {
        if (now < next_sweep_ms) return;
        next_sweep_ms = now + 10'000;
        std::erase_if(receivers, [&](const auto& kv) {
            const Receiver& r = *kv.second;
            return r.in_flight == 0 && r.waiting.empty() && !r.in_ready &&
                   r.paused_until_ms <= now && now - r.idle_since_ms > kIdleForgetMs;
        });
    }

    std::vector<ReceiverFlow> flows() const {
        std::vector<ReceiverFlow> out;
        out.reserve(receivers.size());
        const int64_t now = clock.now_ms();
        for (const auto& [key, r] : receivers) {
            // Only receivers with deliveries in memory or a pause (the limit of an idle one is
            // kept for its next delivery, but is not news).
            if (r->in_flight == 0 && r->waiting.empty() && r->paused_until_ms <= now) continue;
            out.push_back({key, r->limit.limit(), r->in_flight, r->waiting.size(),
                           r->paused_until_ms > now ? r->paused_until_ms : 0, r->delivered});
        }
        return out;
    }

    // Lets go of every waiting delivery (stopping): they are durable and resumed at the next
    // start.
    void release_waiting() {
        std::vector<int64_t> seqs;
        for (auto& [key, r] : receivers) {
            for (const auto& j : r->waiting) seqs.push_back(j.seq);
            r->waiting.clear();
            r->waiting_since.clear();
        }
        ready.clear();
        for (auto& [key, r] : receivers) r->in_ready = false;
        if (seqs.empty()) return;
        std::lock_guard lock(mu);
        for (const int64_t s : seqs) {
            resident.erase(s);
            loaded.erase(s);
        }
        held.fetch_sub(seqs.size());
    }

    void run() {
        auto next_poll = SteadyClock::now();
        auto next_rewrite = SteadyClock::now();
        int64_t next_resume_ms = 0;
        std::vector<store::DeliveryJob> jobs;
        std::vector<Completion> done;
        std::vector<int64_t> finished;
        std::vector<store::AttemptRecord> rewrite;
        std::vector<store::DeliveryJob> to_park;
        for (;;) {
            bool poll = false;
            bool stop = false;
            {
                std::unique_lock lock(mu);
                auto until = unrecorded.empty() ? next_poll : std::min(next_poll, next_rewrite);
                if (next_resume_ms > 0) {
                    const auto in = std::chrono::milliseconds(
                        std::max<int64_t>(1, next_resume_ms - clock.now_ms()));
                    until = std::min(until, SteadyClock::now() + in);
                }
                cv.wait_until(lock, until, [&] {
                    return stopping || !completions.empty() || !recorded.empty() ||
                           wake_requested || !inbox.empty();
                });
                stop = stopping;
                done.swap(completions);
                finished.swap(recorded);
                for (const int64_t s : finished) {
                    resident.erase(s);
                    loaded.erase(s);
                }
                held.fetch_sub(finished.size());
                finished.clear();
                if (!unrecorded.empty() && SteadyClock::now() >= next_rewrite) {
                    rewrite.swap(unrecorded);
                    next_rewrite = SteadyClock::now() + 500ms;
                }
                jobs.swap(inbox);
                poll = !stop && (wake_requested || SteadyClock::now() >= next_poll);
                wake_requested = false;
                if (stop && resident.empty() && done.empty()) return;
            }
            if (!rewrite.empty()) {
                record(std::move(rewrite));
                rewrite.clear();
            }
            const int64_t now = clock.now_ms();
            std::vector<store::AttemptRecord> records;
            records.reserve(done.size());
            for (auto& c : done) records.push_back(complete(c, now, to_park));
            done.clear();
            record(std::move(records));
            for (auto& j : jobs) enqueue(std::move(j), now, to_park);
            jobs.clear();
            if (poll) {
                next_poll = SteadyClock::now() + options.poll_interval;
                poll_due(now, to_park);
            }
            next_resume_ms = resume_paused(now);
            if (stop) {
                release_waiting();
            } else {
                pump(now);
            }
            park(std::move(to_park), now);
            to_park.clear();
            sweep(now);
            receiver_health.publish_if_due(SteadyClock::now(), [this] { return flows(); });
            if (stop) {
                // Draining: only completions and their records are processed now.
                std::unique_lock lock(mu);
                cv.wait_for(lock, 5ms);
            }
        }
    }

    // Takes parked deliveries whose time has come, skipping those already held here.
    void poll_due(int64_t now, std::vector<store::DeliveryJob>& to_park) {
        size_t free = 0;
        size_t skip = 0;
        {
            std::lock_guard lock(mu);
            free = options.max_resident - std::min(options.max_resident, resident.size());
            skip = loaded.size();
        }
        if (free == 0) return;
        std::vector<store::DeliveryJob> due;
        try {
            // Takes (a shared store: leases) at most what can be held now.
            due = store.take_due(now, free, skip);
        } catch (const std::exception& e) {
            obs::log_error("reading due deliveries failed").kv("error", e.what());
            return;
        }
        std::vector<store::DeliveryJob> taken;
        {
            std::lock_guard lock(mu);
            for (auto& j : due) {
                if (taken.size() >= free) break;
                if (!resident.insert(j.seq).second) continue;
                loaded.insert(j.seq);
                taken.push_back(std::move(j));
            }
            // A full page: more may be due; look again on the next turn.
            if (due.size() >= free && !taken.empty()) wake_requested = true;
        }
        held.fetch_add(taken.size());
        for (auto& j : taken) enqueue(std::move(j), now, to_park);
    }
};

DeliveryEngine::DeliveryEngine(DeliveryOptions options, store::Store& store, net::HttpClient& http,
                               const Clock& clock, obs::Metrics& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), store, http, clock, metrics)) {}

DeliveryEngine::~DeliveryEngine() { stop(0); }

void DeliveryEngine::start() {
    std::lock_guard lock(impl_->mu);
    if (impl_->running) return;
    impl_->running = true;
    impl_->thread = std::thread([this] {
        name_this_thread("cg-delivery");
        impl_->run();
    });
}

void DeliveryEngine::submit(std::vector<store::DeliveryJob> jobs) {
    if (jobs.empty()) return;
    impl_->held.fetch_add(jobs.size());
    std::lock_guard lock(impl_->mu);
    for (auto& j : jobs) {
        impl_->resident.insert(j.seq);
        impl_->inbox.push_back(std::move(j));
    }
    impl_->cv.notify_one();
}

bool DeliveryEngine::has_capacity() const {
    return impl_->held.load() < impl_->options.max_resident;
}

size_t DeliveryEngine::held() const { return impl_->held.load(); }

const ReceiverHealth& DeliveryEngine::receiver_health() const { return impl_->receiver_health; }

void DeliveryEngine::wake() {
    std::lock_guard lock(impl_->mu);
    impl_->wake_requested = true;
    impl_->cv.notify_one();
}

void DeliveryEngine::stop(int64_t deadline_ms) {
    {
        std::lock_guard lock(impl_->mu);
        if (!impl_->running) return;
        impl_->stopping = true;
        impl_->cv.notify_one();
    }
    // The engine thread exits once every launched attempt is recorded; past the deadline the
    // HTTP client is expected to be stopped by the owner, which completes what is left.
    const auto deadline = SteadyClock::now() + std::chrono::milliseconds(deadline_ms);
    while (SteadyClock::now() < deadline) {
        {
            std::lock_guard lock(impl_->mu);
            if (impl_->resident.empty()) break;
        }
        std::this_thread::sleep_for(5ms);
    }
    bool abandoned = false;
    {
        std::lock_guard lock(impl_->mu);
        if (!impl_->resident.empty()) {
            abandoned = true;
            obs::log_warn("stopping with callbacks in flight; they are resumed at the next start")
                .kv("count", static_cast<int64_t>(impl_->resident.size()));
            impl_->resident.clear();  // lets the thread exit; the store still holds them
            impl_->loaded.clear();
        }
        impl_->running = false;
        impl_->cv.notify_one();
    }
    (void)abandoned;
    if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace cg::delivery
