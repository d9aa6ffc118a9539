#pragma once
// The origin a URL's requests go to, written one way for everything that groups by it: the HTTP
// clients' connection pools, the delivery engine's per-receiver limits and the receiver health
// list. So `http://Host`, `http://host:80` and `HTTP://host/` are one receiver everywhere.
#include <cstdint>
#include <string>
#include <string_view>

namespace cg::net {

// Writes "scheme://host:port" into `out` (replacing its content): scheme and host in lower case,
// an IPv6 host in brackets, the port always written (80 / 443 when the URL has none). Returns
// false, leaving `out` empty, for a URL that is not absolute http(s) with a host and a port in
// 1..65535. `out` is a caller's buffer so hot paths reuse one allocation.
bool origin_of(std::string_view url, std::string& out);

// The same from parts already parsed (the Beast client parses the URL for its own needs).
void format_origin(bool tls, std::string_view host, bool ipv6, uint16_t port, std::string& out);

}  // namespace cg::net
