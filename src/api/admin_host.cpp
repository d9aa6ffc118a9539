#include "api/admin_host.hpp"

#include <array>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/address_v6.hpp>
#include <boost/beast/core/string.hpp>
#include <charconv>
#include <cstdint>

namespace cg::api {

namespace {

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (const char c : s) {
        if (c < '0' || c > '9') return false;
    }
    return true;
}

// Strict dotted-quad (four decimal parts, each 0-255, no leading zeros or signs), as browsers
// send an IPv4 host after normalizing it; true when its first part is 127.
bool is_loopback_ipv4(std::string_view s) {
    std::array<unsigned, 4> parts{};
    for (size_t i = 0; i < parts.size(); ++i) {
        const auto dot = s.find('.');
        const auto part = i + 1 < parts.size() ? s.substr(0, dot) : s;
        if (part.empty() || part.size() > 3 || !all_digits(part) ||
            (part.size() > 1 && part[0] == '0')) {
            return false;
        }
        std::from_chars(part.data(), part.data() + part.size(), parts[i]);
        if (parts[i] > 255) return false;
        if (i + 1 < parts.size()) {
            if (dot == std::string_view::npos) return false;
            s.remove_prefix(dot + 1);
        }
    }
    return parts[0] == 127;
}

bool is_loopback_ipv6(std::string_view bracketed) {
    if (bracketed.size() < 3 || bracketed.front() != '[' || bracketed.back() != ']') return false;
    boost::system::error_code ec;
    const auto a = boost::asio::ip::make_address_v6(
        std::string(bracketed.substr(1, bracketed.size() - 2)), ec);
    if (ec || a.scope_id() != 0) return false;
    if (a.is_loopback()) return true;
    return a.is_v4_mapped() &&
           boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a).is_loopback();
}

}  // namespace

std::string_view host_without_port(std::string_view h) {
    if (!h.empty() && h.front() == '[') {
        const auto close = h.find(']');
        if (close == std::string_view::npos) return {};
        const auto rest = h.substr(close + 1);
        if (!rest.empty() && (rest.front() != ':' || !all_digits(rest.substr(1)))) return {};
        return h.substr(0, close + 1);
    }
    const auto colon = h.find(':');
    if (colon == std::string_view::npos) return h;
    if (!all_digits(h.substr(colon + 1))) return {};
    return h.substr(0, colon);
}

bool is_loopback_host(std::string_view host_header) {
    auto host = host_without_port(host_header);
    if (host.empty()) return false;
    if (host.front() == '[') return is_loopback_ipv6(host);
    if (host.back() == '.') host.remove_suffix(1);  // the fully qualified spelling
    return boost::beast::iequals(host, "localhost") || is_loopback_ipv4(host);
}

bool admin_host_allowed(std::string_view host_header, const std::vector<std::string>& allowed) {
    if (is_loopback_host(host_header)) return true;
    const auto host = host_without_port(host_header);
    if (host.empty()) return false;
    for (const auto& name : allowed) {
        if (boost::beast::iequals(host, name)) return true;
    }
    return false;
}

}  // namespace cg::api
