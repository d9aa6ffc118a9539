#include "net/origin.hpp"

#include <boost/url/parse.hpp>
#include <charconv>

#include "common/text.hpp"

namespace cg::net {

void format_origin(bool tls, std::string_view host, bool ipv6, uint16_t port, std::string& out) {
    out.clear();
    out.append(tls ? "https://" : "http://");
    if (ipv6) out.push_back('[');
    for (const char c : host) out.push_back(ascii_lower(c));
    if (ipv6) out.push_back(']');
    out.push_back(':');
    char digits[8];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, port);
    out.append(digits, ec == std::errc{} ? end : digits);
}

bool origin_of(std::string_view url, std::string& out) {
    out.clear();
    const auto parsed = boost::urls::parse_uri(url);
    if (!parsed) return false;
    const auto scheme = parsed->scheme_id();
    if (scheme != boost::urls::scheme::http && scheme != boost::urls::scheme::https) return false;
    const bool tls = scheme == boost::urls::scheme::https;
    const auto host = parsed->encoded_host_address();
    if (host.empty()) return false;
    unsigned port = tls ? 443 : 80;
    if (parsed->has_port() && !parsed->port().empty()) {
        const auto text = parsed->port();  // port_number() wraps values past 65535
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
        if (ec != std::errc{} || end != text.data() + text.size() || port == 0 || port > 65535) {
            return false;
        }
    }
    format_origin(tls, host, parsed->host_type() == boost::urls::host_type::ipv6,
                  static_cast<uint16_t>(port), out);
    return true;
}

}  // namespace cg::net
