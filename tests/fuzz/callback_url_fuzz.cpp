// Fuzz target: bytes → the callback URL rules. The input is a callback_url as a client sends it:
// valid_callback_url (Boost.URL), then the accept-time SSRF check of its host
// (host_is_blocked_literal). Its first 16 bytes are also taken as a raw IPv6/IPv4 address for
// the connect-time check (is_blocked_address) and the spellings of it that a resolver accepts.
//
// Invariants: a URL judged valid is an absolute http(s) URL with a host and no user-info or
// fragment; libcurl, which delivers the callback, parses it to the same scheme and host; when
// libcurl would connect to an IP address named in the URL, the accept-time check agrees with
// the connect-time check of that address; an IPv4 address is judged the same in every spelling
// and in every IPv6 form that embeds it.
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <boost/url/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/validation.hpp"
#include "common/text.hpp"
#include "fuzz/fuzz_check.hpp"
#include "net/ssrf_guard.hpp"

namespace {

using cg::net::host_is_blocked_literal;
using cg::net::is_blocked_address;
using cg::net::is_blocked_ip_text;

bool blocked_v4(uint32_t host_order) {
    sockaddr_in s{};
    s.sin_family = AF_INET;
    s.sin_addr.s_addr = htonl(host_order);
    return is_blocked_address(reinterpret_cast<const sockaddr*>(&s));
}

bool blocked_v6(const std::array<uint8_t, 16>& bytes) {
    sockaddr_in6 s{};
    s.sin6_family = AF_INET6;
    std::memcpy(&s.sin6_addr, bytes.data(), bytes.size());
    return is_blocked_address(reinterpret_cast<const sockaddr*>(&s));
}

std::array<uint8_t, 16> embed(std::array<uint8_t, 12> prefix, uint32_t v4) {
    std::array<uint8_t, 16> out{};
    std::copy(prefix.begin(), prefix.end(), out.begin());
    for (int i = 0; i < 4; ++i) out[12 + i] = static_cast<uint8_t>(v4 >> (24 - 8 * i));
    return out;
}

std::string v4_text(uint32_t v4) {
    in_addr a{};
    a.s_addr = htonl(v4);
    std::array<char, INET_ADDRSTRLEN> buf{};
    inet_ntop(AF_INET, &a, buf.data(), buf.size());
    return buf.data();
}

// Spellings of one IPv4 address that inet_aton, and so getaddrinfo and curl, accept.
std::vector<std::string> spellings_of(uint32_t v4) {
    const unsigned b0 = v4 >> 24;
    const unsigned b1 = (v4 >> 16) & 0xFF;
    const unsigned b2 = (v4 >> 8) & 0xFF;
    const unsigned b3 = v4 & 0xFF;
    std::vector<std::string> out{v4_text(v4), std::to_string(v4)};  // 127.0.0.1, 2130706433
    std::array<char, 64> b{};
    std::snprintf(b.data(), b.size(), "0x%x", v4);  // 0x7f000001
    out.emplace_back(b.data());
    std::snprintf(b.data(), b.size(), "0%o.0%o.0%o.0%o", b0, b1, b2, b3);  // 0177.00.00.01
    out.emplace_back(b.data());
    std::snprintf(b.data(), b.size(), "%u.%u", b0, v4 & 0xFFFFFF);  // 127.1
    out.emplace_back(b.data());
    std::snprintf(b.data(), b.size(), "0X%X.%u.0x%x", b0, b1, v4 & 0xFFFF);  // 0X7F.0.0x1
    out.emplace_back(b.data());
    return out;
}

// The connect-time check and its text forms agree on a raw address, and an IPv4 address is
// judged the same in every spelling and IPv6 embedding the guard documents.
void check_addresses(const uint8_t* data, size_t size) {
    std::array<uint8_t, 16> raw{};
    std::memcpy(raw.data(), data, std::min(size, raw.size()));

    const bool b6 = blocked_v6(raw);
    std::array<char, INET6_ADDRSTRLEN> text{};
    inet_ntop(AF_INET6, raw.data(), text.data(), text.size());
    CG_FUZZ_CHECK(is_blocked_ip_text(text.data()) == b6);
    CG_FUZZ_CHECK(host_is_blocked_literal("[" + std::string(text.data()) + "]") == b6);

    const uint32_t v4 =
        (uint32_t{raw[12]} << 24) | (uint32_t{raw[13]} << 16) | (uint32_t{raw[14]} << 8) | raw[15];
    const bool b4 = blocked_v4(v4);
    CG_FUZZ_CHECK(blocked_v6(embed({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, v4)) == b4);
    CG_FUZZ_CHECK(blocked_v6(embed({0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0}, v4)) == b4);
    std::array<uint8_t, 16> six_to_four{0x20, 0x02, raw[12], raw[13], raw[14], raw[15]};
    CG_FUZZ_CHECK(blocked_v6(six_to_four) == b4);
    if (b4) CG_FUZZ_CHECK(blocked_v6(embed({}, v4)));  // ::a.b.c.d (always blocked)

    CG_FUZZ_CHECK(is_blocked_ip_text(v4_text(v4)) == b4);
    for (const auto& spelling : spellings_of(v4)) {
        in_addr a{};
        CG_FUZZ_CHECK(inet_aton(spelling.c_str(), &a) == 1 && ntohl(a.s_addr) == v4);
        CG_FUZZ_CHECK(host_is_blocked_literal(spelling) == b4);
    }
}

struct CurlUrlDeleter {
    void operator()(CURLU* u) const { curl_url_cleanup(u); }
};

std::string curl_part(CURLU* u, CURLUPart part) {
    char* value = nullptr;
    if (curl_url_get(u, part, &value, 0) != CURLUE_OK || value == nullptr) return {};
    std::string out(value);
    curl_free(value);
    return out;
}

// What libcurl, which delivers the callback, makes of a URL we accepted: the scheme and host
// Boost.URL saw, and no IP address that the accept-time check let through but the connect-time
// check blocks.
void check_against_curl(const std::string& url, const boost::urls::url_view& parsed,
                        const std::string& host) {
    std::unique_ptr<CURLU, CurlUrlDeleter> u(curl_url());
    CG_FUZZ_CHECK(u != nullptr);
    // A URL curl refuses fails at delivery; nothing reaches the network, so nothing to judge.
    if (curl_url_set(u.get(), CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
        return;
    }
    const std::string scheme = cg::to_lower_ascii(curl_part(u.get(), CURLUPART_SCHEME));
    CG_FUZZ_CHECK(scheme == cg::to_lower_ascii(parsed.scheme()));
    CG_FUZZ_CHECK(curl_part(u.get(), CURLUPART_USER).empty());
    const std::string curl_host = cg::to_lower_ascii(curl_part(u.get(), CURLUPART_HOST));
    CG_FUZZ_CHECK(!curl_host.empty());
    const bool accepted_blocked = host_is_blocked_literal(host);

    switch (parsed.host_type()) {
        case boost::urls::host_type::ipv4:
            CG_FUZZ_CHECK(curl_host == std::string(parsed.encoded_host()));
            break;
        case boost::urls::host_type::ipv6: {
            CG_FUZZ_CHECK(curl_host.size() > 2 && curl_host.front() == '[');
            std::array<uint8_t, 16> a6{};
            const std::string inner = curl_host.substr(1, curl_host.size() - 2);
            CG_FUZZ_CHECK(inet_pton(AF_INET6, inner.c_str(), a6.data()) == 1);
            const auto boost_bytes = parsed.host_ipv6_address().to_bytes();
            CG_FUZZ_CHECK(std::equal(a6.begin(), a6.end(), boost_bytes.begin()));
            CG_FUZZ_CHECK(accepted_blocked == blocked_v6(a6));
            return;
        }
        case boost::urls::host_type::name: {
            // curl rewrites an IPv4 spelling that inet_aton reads to a dotted quad (when it is
            // not percent-encoded) and passes other names on decoded, as Boost.URL decodes them.
            const std::string name = cg::to_lower_ascii(parsed.host_name());
            in_addr loose{};
            const bool numeric = inet_aton(name.c_str(), &loose) == 1 &&
                                 name.find_first_of(" \t\n\v\f\r") == std::string::npos;
            CG_FUZZ_CHECK(curl_host == name ||
                          (numeric && curl_host == v4_text(ntohl(loose.s_addr))));
            break;
        }
        default:
            CG_FUZZ_CHECK(!"an accepted URL has a name or an IP address as host");
    }

    // What the resolver makes of curl's host: a numeric IPv4 address in any spelling inet_aton
    // reads, "localhost", or a name checked at connect time only.
    if (std::any_of(curl_host.begin(), curl_host.end(),
                    [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7F; })) {
        return;  // never resolved: curl refuses control characters in a host
    }
    in_addr a4{};
    if (inet_aton(curl_host.c_str(), &a4) == 1) {
        CG_FUZZ_CHECK(accepted_blocked == blocked_v4(ntohl(a4.s_addr)));
    }
    if (curl_host == "localhost" || curl_host == "localhost.") CG_FUZZ_CHECK(accepted_blocked);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    check_addresses(data, size);

    const std::string url(reinterpret_cast<const char*>(data), size);
    (void)host_is_blocked_literal(url);
    (void)is_blocked_ip_text(url);

    std::string why;
    std::string host;
    if (!cg::api::valid_callback_url(url, &why, &host)) {
        CG_FUZZ_CHECK(!why.empty());
        return 0;
    }
    CG_FUZZ_CHECK(!url.empty() && url.size() <= 2048);
    CG_FUZZ_CHECK(!host.empty());
    for (const char c : url) {
        CG_FUZZ_CHECK(static_cast<unsigned char>(c) > 0x20 && c != 0x7F);
    }
    const auto parsed = boost::urls::parse_absolute_uri(url);
    CG_FUZZ_CHECK(parsed.has_value());
    const std::string scheme = cg::to_lower_ascii(parsed->scheme());
    CG_FUZZ_CHECK(scheme == "http" || scheme == "https");
    CG_FUZZ_CHECK(parsed->has_authority() && !parsed->has_userinfo() && !parsed->has_fragment());
    if (parsed->has_port()) CG_FUZZ_CHECK(parsed->port_number() != 0);

    check_against_curl(url, *parsed, host);
    return 0;
}
