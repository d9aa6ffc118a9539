#include "chaos/chaos_support.hpp"

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <random>

#include "support/webhook_verify.hpp"

namespace cg::test::chaos {

int64_t env_int(const char* name, int64_t fallback) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') return fallback;
    char* end = nullptr;
    const long long n = std::strtoll(v, &end, 10);
    return (end != nullptr && *end == '\0') ? n : fallback;
}

uint64_t seed_from_env() {
    if (const char* v = std::getenv("CHAOS_SEED"); v != nullptr && *v != '\0') {
        return std::strtoull(v, nullptr, 10);
    }
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

Memory memory_kib(pid_t pid) {
    Memory m;
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    const auto value = [&line](const char* key, int64_t& out) {
        const std::string k(key);
        if (line.rfind(k, 0) == 0) out = std::strtoll(line.c_str() + k.size(), nullptr, 10);
    };
    while (std::getline(in, line)) {
        value("VmRSS:", m.rss);
        value("RssAnon:", m.anon);
        value("RssFile:", m.file);
    }
    return m;
}

int64_t parse_rfc3339_ms(const std::string& text) {
    std::tm tm{};
    int ms = 0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon,
                    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7) {
        return -1;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
}

int64_t nominal_backoff_ms(int attempt, int64_t base_ms, int64_t max_ms) {
    int64_t d = base_ms;
    for (int i = 1; i < attempt && d < max_ms; ++i) d *= 2;
    return std::min(d, max_ms);
}

const char* to_string(CallbackReceiver::Mode mode) {
    switch (mode) {
        case CallbackReceiver::Mode::kUp:
            return "up";
        case CallbackReceiver::Mode::kBusy:
            return "503";
        case CallbackReceiver::Mode::kDown:
            return "down";
    }
    return "?";
}

CallbackReceiver::CallbackReceiver(std::string secret) : secret_(std::move(secret)) {
    server_.set_handler([this](const Recorded& r) { return on_request(r); });
}

void CallbackReceiver::set_mode(Mode mode) {
    Mode before;
    {
        std::lock_guard lock(mu_);
        before = mode_;
        mode_ = mode;
    }
    if (mode == Mode::kDown && before != Mode::kDown) server_.close_listener();
    if (mode != Mode::kDown && before == Mode::kDown) server_.reopen_listener();
}

CallbackReceiver::Mode CallbackReceiver::mode() const {
    std::lock_guard lock(mu_);
    return mode_;
}

Reply CallbackReceiver::on_request(const Recorded& r) {
    const std::string id = r.header("webhook-id");
    const std::string ts = r.header("webhook-timestamp");
    const bool signed_ok = verify_webhook(secret_, id, ts, r.body, r.header("webhook-signature"));
    boost::system::error_code ec;
    const auto body = boost::json::parse(r.body, ec);
    bool body_ok = !ec && body.is_object();
    if (body_ok) {
        const auto* rid = body.as_object().if_contains("request_id");
        body_ok = rid != nullptr && rid->is_string() && rid->as_string() == id;
    }
    const int64_t now_s = std::time(nullptr);
    const int64_t sent_s = std::strtoll(ts.c_str(), nullptr, 10);
    const bool fresh = sent_s > now_s - 300 && sent_s < now_s + 300;

    std::lock_guard lock(mu_);
    ++totals_.receipts;
    if (!signed_ok) ++totals_.bad_signatures;
    if (!body_ok) ++totals_.bad_bodies;
    if (!fresh) ++totals_.stale_timestamps;
    if (mode_ == Mode::kBusy) {
        ++totals_.answered_503;
        return Reply{503, R"({"status":"busy"})", {{"Retry-After", "1"}}};
    }
    // A callback that fails verification is refused like a real receiver would; it is
    // counted above and fails the test.
    if (!signed_ok || !body_ok) return Reply{401, R"({"status":"bad signature"})"};
    ++totals_.answered_2xx;
    auto& d = deliveries_[id];
    if (d.count++ == 0) {
        d.body = r.body;
        d.target = r.target;
        d.first_at = r.at;
    }
    return Reply{200, "{}"};
}

std::map<std::string, CallbackReceiver::Delivery> CallbackReceiver::deliveries() const {
    std::lock_guard lock(mu_);
    return deliveries_;
}

CallbackReceiver::Totals CallbackReceiver::totals() const {
    std::lock_guard lock(mu_);
    return totals_;
}

std::set<std::string> CallbackReceiver::missing(const std::set<std::string>& wanted) const {
    std::set<std::string> out;
    std::lock_guard lock(mu_);
    for (const auto& id : wanted) {
        if (!deliveries_.contains(id)) out.insert(id);
    }
    return out;
}

}  // namespace cg::test::chaos
