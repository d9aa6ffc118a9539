#include "common/base64.hpp"

#include <openssl/evp.h>

namespace cg {

namespace {

bool is_std_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

// Value of a standard-alphabet character (caller checked is_std_char).
int std_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : 63;
}

}  // namespace

std::string base64_encode(std::string_view data) {
    std::string out(4 * ((data.size() + 2) / 3), '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(data.data()),
                                  static_cast<int>(data.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.empty() || text.size() % 4 != 0) return std::nullopt;
    for (const char c : text) {
        if (!is_std_char(c) && c != '=') return std::nullopt;
    }
    std::string out(3 * text.size() / 4, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
    if (n < 0) return std::nullopt;
    // EVP_DecodeBlock counts padding bytes as data; drop one byte per '='.
    size_t len = static_cast<size_t>(n);
    if (text.back() == '=') --len;
    if (text.size() > 1 && text[text.size() - 2] == '=') --len;
    out.resize(len);
    return out;
}

std::string base64url_encode(std::string_view data) {
    std::string out = base64_encode(data);
    while (!out.empty() && out.back() == '=') out.pop_back();
    for (char& c : out) {
        if (c == '+') c = '-';
        if (c == '/') c = '_';
    }
    return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
    if (text.empty()) return std::string();
    if (text.size() % 4 == 1) return std::nullopt;
    std::string std_text(text);
    for (char& c : std_text) {
        if (c == '-') {
            c = '+';
        } else if (c == '_') {
            c = '/';
        } else if (c == '+' || c == '/' || !is_std_char(c)) {
            return std::nullopt;
        }
    }
    // Unused low bits of the last character must be zero (canonical encoding): 4 bits when
    // two characters remain, 2 bits when three remain.
    const size_t rest = std_text.size() % 4;
    const int last = std_value(std_text.back());
    if ((rest == 2 && (last & 0x0F) != 0) || (rest == 3 && (last & 0x03) != 0)) {
        return std::nullopt;
    }
    if (rest != 0) std_text.append(4 - rest, '=');
    return base64_decode(std_text);
}

}  // namespace cg
