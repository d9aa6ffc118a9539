// docs/api.md §1 (create), §3 (status) and §4 (redeliver) of the charging-session resource.
#include <openssl/sha.h>

#include <boost/beast/http/field.hpp>
#include <boost/json.hpp>
#include <boost/range/iterator_range.hpp>
#include <chrono>

#include "api/handlers.hpp"
#include "api/request_json.hpp"
#include "common/text.hpp"
#include "obs/log.hpp"
#include "obs/trace.hpp"

namespace cg::api {

namespace http = boost::beast::http;

bool PendingKeys::try_add(const std::string& key) {
    std::lock_guard lock(mu_);
    return keys_.insert(key).second;
}

void PendingKeys::remove(const std::string& key) {
    std::lock_guard lock(mu_);
    keys_.erase(key);
}

bool is_json_content_type(std::string_view value) {
    const auto semi = value.find(';');
    std::string_view media = value.substr(0, semi);
    while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) {
        media.remove_prefix(1);
    }
    while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
    return to_lower_ascii(media) == "application/json";
}

namespace {

// "The same body" for idempotency: the three fields, station id case-folded.
store::BodyHash body_hash(const ValidatedRequest& r) {
    std::string canonical = to_lower_ascii(r.station_id);
    canonical += '\n';
    canonical += r.driver_token;
    canonical += '\n';
    canonical += r.callback_url;
    store::BodyHash h{};
    SHA256(reinterpret_cast<const unsigned char*>(canonical.data()), canonical.size(), h.data());
    return h;
}

Response accepted(std::string_view request_id) {
    auto res = json_response(200, accepted_body(request_id));
    res.set(http::field::location,
            std::string("/api/v1/charging-session/") + std::string(request_id));
    return res;
}

}  // namespace

void create_charging_session(HandlerContext& ctx, const Request& req, std::string client_id,
                             Reply reply) {
    auto& svc = ctx.services;
    const auto started = std::chrono::steady_clock::now();
    if (!is_json_content_type(req[http::field::content_type])) {
        svc.metrics.charging_requests.inc("unsupported_media_type");
        reply(error_response(415, "Content-Type must be application/json"));
        return;
    }
    auto validated =
        validate_charging_request(req.body(), svc.config.callback_allow_private_networks);
    std::optional<std::string> key;
    if (auto it = req.find("Idempotency-Key"); it != req.end()) {
        key = std::string(it->value());
        if (!valid_idempotency_key(*key)) {
            auto errors = std::holds_alternative<std::vector<FieldError>>(validated)
                              ? std::get<std::vector<FieldError>>(validated)
                              : std::vector<FieldError>{};
            errors.push_back({"Idempotency-Key", "must be 1-255 visible ASCII characters"});
            validated = std::move(errors);
        }
    }
    if (auto* errors = std::get_if<std::vector<FieldError>>(&validated)) {
        svc.metrics.charging_requests.inc("invalid");
        reply(invalid_response(*errors));
        return;
    }
    const auto counters = svc.store.counters();
    if (counters.queued + counters.delivering >= svc.config.max_queue_depth) {
        svc.metrics.charging_requests.inc("unavailable");
        obs::log_warn("queue full; answering 503")
            .kv("queued", counters.queued)
            .kv("awaiting_delivery", counters.delivering);
        reply(unavailable_response("The queue is full; retry later."));
        return;
    }
    auto& v = std::get<ValidatedRequest>(validated);
    store::NewRequest nr;
    nr.created_at_ms = svc.clock.now_ms();
    nr.id = new_request_id(nr.created_at_ms);
    // A valid incoming trace is continued; otherwise the request starts one, so the authorizer
    // call and every callback attempt share one trace id.
    // Its tracestate goes with it (W3C Trace Context: forwarded to every outgoing call); several
    // tracestate fields are one comma-separated list. A tracestate without a valid traceparent
    // is dropped, as the W3C rules require.
    const std::string_view incoming_trace = req["traceparent"];
    if (incoming_trace.find(' ') == std::string_view::npos &&
        !obs::trace_id_of(incoming_trace).empty()) {
        std::string state;
        for (const auto& field : boost::make_iterator_range(req.equal_range("tracestate"))) {
            if (!state.empty()) state += ',';
            state += field.value();
        }
        nr.traceparent = obs::stored_trace_context(incoming_trace, state);
    } else {
        nr.traceparent = obs::make_traceparent("");
    }
    if (key && !client_id.empty()) {
        // Each client has its own key space: the same key from two clients is two requests,
        // and one client can never be handed another's request id.
        key = client_id + '\n' + *key;
    }
    if (key) {
        if (!ctx.pending_keys.try_add(*key)) {
            svc.metrics.charging_requests.inc("conflict");
            reply(error_response(409, "A request with this Idempotency-Key is being processed."));
            return;
        }
        nr.idempotency = store::IdempotencyClaim{*key, body_hash(v)};
    }
    nr.station_id = std::move(v.station_id);
    nr.driver_token = std::move(v.driver_token);
    nr.callback_url = std::move(v.callback_url);
    nr.client_id = std::move(client_id);
    store::QueuedRequest queued{nr, 0};
    svc.store.accept(std::move(nr), [&ctx, key, started, queued = std::move(queued),
                                     reply = std::move(reply)](store::AcceptResult r) mutable {
        auto& s = ctx.services;
        // Runs on the store writer after the commit, in commit order. The key is free again
        // before the answer goes out: a client that repeats the request as soon as it has the
        // answer must get the stored request back, not a 409 for a claim already settled.
        if (key) ctx.pending_keys.remove(*key);
        switch (r.status) {
            case store::AcceptStatus::kStored:
                queued.seq = r.seq;
                s.queue.on_committed(std::move(queued));
                s.metrics.charging_requests.inc("accepted");
                reply(accepted(r.request_id));
                break;
            case store::AcceptStatus::kReplayed:
                s.metrics.charging_requests.inc("replayed");
                reply(accepted(r.request_id));
                break;
            case store::AcceptStatus::kKeyConflict:
                s.metrics.charging_requests.inc("conflict");
                reply(error_response(
                    422, "This Idempotency-Key was used with a different request body."));
                break;
            case store::AcceptStatus::kUnavailable:
                s.metrics.charging_requests.inc("unavailable");
                obs::log_warn("storage unavailable; answering 503").kv("error", r.error);
                reply(unavailable_response("Storage is unavailable; retry later."));
                break;
        }
        s.metrics.accept_latency.observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    });
}

void with_request(HandlerContext& ctx, std::string id, Reply reply,
                  std::function<void(const store::RequestView&, Reply&)> found) {
    if (!is_canonical_uuid(id)) {
        reply(error_response(404, "No such request."));
        return;
    }
    ctx.readers.run([id = to_lower_ascii(id), reply = std::move(reply),
                     found = std::move(found)](store::StoreReader* reader) mutable {
        std::optional<store::RequestView> v;
        try {
            if (!reader) throw std::runtime_error("no store reader");
            v = reader->find_request(id);
        } catch (const std::exception& e) {
            obs::log_error("request read failed").kv("request_id", id).kv("error", e.what());
            reply(unavailable_response());
            return;
        }
        if (!v) {
            reply(error_response(404, "No such request."));
            return;
        }
        found(*v, reply);
    });
}

void get_charging_session(HandlerContext& ctx, std::string id, std::string client_id, Reply reply) {
    with_request(
        ctx, std::move(id), std::move(reply),
        [&ctx, client_id = std::move(client_id)](const store::RequestView& v, Reply& answer) {
            // While authentication is on, a request is only its own client's to see
            // (one sent while it was off belongs to nobody); anything else looks
            // exactly like an unknown id.
            if (!client_id.empty() && v.client_id != client_id) {
                answer(error_response(404, "No such request."));
                return;
            }
            const auto state = shown_state(v, ctx.services.queue.dispatched_up_to());
            answer(json_response(200, request_json(v, state)));
        });
}

void redeliver_charging_session(HandlerContext& ctx, std::string id, Reply reply) {
    if (!is_canonical_uuid(id)) {
        reply(error_response(404, "No such request."));
        return;
    }
    const std::string lower = to_lower_ascii(id);
    ctx.services.store.redeliver(
        lower, ctx.services.clock.now_ms(),
        [&ctx, lower, reply = std::move(reply)](store::RedeliverStatus s) {
            switch (s) {
                case store::RedeliverStatus::kScheduled: {
                    obs::log_info("redelivery scheduled").kv("request_id", lower);
                    ctx.services.on_redeliver();
                    reply(
                        json_response(202, boost::json::object{{"status", "accepted"},
                                                               {"message", "Redelivery scheduled."},
                                                               {"request_id", lower}}));
                    break;
                }
                case store::RedeliverStatus::kNotFound:
                    reply(error_response(404, "No such request."));
                    break;
                case store::RedeliverStatus::kNotFinished:
                    reply(error_response(
                        409,
                        "The request is still queued or being delivered; nothing to redeliver."));
                    break;
                case store::RedeliverStatus::kUnavailable:
                    reply(unavailable_response("Storage is unavailable; retry later."));
                    break;
            }
        });
}

}  // namespace cg::api
