#include "net/ssrf_guard.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/text.hpp"

namespace cg::net {

namespace {

bool in(uint32_t ip, uint32_t net, int prefix) {
    const uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
    return (ip & mask) == (net & mask);
}

constexpr uint32_t v4(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
    return (a << 24) | (b << 16) | (c << 8) | d;
}

bool blocked_v4(uint32_t ip) {
    return in(ip, v4(0, 0, 0, 0), 8) ||        // "this network"
           in(ip, v4(10, 0, 0, 0), 8) ||       // private
           in(ip, v4(100, 64, 0, 0), 10) ||    // carrier-grade NAT
           in(ip, v4(127, 0, 0, 0), 8) ||      // loopback
           in(ip, v4(169, 254, 0, 0), 16) ||   // link-local, cloud metadata
           in(ip, v4(172, 16, 0, 0), 12) ||    // private
           in(ip, v4(192, 0, 0, 0), 24) ||     // IETF protocol assignments
           in(ip, v4(192, 0, 2, 0), 24) ||     // documentation
           in(ip, v4(192, 88, 99, 0), 24) ||   // 6to4 relay anycast
           in(ip, v4(192, 168, 0, 0), 16) ||   // private
           in(ip, v4(198, 18, 0, 0), 15) ||    // benchmarking
           in(ip, v4(198, 51, 100, 0), 24) ||  // documentation
           in(ip, v4(203, 0, 113, 0), 24) ||   // documentation
           in(ip, v4(224, 0, 0, 0), 4) ||      // multicast
           in(ip, v4(240, 0, 0, 0), 4);        // reserved and broadcast
}

uint32_t load_v4(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

bool blocked_v6(const uint8_t* a) {
    auto all_zero = [&](int from, int to) {
        for (int i = from; i < to; ++i) {
            if (a[i] != 0) return false;
        }
        return true;
    };
    // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, also covers :: and ::1)
    if (all_zero(0, 10) && a[10] == 0xff && a[11] == 0xff) return blocked_v4(load_v4(a + 12));
    if (all_zero(0, 12)) return true;  // ::, ::1 and the deprecated compatible form
    // NAT64 64:ff9b::/96
    if (a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b && all_zero(4, 12)) {
        return blocked_v4(load_v4(a + 12));
    }
    if (a[0] == 0x20 && a[1] == 0x02) return blocked_v4(load_v4(a + 2));  // 6to4
    if ((a[0] & 0xfe) == 0xfc) return true;                               // unique local fc00::/7
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return true;               // link-local fe80::/10
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) return true;               // site-local fec0::/10
    if (a[0] == 0xff) return true;                                        // multicast
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) return true;  // docs
    if (a[0] == 0x01 && all_zero(1, 8)) return true;  // discard-only 100::/64
    return false;
}

// Parses the IPv4 spellings inet_aton accepts: 1 to 4 parts, each decimal, octal (leading 0)
// or hex (0x); the last part fills the remaining bytes. Hand-written because inet_aton's
// acceptance of trailing junk differs between libcs and we must judge exactly what a resolver
// would connect to.
std::optional<uint32_t> parse_loose_ipv4(std::string_view s) {
    // No length limit: inet_aton reads any number of leading zeros, and so must we.
    if (s.empty()) return std::nullopt;
    std::vector<uint64_t> parts;
    size_t i = 0;
    while (i <= s.size()) {
        size_t j = s.find('.', i);
        if (j == std::string_view::npos) j = s.size();
        std::string_view part = s.substr(i, j - i);
        if (part.empty()) return std::nullopt;
        int base = 10;
        if (part.size() > 1 && part[0] == '0' && (part[1] == 'x' || part[1] == 'X')) {
            base = 16;
            part.remove_prefix(2);
            if (part.empty()) part = "0";
        } else if (part.size() > 1 && part[0] == '0') {
            base = 8;
            part.remove_prefix(1);
        }
        uint64_t v = 0;
        for (const char c : part) {
            int d = -1;
            if (c >= '0' && c <= '9') d = c - '0';
            if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
            if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
            if (d < 0 || d >= base) return std::nullopt;
            v = v * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
            if (v > 0xFFFFFFFFULL) return std::nullopt;
        }
        parts.push_back(v);
        if (parts.size() > 4) return std::nullopt;
        i = j + 1;
        if (j == s.size()) break;
    }
    if (s.back() == '.') return std::nullopt;
    uint32_t ip = 0;
    const size_t n = parts.size();
    for (size_t k = 0; k + 1 < n; ++k) {
        if (parts[k] > 255) return std::nullopt;
        ip |= static_cast<uint32_t>(parts[k]) << (24 - 8 * k);
    }
    const uint64_t last_max = n == 1 ? 0xFFFFFFFFULL : (1ULL << (8 * (5 - n))) - 1;
    if (parts[n - 1] > last_max) return std::nullopt;
    ip |= static_cast<uint32_t>(parts[n - 1]);
    return ip;
}

}  // namespace

bool is_blocked_address(const sockaddr* addr) {
    if (addr == nullptr) return true;
    if (addr->sa_family == AF_INET) {
        const auto* in4 = reinterpret_cast<const sockaddr_in*>(addr);
        return blocked_v4(ntohl(in4->sin_addr.s_addr));
    }
    if (addr->sa_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
        return blocked_v6(in6->sin6_addr.s6_addr);
    }
    return true;
}

bool is_blocked_ip_text(std::string_view ip) {
    const std::string s(ip);
    in_addr a4{};
    if (inet_pton(AF_INET, s.c_str(), &a4) == 1) return blocked_v4(ntohl(a4.s_addr));
    in6_addr a6{};
    if (inet_pton(AF_INET6, s.c_str(), &a6) == 1) return blocked_v6(a6.s6_addr);
    return false;
}

bool host_is_blocked_literal(std::string_view host) {
    if (host.empty()) return true;
    std::string h = to_lower_ascii(host);
    if (!h.empty() && h.back() == '.') h.pop_back();  // "localhost." is localhost
    if (h == "localhost" || (h.size() > 10 && h.ends_with(".localhost"))) return true;
    if (h.size() >= 2 && h.front() == '[' && h.back() == ']') {
        std::string inner = h.substr(1, h.size() - 2);
        const auto zone = inner.find('%');
        if (zone != std::string::npos) return true;  // zone ids only make sense for link-local
        in6_addr a6{};
        if (inet_pton(AF_INET6, inner.c_str(), &a6) == 1) return blocked_v6(a6.s6_addr);
        return true;  // a bracketed host that is not an IPv6 address is not a valid host
    }
    if (h.find(':') != std::string::npos) {  // an unbracketed IPv6 literal
        in6_addr a6{};
        return inet_pton(AF_INET6, h.c_str(), &a6) != 1 || blocked_v6(a6.s6_addr);
    }
    if (const auto v4addr = parse_loose_ipv4(h)) return blocked_v4(*v4addr);
    return false;
}

}  // namespace cg::net
