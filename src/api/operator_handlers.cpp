// docs/operations.md: the admin JSON API behind the dashboard and the operator commands.
#include <algorithm>
#include <boost/json.hpp>
#include <charconv>

#include "api/handlers.hpp"
#include "api/request_json.hpp"
#include "common/text.hpp"
#include "dashboard/assets.hpp"
#include "obs/log.hpp"
#include "obs/process_stats.hpp"

namespace cg::api {

namespace {

boost::json::object histogram_json(const obs::Histogram& h) {
    boost::json::array bounds;
    for (const double b : h.bounds()) bounds.emplace_back(b);
    boost::json::array buckets;
    for (const uint64_t c : h.bucket_counts()) buckets.emplace_back(c);
    return {{"bounds", std::move(bounds)},
            {"buckets", std::move(buckets)},
            {"count", h.count()},
            {"sum", h.sum()}};
}

const char* role_name(config::Role r) {
    switch (r) {
        case config::Role::kApi:
            return "api";
        case config::Role::kWorker:
            return "worker";
        case config::Role::kAll:
            break;
    }
    return "all";
}

// When the oldest undecided request was accepted; none when none waits or the read failed (a
// scrape still answers, without that figure's current value).
std::optional<int64_t> oldest_queued_at(store::StoreReader* reader) {
    try {
        if (reader) return reader->oldest_queued_at();
    } catch (const std::exception& e) {
        obs::log_warn("reading the oldest queued request failed").kv("error", e.what());
    }
    return std::nullopt;
}

// Seconds the oldest undecided request has waited; 0 when none waits.
double oldest_age_seconds(const std::optional<int64_t>& oldest_ms, int64_t now_ms) {
    if (!oldest_ms) return 0;
    return static_cast<double>(std::max<int64_t>(0, now_ms - *oldest_ms)) / 1000.0;
}

// A receiver's in-flight limit; null while no delivery to it is active (0).
boost::json::value limit_json(size_t limit) {
    return limit > 0 ? boost::json::value(static_cast<uint64_t>(limit)) : nullptr;
}

// A positive integer query parameter, or nullopt when absent; false when malformed.
bool parse_positive(std::string_view text, std::optional<int64_t>& out) {
    if (text.empty()) return true;
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || v <= 0) return false;
    out = v;
    return true;
}

}  // namespace

void metrics(HandlerContext& ctx, Reply reply) {
    // Off the event loop: the oldest queued request is a store read and the process figures
    // are /proc reads.
    ctx.readers.run([&ctx, reply = std::move(reply)](store::StoreReader* reader) {
        auto gauges = ctx.services.gauges();
        const auto oldest = oldest_queued_at(reader);
        gauges.push_back({"authorization_queue_oldest_age_seconds",
                          "Age of the oldest request not yet decided (0 when none)",
                          oldest_age_seconds(oldest, ctx.services.clock.now_ms()), ""});
        Response res{boost::beast::http::status::ok, 11};
        res.set(boost::beast::http::field::content_type,
                "text/plain; version=0.0.4; charset=utf-8");
        res.body() = ctx.services.metrics.render(gauges);
        res.prepare_payload();
        reply(std::move(res));
    });
}

void admin_stats(HandlerContext& ctx, Reply reply) {
    ctx.readers.run([&ctx, reply = std::move(reply)](store::StoreReader* reader) {
        const auto& m = ctx.services.metrics;
        const int64_t now = ctx.services.clock.now_ms();
        const auto oldest = oldest_queued_at(reader);
        const auto live = ctx.services.live ? ctx.services.live() : LiveFigures{};
        const auto proc = obs::read_process_stats();

        boost::json::object o;
        o["version"] = CG_VERSION;
        o["role"] = role_name(ctx.services.config.role);
        o["uptime_seconds"] =
            proc.start_time_seconds > 0
                ? std::max(0.0, static_cast<double>(now) / 1000.0 - proc.start_time_seconds)
                : 0.0;
        o["time"] = format_rfc3339_ms(now);

        // Every answer that was neither a new request nor a replay was a refusal.
        const auto& cr = m.charging_requests;
        const uint64_t accepted = cr.value("accepted");
        const uint64_t replayed = cr.value("replayed");
        const uint64_t rejected = cr.total() - accepted - replayed;
        const auto& d = m.callback_deliveries;
        boost::json::object counters{
            {"accepted", accepted},
            {"replayed", replayed},
            {"rejected", rejected},
            {"decided",
             {{"allowed", m.decisions.value("allowed")},
              {"not_allowed", m.decisions.value("not_allowed")},
              {"unknown", m.decisions.value("unknown")}}},
            {"delivered", d.value("delivered")},
            {"attempts_failed", d.total() - d.value("delivered")},
            {"retries_scheduled", m.retries_scheduled.value()},
            {"dead_lettered", m.dead_lettered.value()},
        };
        o["counters"] = std::move(counters);

        boost::json::object gauges{
            {"queue_depth", live.queued},
            {"oldest_queued_age_seconds", oldest_age_seconds(oldest, now)},
            {"authorizations_in_flight", live.authorizations_in_flight},
            {"callback_pending", live.callback_pending},
            {"callback_in_flight", live.callback_in_flight},
            {"store_writable", live.store_writable},
        };
        gauges["circuit_state"] = live.circuit_state.empty()
                                      ? boost::json::value(nullptr)
                                      : boost::json::value(live.circuit_state);
        o["gauges"] = std::move(gauges);

        o["latency"] = boost::json::object{{"accept", histogram_json(m.accept_latency)},
                                           {"authorization", histogram_json(m.authorization_time)},
                                           {"callback", histogram_json(m.callback_duration)},
                                           {"end_to_end", histogram_json(m.end_to_end)}};

        boost::json::array receivers;
        for (const auto& r : live.failing_receivers) {
            receivers.push_back(boost::json::object{
                {"receiver", r.receiver},
                {"failures", r.failures},
                {"consecutive_failures", r.consecutive_failures},
                {"last_status_code",
                 r.last_status_code > 0 ? boost::json::value(r.last_status_code) : nullptr},
                {"last_error", r.last_error},
                {"last_failure_at", format_rfc3339_ms(r.last_failure_at_ms)},
                {"concurrency_limit", limit_json(r.concurrency_limit)}});
        }
        o["receivers"] = std::move(receivers);

        boost::json::array flow;
        for (const auto& f : live.receiver_flow) {
            flow.push_back(boost::json::object{
                {"receiver", f.receiver},
                {"concurrency_limit", f.concurrency_limit},
                {"in_flight", f.in_flight},
                {"waiting", f.waiting},
                {"paused_until", f.paused_until_ms > 0
                                     ? boost::json::value(format_rfc3339_ms(f.paused_until_ms))
                                     : nullptr},
                {"delivered", f.delivered}});
        }
        o["receiver_flow"] = std::move(flow);
        reply(json_response(200, o));
    });
}

void admin_dead_letters(HandlerContext& ctx, std::string_view limit_text,
                        std::string_view before_text, Reply reply) {
    std::optional<int64_t> limit;
    std::optional<int64_t> before;
    if (!parse_positive(limit_text, limit) || (limit && *limit > 500)) {
        reply(error_response(400, "limit must be an integer from 1 to 500."));
        return;
    }
    if (!parse_positive(before_text, before)) {
        reply(error_response(400, "before must be a cursor from next_cursor."));
        return;
    }
    ctx.readers.run([before, limit = static_cast<size_t>(limit.value_or(50)),
                     reply = std::move(reply)](store::StoreReader* reader) {
        store::DeadLetterPage page;
        try {
            if (!reader) throw std::runtime_error("no store reader");
            page = reader->dead_letters(before, limit);
        } catch (const std::exception& e) {
            obs::log_error("dead-letter read failed").kv("error", e.what());
            reply(unavailable_response());
            return;
        }
        boost::json::array items;
        for (const auto& v : page.items) items.push_back(dead_letter_json(v));
        boost::json::object o;
        o["total"] = page.total;
        o["items"] = std::move(items);
        o["next_cursor"] = page.items.size() == limit
                               ? boost::json::value(std::to_string(page.items.back().seq))
                               : nullptr;
        reply(json_response(200, o));
    });
}

void admin_get_request(HandlerContext& ctx, std::string id, Reply reply) {
    with_request(ctx, std::move(id), std::move(reply),
                 [&ctx](const store::RequestView& v, Reply& answer) {
                     const auto state = shown_state(v, ctx.services.queue.dispatched_up_to());
                     answer(json_response(200, admin_request_json(v, state)));
                 });
}

void dashboard_asset(const Request& req, std::string_view name, Reply reply) {
    namespace http = boost::beast::http;
    const auto* asset = dashboard::find_asset(name);
    if (asset == nullptr) {
        reply(error_response(404, "Not found."));
        return;
    }
    const bool unchanged = req[http::field::if_none_match] == asset->etag;
    Response res{unchanged ? http::status::not_modified : http::status::ok, 11};
    res.set(http::field::etag, asset->etag);
    // Revalidated on every load (cheap with the ETag), so a new binary's page is seen at once.
    res.set(http::field::cache_control, "no-cache");
    // The page talks to its own origin only and cannot be framed (docs/security.md, T21/T22).
    res.set("Content-Security-Policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    res.set("X-Content-Type-Options", "nosniff");
    res.set("Referrer-Policy", "no-referrer");
    if (!unchanged) {
        res.set(http::field::content_type, asset->content_type);
        res.body() = std::string(asset->body);
    }
    res.prepare_payload();
    reply(std::move(res));
}

}  // namespace cg::api
