// docs/api.md §5: health and metrics.
#include <boost/beast/http/field.hpp>
#include <boost/json.hpp>

#include "api/handlers.hpp"

namespace cg::api {

namespace {
bool all_up(const std::vector<obs::HealthReport>& components) {
    for (const auto& c : components) {
        if (!c.up()) return false;
    }
    return true;
}

bool ready_components_up(const std::vector<obs::HealthReport>& components) {
    for (const auto& c : components) {
        if (c.fails_readiness()) return false;
    }
    return true;
}
}  // namespace

void health(HandlerContext& ctx, Reply reply) {
    const auto components = ctx.services.health();
    boost::json::object comps;
    for (const auto& c : components) {
        boost::json::object o;
        o["status"] = c.up() ? "UP" : "DOWN";
        for (const auto& [k, v] : c.details) o[k] = v;
        comps[c.name] = std::move(o);
    }
    const bool up = all_up(components);
    boost::json::object body{{"status", up ? "UP" : "DOWN"}, {"components", std::move(comps)}};
    reply(json_response(up ? 200 : 503, body));
}

void health_live(Reply reply) { reply(json_response(200, std::string(R"({"status":"UP"})"))); }

void health_ready(HandlerContext& ctx, Reply reply) {
    const bool ready = !ctx.draining.load() && ready_components_up(ctx.services.health());
    reply(json_response(ready ? 200 : 503,
                        std::string(ready ? R"({"status":"UP"})" : R"({"status":"DOWN"})")));
}

}  // namespace cg::api
