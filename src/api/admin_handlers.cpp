// Contract §4: the local authorization list and station registry.
#include <boost/json.hpp>

#include "api/handlers.hpp"
#include "common/text.hpp"
#include "obs/log.hpp"

namespace cg::api {

namespace {

Response unavailable() {
    auto res = error_response(503, "Storage is unavailable; retry later.");
    res.set(boost::beast::http::field::retry_after, "1");
    return res;
}

boost::json::value acl_json(const store::AclEntry& e) {
    boost::json::object o;
    o["driver_token"] = e.driver_token;
    o["status"] = e.status == store::AclStatus::kAllowed ? "allowed" : "blocked";
    if (e.stations) {
        boost::json::array a;
        for (const auto& s : *e.stations) a.emplace_back(s);
        o["stations"] = std::move(a);
    } else {
        o["stations"] = nullptr;
    }
    o["expires_at"] =
        e.expires_at_ms ? boost::json::value(format_rfc3339_ms(*e.expires_at_ms)) : nullptr;
    o["updated_at"] = format_rfc3339_ms(e.updated_at_ms);
    return o;
}

boost::json::value station_json(const store::StationEntry& s) {
    return boost::json::object{{"station_id", s.station_id},
                               {"active", s.active},
                               {"updated_at", format_rfc3339_ms(s.updated_at_ms)}};
}

// Completion of an admin write: 200 with the stored entry once committed, else 503.
// Answers once the ACL or station change is durable; first it tells the authorizer side (its
// decision cache), so every decision made after the answer sees the change.
std::function<void(store::WriteStatus)> answer_when_stored(const ApiServices& services,
                                                           boost::json::value json, Reply reply) {
    return [changed = services.on_authorization_data_changed, json = std::move(json),
            reply = std::move(reply)](store::WriteStatus s) {
        if (changed) changed();
        if (s == store::WriteStatus::kOk) {
            reply(json_response(200, json));
        } else {
            reply(unavailable());
        }
    };
}

// Parses a JSON object body or answers 400.
const boost::json::object* object_body(const Request& req, boost::json::value& holder,
                                       std::vector<FieldError>& errors) {
    boost::system::error_code ec;
    holder = boost::json::parse(req.body(), ec);
    if (ec) {
        errors.push_back({"body", "must be valid JSON"});
        return nullptr;
    }
    if (!holder.is_object()) {
        errors.push_back({"body", "must be a JSON object"});
        return nullptr;
    }
    return &holder.as_object();
}

// Runs a read on the reader pool and answers 404 / 200 / 503.
template <typename Find, typename ToJson>
void read_one(HandlerContext& ctx, Find find, ToJson to_json, Reply reply) {
    ctx.readers.run([find = std::move(find), to_json = std::move(to_json),
                     reply = std::move(reply)](store::StoreReader* reader) {
        try {
            if (!reader) throw std::runtime_error("no store reader");
            const auto found = find(*reader);
            if (!found) {
                reply(error_response(404, "Not found."));
                return;
            }
            reply(json_response(200, to_json(*found)));
        } catch (const std::exception& e) {
            obs::log_error("admin read failed").kv("error", e.what());
            reply(unavailable());
        }
    });
}

}  // namespace

void put_acl(HandlerContext& ctx, std::string token, const Request& req, Reply reply) {
    std::vector<FieldError> errors;
    if (!valid_driver_token(token)) {
        errors.push_back({"driver_token", "must be 20-80 characters of A-Z a-z 0-9 - . _ ~"});
    }
    boost::json::value holder;
    const auto* body = object_body(req, holder, errors);
    store::AclEntry entry;
    entry.driver_token = token;
    if (body) {
        const auto* status = body->if_contains("status");
        if (status && status->is_string() && status->as_string() == "allowed") {
            entry.status = store::AclStatus::kAllowed;
        } else if (status && status->is_string() && status->as_string() == "blocked") {
            entry.status = store::AclStatus::kBlocked;
        } else {
            errors.push_back({"status", "must be \"allowed\" or \"blocked\""});
        }
        if (const auto* st = body->if_contains("stations"); st && !st->is_null()) {
            if (!st->is_array()) {
                errors.push_back({"stations", "must be an array of station UUIDs or null"});
            } else {
                std::vector<std::string> list;
                bool ok = true;
                for (const auto& s : st->as_array()) {
                    if (!s.is_string() || !is_canonical_uuid(s.as_string())) {
                        ok = false;
                        break;
                    }
                    list.push_back(to_lower_ascii(s.as_string()));
                }
                if (ok) {
                    entry.stations = std::move(list);
                } else {
                    errors.push_back({"stations", "must be an array of station UUIDs or null"});
                }
            }
        }
        if (const auto* ex = body->if_contains("expires_at"); ex && !ex->is_null()) {
            std::optional<int64_t> t;
            if (ex->is_string()) t = parse_rfc3339_ms(ex->as_string());
            if (t) {
                entry.expires_at_ms = t;
            } else {
                errors.push_back({"expires_at", "must be an RFC 3339 time or null"});
            }
        }
    }
    if (!errors.empty()) {
        reply(invalid_response(errors));
        return;
    }
    entry.updated_at_ms = ctx.services.clock.now_ms();
    auto json = acl_json(entry);
    ctx.services.store.put_acl(std::move(entry),
                               answer_when_stored(ctx.services, std::move(json), std::move(reply)));
}

void get_acl(HandlerContext& ctx, std::string token, Reply reply) {
    if (!valid_driver_token(token)) {
        reply(error_response(404, "Not found."));
        return;
    }
    read_one(
        ctx, [token](store::StoreReader& r) { return r.find_acl(token); },
        [](const store::AclEntry& e) { return acl_json(e); }, std::move(reply));
}

void delete_acl(HandlerContext& ctx, std::string token, Reply reply) {
    ctx.services.store.delete_acl(std::move(token),
                                  [changed = ctx.services.on_authorization_data_changed,
                                   reply = std::move(reply)](store::WriteStatus s) {
                                      if (changed) changed();
                                      if (s == store::WriteStatus::kUnavailable) {
                                          reply(unavailable());
                                          return;
                                      }
                                      Response res{boost::beast::http::status::no_content, 11};
                                      reply(std::move(res));
                                  });
}

void put_station(HandlerContext& ctx, std::string station_id, const Request& req, Reply reply) {
    std::vector<FieldError> errors;
    if (!is_canonical_uuid(station_id)) {
        errors.push_back({"station_id", "must be a UUID (8-4-4-4-12 hexadecimal digits)"});
    }
    boost::json::value holder;
    const auto* body = object_body(req, holder, errors);
    store::StationEntry entry;
    entry.station_id = to_lower_ascii(station_id);
    if (body) {
        const auto* active = body->if_contains("active");
        if (active && active->is_bool()) {
            entry.active = active->as_bool();
        } else {
            errors.push_back({"active", "must be true or false"});
        }
    }
    if (!errors.empty()) {
        reply(invalid_response(errors));
        return;
    }
    entry.updated_at_ms = ctx.services.clock.now_ms();
    auto json = station_json(entry);
    ctx.services.store.put_station(
        std::move(entry), answer_when_stored(ctx.services, std::move(json), std::move(reply)));
}

void get_station(HandlerContext& ctx, std::string station_id, Reply reply) {
    if (!is_canonical_uuid(station_id)) {
        reply(error_response(404, "Not found."));
        return;
    }
    read_one(
        ctx,
        [id = to_lower_ascii(station_id)](store::StoreReader& r) { return r.find_station(id); },
        [](const store::StationEntry& s) { return station_json(s); }, std::move(reply));
}

}  // namespace cg::api
