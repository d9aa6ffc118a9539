// docs/api.md §4: the local authorization list and station registry.
#include <boost/json.hpp>

#include "api/handlers.hpp"
#include "common/text.hpp"
#include "obs/log.hpp"

namespace cg::api {

namespace {

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
            reply(unavailable_response());
        }
    };
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
            reply(unavailable_response());
        }
    });
}

}  // namespace

void put_acl(HandlerContext& ctx, std::string token, const Request& req, Reply reply) {
    auto validated = validate_acl_entry(token, req.body());
    if (auto* errors = std::get_if<std::vector<FieldError>>(&validated)) {
        reply(invalid_response(*errors));
        return;
    }
    auto& entry = std::get<store::AclEntry>(validated);
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
                                          reply(unavailable_response());
                                          return;
                                      }
                                      Response res{boost::beast::http::status::no_content, 11};
                                      reply(std::move(res));
                                  });
}

void put_station(HandlerContext& ctx, std::string station_id, const Request& req, Reply reply) {
    auto validated = validate_station_entry(station_id, req.body());
    if (auto* errors = std::get_if<std::vector<FieldError>>(&validated)) {
        reply(invalid_response(*errors));
        return;
    }
    auto& entry = std::get<store::StationEntry>(validated);
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
