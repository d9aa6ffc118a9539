#pragma once
// The rate-limit response fields of the IETF httpapi draft
// (draft-ietf-httpapi-ratelimit-headers-09, the current revision): Structured Field lists naming
// one policy, "default", the token bucket of the client's key (docs/api.md "Rate limiting"):
//   RateLimit-Policy: "default";q=<bucket size>;w=<seconds an empty bucket takes to fill>
//   RateLimit:        "default";r=<tokens left>;t=<seconds until the quota resets>
// On a 429, `t` equals Retry-After (rate_limiter.hpp, Decision::reset). Pure functions.
#include <string>

#include "ratelimit/rate_limiter.hpp"

namespace cg::ratelimit {

inline constexpr const char* kPolicyField = "RateLimit-Policy";
inline constexpr const char* kLimitField = "RateLimit";

std::string policy_field_value(const Decision& d);
std::string limit_field_value(const Decision& d);

}  // namespace cg::ratelimit
