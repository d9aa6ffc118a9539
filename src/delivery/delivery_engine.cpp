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
#include "delivery/callback_payload.hpp"
#include "delivery/signer.hpp"
#include "obs/log.hpp"

namespace cg::delivery {

namespace {

using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Completion {
    store::DeliveryJob job;
    HttpResponse response;
    int64_t started_at_ms = 0;
};

// The receiver a callback URL points at: "scheme://authority" (the URL was validated at
// accept). Only used to group deliveries per receiver.
std::string_view receiver_of(std::string_view url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) return url;
    const auto end = url.find_first_of("/?#", scheme_end + 3);
    return url.substr(0, end);
}

std::string describe_failure(const HttpResponse& r) {
    if (r.error == HttpError::kNone) return "receiver answered " + std::to_string(r.status);
    std::string s = to_string(r.error);
    if (!r.error_message.empty()) s += ": " + r.error_message;
    return s;
}

}  // namespace

struct DeliveryEngine::Impl {
    DeliveryOptions options;
    store::Store& store;
    HttpClient& http;
    const cg::Clock& clock;
    obs::Metrics& metrics;
    SeededRandom rng{std::random_device{}()};  // engine thread only

    std::mutex mu;  // guards everything below; held only to move batches in or out
    std::condition_variable cv;
    std::vector<store::DeliveryJob> inbox;
    std::vector<Completion> completions;
    std::vector<store::AttemptRecord> unrecorded;  // attempt results whose write failed
    std::vector<int64_t> recorded;                 // seqs whose attempt result is durable
    std::unordered_set<int64_t> in_flight;         // launched and not yet recorded
    // Per receiver: attempts in flight and jobs waiting for one of its slots; engine thread only.
    struct Receiver {
        size_t in_flight = 0;
        std::deque<store::DeliveryJob> waiting;
    };
    std::unordered_map<std::string, Receiver> receivers;
    ReceiverHealth receiver_health;  // recorded on the engine thread, read by operators
    bool wake_requested = true;      // look for due parked deliveries
    bool stopping = false;
    bool running = false;
    std::atomic<size_t> held{0};
    std::thread thread;

    Impl(DeliveryOptions o, store::Store& s, HttpClient& h, const cg::Clock& c, obs::Metrics& m)
        : options(std::move(o)), store(s), http(h), clock(c), metrics(m) {
        if (options.max_in_flight == 0) options.max_in_flight = 1;
    }

    // Launches the jobs whose receiver has room and parks the others (engine thread).
    void launch_or_defer(std::vector<store::DeliveryJob>& jobs) {
        std::vector<store::DeliveryJob> deferred;
        const size_t max_waiting = std::max<size_t>(1, options.max_in_flight / 2);
        for (auto& j : jobs) {
            Receiver& r = receivers[std::string(receiver_of(j.callback_url))];
            if (r.in_flight < options.max_per_host) {
                ++r.in_flight;
                launch(std::move(j));
            } else if (r.waiting.size() < max_waiting) {
                r.waiting.push_back(std::move(j));
            } else {
                deferred.push_back(std::move(j));
            }
        }
        jobs.clear();
        if (!deferred.empty()) defer(std::move(deferred));
    }

    // An attempt to the job's receiver ended: its slot goes to the next waiting job, if any.
    // While stopping, waiting jobs are let go instead: they are durable and resumed at the
    // next start.
    void finished_attempt(const store::DeliveryJob& job, bool draining) {
        const auto it = receivers.find(std::string(receiver_of(job.callback_url)));
        if (it == receivers.end()) return;
        Receiver& r = it->second;
        if (draining && !r.waiting.empty()) {
            std::lock_guard lock(mu);
            for (const auto& w : r.waiting) in_flight.erase(w.seq);
            held.fetch_sub(r.waiting.size());
            r.waiting.clear();
        }
        if (!r.waiting.empty()) {
            auto next = std::move(r.waiting.front());
            r.waiting.pop_front();
            launch(std::move(next));
            return;
        }
        if (--r.in_flight == 0) receivers.erase(it);
    }

    // Parks deliveries whose receiver is busy and whose waiting line is full, spread over
    // [defer_delay, 2 × defer_delay) so that they come back a few at a time. Until the write is
    // durable they stay held; if it fails they go back to the inbox and are tried again.
    void defer(std::vector<store::DeliveryJob> jobs) {
        const int64_t now = clock.now_ms();
        const auto delay = options.defer_delay.count();
        std::vector<store::DeferRecord> records;
        records.reserve(jobs.size());
        for (const auto& j : jobs) {
            const auto jitter = static_cast<int64_t>(rng.uniform() * static_cast<double>(delay));
            records.push_back({j.seq, now + delay + jitter});
        }
        metrics.callback_deferred.inc(jobs.size());
        auto held_jobs = std::make_shared<std::vector<store::DeliveryJob>>(std::move(jobs));
        store.defer_deliveries(std::move(records), [this, held_jobs](bool ok) {
            std::lock_guard lock(mu);
            for (auto& j : *held_jobs) {
                if (ok) {
                    recorded.push_back(j.seq);
                } else {
                    in_flight.erase(j.seq);
                    inbox.push_back(std::move(j));
                }
            }
            cv.notify_one();
        });
    }

    void launch(store::DeliveryJob job) {
        const int64_t now = clock.now_ms();
        HttpRequest req;
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
        req.headers.emplace_back("traceparent", make_traceparent(job.traceparent));
        if (const auto state = tracestate_of(job.traceparent); !state.empty()) {
            req.headers.emplace_back("tracestate", std::string(state));
        }
        http.post(std::move(req), [this, job = std::move(job), now](HttpResponse r) mutable {
            std::lock_guard lock(mu);
            completions.push_back({std::move(job), std::move(r), now});
            cv.notify_one();
        });
    }

    store::AttemptRecord classify(Completion& c) {
        const auto& r = c.response;
        store::AttemptRecord a;
        a.seq = c.job.seq;
        a.attempt_no = c.job.attempts + 1;
        a.started_at_ms = c.started_at_ms;
        a.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(r.duration).count();
        a.http_status = r.status;
        metrics.callback_duration.observe(std::chrono::duration<double>(r.duration).count());
        const bool ok = r.error == HttpError::kNone && r.status >= 200 && r.status <= 299;
        const auto receiver = receiver_of(c.job.callback_url);
        if (ok) {
            a.outcome = store::AttemptOutcome::kDelivered;
            metrics.callback_deliveries.inc("delivered");
            receiver_health.record(receiver, true, r.status, {}, c.started_at_ms);
            // End to end is acceptance to the first delivery; a redelivery (a new round, asked
            // for by an operator) would only measure how long the operator took.
            if (c.job.created_at_ms > 0 && c.job.attempts == c.job.round_attempts) {
                const int64_t now = clock.now_ms();
                metrics.end_to_end.observe(
                    static_cast<double>(std::max<int64_t>(0, now - c.job.created_at_ms)) / 1000.0);
            }
            return a;
        }
        a.error = describe_failure(r);
        receiver_health.record(receiver, false, r.error == HttpError::kNone ? r.status : 0, a.error,
                               c.started_at_ms + a.duration_ms);
        const int round_no = c.job.round_attempts + 1;
        std::string_view result = "retry";
        if (r.error == HttpError::kNone && r.status == 410) {
            a.outcome = store::AttemptOutcome::kFailed;
            a.error = "receiver answered 410 Gone";
            result = "gone";
        } else if (r.error == HttpError::kBlockedAddress) {
            a.outcome = store::AttemptOutcome::kFailed;
            a.error = "callback address not allowed";
            result = "blocked";
        } else if (round_no >= options.max_attempts) {
            a.outcome = store::AttemptOutcome::kFailed;
            result = "failed";
        } else {
            std::optional<int64_t> floor;
            if (r.status == 429 || r.status == 503) floor = r.retry_after_ms;
            a.outcome = store::AttemptOutcome::kRetry;
            a.next_attempt_at_ms = clock.now_ms() + options.backoff.delay_ms(round_no, rng, floor);
            metrics.retries_scheduled.inc();
        }
        metrics.callback_deliveries.inc(result);
        if (a.outcome == store::AttemptOutcome::kFailed) {
            metrics.dead_lettered.inc();
            if (options.on_dead_letter) options.on_dead_letter(c.job.id, a.error);
            obs::log_warn("callback dead-lettered")
                .kv("request_id", c.job.id)
                .kv("trace_id", trace_id_of(c.job.traceparent))
                .kv("driver_token", mask_token(c.job.driver_token))
                .kv("attempts", a.attempt_no)
                .kv("error", a.error);
        } else {
            obs::log_debug("callback attempt failed; retry scheduled")
                .kv("request_id", c.job.id)
                .kv("trace_id", trace_id_of(c.job.traceparent))
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

    void run() {
        std::unique_ptr<store::StoreReader> reader;
        auto next_poll = SteadyClock::now();
        auto next_rewrite = SteadyClock::now();
        std::vector<store::DeliveryJob> jobs;
        std::vector<Completion> done;
        std::vector<int64_t> finished;
        std::vector<store::AttemptRecord> rewrite;
        for (;;) {
            bool poll = false;
            bool stop = false;
            {
                std::unique_lock lock(mu);
                // Sleep until the next poll, or the next re-write of failed records if any.
                const auto until =
                    unrecorded.empty() ? next_poll : std::min(next_poll, next_rewrite);
                cv.wait_until(lock, until, [&] {
                    return stopping || !completions.empty() || !recorded.empty() ||
                           wake_requested ||
                           (!inbox.empty() && in_flight.size() < options.max_in_flight);
                });
                stop = stopping;
                done.swap(completions);
                finished.swap(recorded);
                for (const int64_t s : finished) in_flight.erase(s);
                if (!unrecorded.empty() && SteadyClock::now() >= next_rewrite) {
                    rewrite.swap(unrecorded);
                    next_rewrite = SteadyClock::now() + 500ms;
                }
                if (!stop) {
                    const size_t free =
                        options.max_in_flight - std::min(options.max_in_flight, in_flight.size());
                    const size_t n = std::min(free, inbox.size());
                    jobs.assign(std::make_move_iterator(inbox.begin()),
                                std::make_move_iterator(inbox.begin() + static_cast<long>(n)));
                    inbox.erase(inbox.begin(), inbox.begin() + static_cast<long>(n));
                    for (const auto& j : jobs) in_flight.insert(j.seq);
                }
                poll = !stop && (wake_requested || SteadyClock::now() >= next_poll);
                wake_requested = false;
                if (stop && in_flight.empty()) return;
            }
            held.fetch_sub(finished.size());
            finished.clear();
            if (!rewrite.empty()) {
                record(std::move(rewrite));
                rewrite.clear();
            }
            std::vector<store::AttemptRecord> records;
            records.reserve(done.size());
            for (auto& c : done) {
                finished_attempt(c.job, stop);
                records.push_back(classify(c));
            }
            done.clear();
            receiver_health.publish_if_due(SteadyClock::now(), [this] {
                std::vector<ReceiverFlow> flows;
                flows.reserve(receivers.size());
                for (const auto& [name, r] : receivers) {
                    flows.push_back(
                        {name, options.max_per_host, r.in_flight, r.waiting.size(), 0, 0});
                }
                return flows;
            });
            record(std::move(records));
            launch_or_defer(jobs);
            if (poll) {
                next_poll = SteadyClock::now() + options.poll_interval;
                poll_due(reader);
            }
            if (stop) {
                // Draining: only completions and their records are processed now.
                std::unique_lock lock(mu);
                cv.wait_for(lock, 5ms);
            }
        }
    }

    // Takes parked deliveries whose time has come, skipping those already in flight here.
    void poll_due(std::unique_ptr<store::StoreReader>& reader) {
        size_t free = 0;
        size_t skip = 0;
        {
            std::lock_guard lock(mu);
            free = options.max_in_flight - std::min(options.max_in_flight, in_flight.size());
            skip = in_flight.size();
        }
        if (free == 0) return;
        std::vector<store::DeliveryJob> due;
        try {
            if (!reader) reader = store.open_reader();
            // A shared store leases what it returns: ask only for what starts now.
            due = reader->load_due(clock.now_ms(), store.due_reads_claim() ? free : free + skip);
        } catch (const std::exception& e) {
            obs::log_error("reading due deliveries failed").kv("error", e.what());
            return;
        }
        std::vector<store::DeliveryJob> launch_now;
        {
            std::lock_guard lock(mu);
            for (auto& j : due) {
                if (launch_now.size() >= free) break;
                if (!in_flight.insert(j.seq).second) continue;
                launch_now.push_back(std::move(j));
            }
        }
        held.fetch_add(launch_now.size());
        launch_or_defer(launch_now);
    }
};

DeliveryEngine::DeliveryEngine(DeliveryOptions options, store::Store& store, HttpClient& http,
                               const Clock& clock, obs::Metrics& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), store, http, clock, metrics)) {}

DeliveryEngine::~DeliveryEngine() { stop(0); }

void DeliveryEngine::start() {
    std::lock_guard lock(impl_->mu);
    if (impl_->running) return;
    impl_->running = true;
    impl_->thread = std::thread([this] { impl_->run(); });
}

void DeliveryEngine::submit(std::vector<store::DeliveryJob> jobs) {
    if (jobs.empty()) return;
    impl_->held.fetch_add(jobs.size());
    std::lock_guard lock(impl_->mu);
    for (auto& j : jobs) impl_->inbox.push_back(std::move(j));
    impl_->cv.notify_one();
}

bool DeliveryEngine::has_capacity() const {
    return impl_->held.load() < impl_->options.max_in_flight;
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
            if (impl_->in_flight.empty()) break;
        }
        std::this_thread::sleep_for(5ms);
    }
    bool abandoned = false;
    {
        std::lock_guard lock(impl_->mu);
        if (!impl_->in_flight.empty()) {
            abandoned = true;
            obs::log_warn("stopping with callbacks in flight; they are resumed at the next start")
                .kv("count", static_cast<int64_t>(impl_->in_flight.size()));
            impl_->in_flight.clear();  // lets the thread exit; the store still holds them
        }
        impl_->running = false;
        impl_->cv.notify_one();
    }
    (void)abandoned;
    if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace cg::delivery
