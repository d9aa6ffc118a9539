#pragma once
// The Host rule of the admin API while ADMIN_TOKEN is unset (docs/security.md, T23). Then the
// admin API trusts loopback peers, and a page in the operator's browser is a loopback peer
// too: by DNS rebinding, a name the attacker controls (rebind.attacker.example) resolves to
// 127.0.0.1 after the page loaded, so the page's same-origin requests reach the admin API with
// the attacker's name in Host and a matching Origin. The browser always sends the name it
// resolved, so a request is accepted only when Host names this machine's loopback or a name
// the operator listed (ADMIN_ALLOWED_HOSTS). Pure functions, no I/O.
#include <string>
#include <string_view>
#include <vector>

namespace cg::api {

// The host of a Host header value without its port: "localhost:8080" → "localhost",
// "[::1]:8080" → "[::1]" (brackets kept), "example" → "example". Empty when the value is not
// `host[:port]` (an empty or non-numeric port, a bracket left open).
std::string_view host_without_port(std::string_view host_header);

// True for `localhost` (or `localhost.`), a dotted-quad IPv4 address in 127.0.0.0/8, or
// `[::1]` (also spelled as an IPv4-mapped loopback), with or without port. Names under
// `.localhost` are not: some resolvers send them to DNS, where they are not reserved; list
// them in ADMIN_ALLOWED_HOSTS instead.
bool is_loopback_host(std::string_view host_header);

// The rule: a loopback host, or one of `allowed` (lower-case names, as config::load keeps
// them), compared case-insensitively with the port ignored.
bool admin_host_allowed(std::string_view host_header, const std::vector<std::string>& allowed);

}  // namespace cg::api
