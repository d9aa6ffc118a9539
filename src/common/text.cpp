#include "common/text.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <stdexcept>

namespace cg {

namespace {
// days_from_civil: Howard Hinnant's algorithm; avoids timegm's dependence on TZ state.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2 ? 1 : 0;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool read_int(std::string_view s, size_t pos, size_t len, int& out) {
    if (pos + len > s.size()) return false;
    for (size_t i = pos; i < pos + len; ++i) {
        if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    }
    auto [p, ec] = std::from_chars(s.data() + pos, s.data() + pos + len, out);
    return ec == std::errc{};
}
}  // namespace

std::string format_rfc3339_ms(int64_t epoch_ms) {
    int64_t secs = epoch_ms / 1000;
    int64_t ms = epoch_ms % 1000;
    if (ms < 0) {
        ms += 1000;
        secs -= 1;
    }
    const auto t = static_cast<time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::array<char, 64> buf{};
    std::snprintf(buf.data(), buf.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms));
    return buf.data();
}

std::optional<int64_t> parse_rfc3339_ms(std::string_view s) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
    if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
        s[13] != ':' || s[16] != ':') {
        return std::nullopt;
    }
    if (!read_int(s, 0, 4, y) || !read_int(s, 5, 2, mo) || !read_int(s, 8, 2, d) ||
        !read_int(s, 11, 2, h) || !read_int(s, 14, 2, mi) || !read_int(s, 17, 2, se)) {
        return std::nullopt;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return std::nullopt;
    size_t pos = 19;
    int64_t frac_ms = 0;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        size_t digits = 0;
        int64_t scale = 100;
        while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
            if (digits < 3) {
                frac_ms += (s[pos] - '0') * scale;
                scale /= 10;
            }
            ++digits;
            ++pos;
        }
        if (digits == 0) return std::nullopt;
    }
    if (pos >= s.size()) return std::nullopt;
    int64_t offset_min = 0;
    if (s[pos] == 'Z' || s[pos] == 'z') {
        ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
        int oh = 0, om = 0;
        if (pos + 6 != s.size() || s[pos + 3] != ':' || !read_int(s, pos + 1, 2, oh) ||
            !read_int(s, pos + 4, 2, om) || oh > 23 || om > 59) {
            return std::nullopt;
        }
        offset_min = (oh * 60 + om) * (s[pos] == '+' ? 1 : -1);
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != s.size()) return std::nullopt;
    const int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
    const int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - offset_min * 60;
    const int64_t ms = secs * 1000 + frac_ms;
    // An offset, a leap second or a day past the month's end can carry the instant out of years
    // 0000-9999 (in UTC), which format_rfc3339_ms could not write back as RFC 3339.
    static const int64_t kFirst = days_from_civil(0, 1, 1) * 86'400'000;
    static const int64_t kLast = days_from_civil(10000, 1, 1) * 86'400'000 - 1;
    if (ms < kFirst || ms > kLast) return std::nullopt;
    return ms;
}

std::string mask_token(std::string_view token) { return std::string(token.substr(0, 4)) + "***"; }

void random_bytes(unsigned char* out, size_t n) {
    constexpr size_t kPool = 4096;
    thread_local std::array<unsigned char, kPool> pool{};
    thread_local size_t used = kPool;
    while (n > 0) {
        if (used == kPool) {
            if (RAND_bytes(pool.data(), static_cast<int>(kPool)) != 1) {
                throw std::runtime_error("OpenSSL RAND_bytes failed");
            }
            used = 0;
        }
        const size_t take = std::min(n, kPool - used);
        std::memcpy(out, pool.data() + used, take);
        // Bytes handed out are wiped from the pool so they can never be handed out twice.
        OPENSSL_cleanse(pool.data() + used, take);
        used += take;
        out += take;
        n -= take;
    }
}

std::string new_request_id(int64_t epoch_ms) {
    std::array<unsigned char, 16> b{};
    random_bytes(b.data() + 6, 10);
    const auto ms = static_cast<uint64_t>(epoch_ms);
    for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ms >> (40 - 8 * i));
    b[6] = static_cast<unsigned char>(0x70 | (b[6] & 0x0F));  // version 7
    b[8] = static_cast<unsigned char>(0x80 | (b[8] & 0x3F));  // RFC 4122 variant
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (size_t i = 0; i < b.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
        out.push_back(kHex[b[i] >> 4]);
        out.push_back(kHex[b[i] & 0x0F]);
    }
    return out;
}

bool is_canonical_uuid(std::string_view s) {
    if (s.size() != 36) return false;
    for (size_t i = 0; i < s.size(); ++i) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return false;
        } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
            return false;
        }
    }
    return true;
}

std::string to_lower_ascii(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = ascii_lower(c);
    return out;
}

bool iequals_ascii(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    }
    return true;
}

std::string_view trim_ascii(std::string_view s) {
    const auto b = s.find_first_not_of(" \t");
    if (b == std::string_view::npos) return {};
    return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::vector<std::string> split_any(std::string_view s, std::string_view separators) {
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos <= s.size()) {
        const auto end = s.find_first_of(separators, pos);
        const auto item = s.substr(pos, end == std::string_view::npos ? end : end - pos);
        if (!item.empty()) out.emplace_back(item);
        if (end == std::string_view::npos) break;
        pos = end + 1;
    }
    return out;
}

bool constant_time_equals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace cg
