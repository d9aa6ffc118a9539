#include "ratelimit/redis_rate_limiter.hpp"

#include <fmt/format.h>
#include <openssl/sha.h>

#include <cstdlib>

#include "common/thread_name.hpp"
#include "obs/log.hpp"

namespace cg::ratelimit {

namespace {

// token_bucket.cpp's take_token, in Lua. KEYS[1]: the bucket (a hash: tokens, ms).
// ARGV[1]: tokens per second, ARGV[2]: burst. Returns {1 allowed | 0 refused, tokens left}.
// The key expires once its bucket would be full again: an absent key is a full bucket.
constexpr const char* kScript = R"lua(
if redis.replicate_commands then pcall(redis.replicate_commands) end
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ms')
local tokens = tonumber(state[1])
local updated = tonumber(state[2])
if tokens == nil or updated == nil then
  tokens = burst
elseif now > updated then
  tokens = math.min(burst, tokens + (now - updated) * rate / 1000)
end
local allowed = 0
if tokens + 1e-9 >= 1 then
  tokens = math.max(0, tokens - 1)
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens),
           'ms', string.format('%.0f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * 1000 / rate) + 1000)
return {allowed, string.format('%.17g', tokens)}
)lua";

std::string sha1_hex(const std::string& text) {
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
    std::string out;
    for (unsigned char c : digest) out += fmt::format("{:02x}", c);
    return out;
}

bool is_noscript(const redisReply* r) {
    return r->type == REDIS_REPLY_ERROR && std::string_view(r->str, r->len).starts_with("NOSCRIPT");
}

}  // namespace

const std::string& RedisRateLimiter::script() {
    static const std::string kText = kScript;
    return kText;
}

RedisRateLimiter::RedisRateLimiter(RedisOptions options, const Clock& clock, obs::Metrics& metrics)
    : options_(std::move(options)),
      metrics_(metrics),
      fallback_({options_.settings, 100'000, 64, 10'000, &metrics.rate_limit_overflows}, clock),
      conn_(cg::redis::parse_redis_url(options_.redis_url), options_.call_timeout),
      sha_(sha1_hex(script())),
      rate_arg_(fmt::format("{}", options_.settings.rate_per_second)),
      burst_arg_(std::to_string(options_.settings.burst)) {
    thread_ = std::thread([this] {
        name_this_thread("cg-ratelimit");
        run();
    });
}

RedisRateLimiter::~RedisRateLimiter() { stop(); }

void RedisRateLimiter::take(const std::string& key, Callback done) {
    {
        std::lock_guard lock(mu_);
        if (!stopping_) {
            // Bounded by the requests in progress: one per open connection at most.
            queued_.push_back({key, std::move(done)});
            cv_.notify_one();
            return;
        }
    }
    Call call{key, std::move(done)};
    answer_fallback(call);
}

void RedisRateLimiter::stop() {
    {
        std::lock_guard lock(mu_);
        if (stopping_) return;
        stopping_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
}

void RedisRateLimiter::run() {
    for (;;) {
        std::vector<Call> batch;
        bool stopping = false;
        {
            std::unique_lock lock(mu_);
            auto ready = [&] { return stopping_ || !queued_.empty(); };
            if (up_.load()) {
                cv_.wait(lock, ready);
            } else {
                cv_.wait_for(lock, options_.retry_interval, ready);  // wake to probe
            }
            stopping = stopping_;
            while (!queued_.empty() && (stopping || batch.size() < options_.max_batch)) {
                batch.push_back(std::move(queued_.front()));
                queued_.pop_front();
            }
        }
        if (stopping) {
            from_fallback(batch);
            return;
        }
        const bool may_try = up_.load() || std::chrono::steady_clock::now() >= next_attempt_;
        if (!may_try) {
            from_fallback(batch);
        } else if (batch.empty()) {
            probe();
        } else {
            on_redis(batch);
        }
    }
}

void RedisRateLimiter::on_redis(std::vector<Call>& batch) {
    using cg::redis::Reply;
    std::vector<std::vector<std::string>> commands;
    commands.reserve(batch.size());
    for (const auto& c : batch) {
        commands.push_back(
            {"EVALSHA", sha_, "1", options_.key_prefix + c.key, rate_arg_, burst_arg_});
    }
    std::vector<Reply> replies;
    try {
        replies = conn_.pipeline(commands);
        // The script cache is empty after a Redis restart or SCRIPT FLUSH: EVAL loads it again.
        std::vector<size_t> missing;
        for (size_t i = 0; i < replies.size(); ++i) {
            if (is_noscript(replies[i].get())) missing.push_back(i);
        }
        if (!missing.empty()) {
            std::vector<std::vector<std::string>> again;
            for (size_t i : missing) {
                auto cmd = commands[i];
                cmd[0] = "EVAL";
                cmd[1] = script();
                again.push_back(std::move(cmd));
            }
            auto second = conn_.pipeline(again);
            for (size_t j = 0; j < missing.size(); ++j) replies[missing[j]] = std::move(second[j]);
        }
    } catch (const std::exception& e) {
        mark_down(e.what());
        from_fallback(batch);
        return;
    }
    std::string error;
    for (size_t i = 0; i < batch.size(); ++i) {
        const redisReply* r = replies[i].get();
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
            r->element[0]->type == REDIS_REPLY_INTEGER &&
            r->element[1]->type == REDIS_REPLY_STRING) {
            const double tokens = std::strtod(r->element[1]->str, nullptr);
            batch[i].done(decision_for(r->element[0]->integer == 1, tokens, options_.settings));
        } else {
            // An error reply (e.g. OOM, a foreign key of another type): decided locally.
            if (error.empty()) {
                error = r->type == REDIS_REPLY_ERROR ? std::string(r->str, r->len)
                                                     : "unexpected reply to the rate-limit script";
            }
            answer_fallback(batch[i]);
        }
    }
    if (error.empty()) {
        mark_up();
    } else {
        mark_down(error);
    }
}

void RedisRateLimiter::probe() {
    try {
        (void)conn_.command({"PING"});
        mark_up();
    } catch (const std::exception& e) {
        mark_down(e.what());
    }
}

void RedisRateLimiter::from_fallback(std::vector<Call>& batch, size_t from) {
    for (size_t i = from; i < batch.size(); ++i) answer_fallback(batch[i]);
}

void RedisRateLimiter::answer_fallback(Call& call) {
    metrics_.rate_limit_fallbacks.inc();
    call.done(fallback_.take_now(call.key));
}

void RedisRateLimiter::mark_down(const std::string& why) {
    next_attempt_ = std::chrono::steady_clock::now() + options_.retry_interval;
    if (up_.exchange(false)) {
        obs::log_warn(
            "rate limiter: Redis failed; limiting per process (fail open) until it answers again")
            .kv("error", why)
            .kv("retry_ms", static_cast<int64_t>(options_.retry_interval.count()));
    }
}

void RedisRateLimiter::mark_up() {
    if (!up_.exchange(true)) obs::log_info("rate limiter: Redis answers again; limits are shared");
}

}  // namespace cg::ratelimit
