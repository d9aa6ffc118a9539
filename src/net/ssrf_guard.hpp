#pragma once
// SSRF guard: which addresses callbacks must not reach unless
// CALLBACK_ALLOW_PRIVATE_NETWORKS is on. Blocked: loopback, private (RFC 1918, fc00::/7),
// link-local (incl. the 169.254.169.254 cloud metadata address), "this network" 0.0.0.0/8 and
// ::, CGNAT 100.64/10, IETF protocol assignments 192.0.0.0/24, benchmarking 198.18/15,
// documentation ranges, multicast, 240/4 and broadcast; IPv6 forms that embed an IPv4 address
// (mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16) are judged
// by the embedded address.
#include <sys/socket.h>

#include <string_view>

namespace cg::net {

// The address a connection is about to be made to. Null or an unknown family → blocked.
bool is_blocked_address(const sockaddr* addr);

// An IP address in text (IPv4 dotted quad or IPv6, no brackets). Not an IP → false.
bool is_blocked_ip_text(std::string_view ip);

// Accept-time check of a URL host: true for "localhost" and names under ".localhost", and for
// IP literals in a blocked range, including bracketed IPv6 and the IPv4 spellings resolvers
// accept (decimal 2130706433, octal 0177.0.0.1, hex 0x7f.1, short 127.1). Other host names are
// checked at connect time, against the address they resolve to.
bool host_is_blocked_literal(std::string_view host);

}  // namespace cg::net
