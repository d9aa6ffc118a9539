#include "ratelimit/rate_limit_headers.hpp"

namespace cg::ratelimit {

std::string policy_field_value(const Decision& d) {
    std::string out = R"("default";q=)";
    out += std::to_string(d.limit);
    out += ";w=";
    out += std::to_string(d.window);
    return out;
}

std::string limit_field_value(const Decision& d) {
    std::string out = R"("default";r=)";
    out += std::to_string(d.remaining);
    out += ";t=";
    out += std::to_string(d.reset);
    return out;
}

}  // namespace cg::ratelimit
