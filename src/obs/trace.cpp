#include "obs/trace.hpp"

#include <algorithm>
#include <array>

#include "common/text.hpp"

namespace cg::obs {

namespace {

bool is_lower_hex(std::string_view s) {
    for (const char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

bool all_zero(std::string_view s) { return s.find_first_not_of('0') == std::string_view::npos; }

std::string random_hex(size_t bytes) {
    std::array<unsigned char, 16> buf{};
    random_bytes(buf.data(), bytes);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes * 2);
    for (size_t i = 0; i < bytes; ++i) {
        out.push_back(kHex[buf[i] >> 4]);
        out.push_back(kHex[buf[i] & 0x0F]);
    }
    return out;
}

}  // namespace

std::string_view traceparent_of(std::string_view stored) {
    return stored.substr(0, stored.find(' '));
}

std::string_view tracestate_of(std::string_view stored) {
    const auto space = stored.find(' ');
    return space == std::string_view::npos ? std::string_view() : stored.substr(space + 1);
}

namespace {
bool valid_tracestate_key(std::string_view key) {
    // simple-key, or tenant-id@system-id; each starts with a lower-case letter or a digit.
    const auto at = key.find('@');
    auto part_ok = [](std::string_view part, size_t max) {
        if (part.empty() || part.size() > max) return false;
        if (!((part[0] >= 'a' && part[0] <= 'z') || (part[0] >= '0' && part[0] <= '9'))) {
            return false;
        }
        return std::all_of(part.begin(), part.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                   c == '*' || c == '/';
        });
    };
    if (at == std::string_view::npos) return part_ok(key, 256);
    return part_ok(key.substr(0, at), 241) && part_ok(key.substr(at + 1), 14);
}
}  // namespace

bool valid_tracestate(std::string_view ts) {
    constexpr size_t kMaxLength = 512;
    constexpr int kMaxMembers = 32;
    if (ts.empty() || ts.size() > kMaxLength) return false;
    int members = 0;
    size_t start = 0;
    while (start <= ts.size()) {
        const size_t comma = std::min(ts.find(',', start), ts.size());
        std::string_view member = ts.substr(start, comma - start);
        while (!member.empty() && (member.front() == ' ' || member.front() == '\t')) {
            member.remove_prefix(1);
        }
        while (!member.empty() && (member.back() == ' ' || member.back() == '\t')) {
            member.remove_suffix(1);
        }
        if (!member.empty()) {  // empty members are allowed and ignored
            if (++members > kMaxMembers) return false;
            const auto eq = member.find('=');
            if (eq == std::string_view::npos || !valid_tracestate_key(member.substr(0, eq))) {
                return false;
            }
            const auto value = member.substr(eq + 1);
            if (value.empty() || value.size() > 256 || value.back() == ' ') return false;
            for (char c : value) {
                if (c < 0x20 || c > 0x7e || c == ',' || c == '=') return false;
            }
        }
        start = comma + 1;
    }
    return members > 0;
}

std::string stored_trace_context(std::string_view incoming_traceparent,
                                 std::string_view incoming_tracestate) {
    std::string out(incoming_traceparent);
    if (valid_tracestate(incoming_tracestate)) {
        out += ' ';
        out += incoming_tracestate;
    }
    return out;
}

std::string trace_id_of(std::string_view stored) {
    const std::string_view tp = traceparent_of(stored);
    // version "00" format: 2-32-16-2 hex, dash separated; later versions may append fields.
    if (tp.size() < 55 || tp[2] != '-' || tp[35] != '-' || tp[52] != '-') return {};
    if (tp.size() > 55 && tp[55] != '-') return {};
    const auto version = tp.substr(0, 2);
    const auto trace = tp.substr(3, 32);
    const auto span = tp.substr(36, 16);
    const auto flags = tp.substr(53, 2);
    if (!is_lower_hex(version) || version == "ff" || !is_lower_hex(trace) || !is_lower_hex(span) ||
        !is_lower_hex(flags) || all_zero(trace) || all_zero(span)) {
        return {};
    }
    if (version == "00" && tp.size() != 55) return {};
    return std::string(trace);
}

std::string make_traceparent(std::string_view incoming) {
    std::string trace = trace_id_of(incoming);
    std::string flags = "01";
    if (trace.empty()) {
        trace = random_hex(16);
    } else {
        flags = std::string(incoming.substr(53, 2));
    }
    std::string span = random_hex(8);
    if (all_zero(span)) span[15] = '1';
    return "00-" + trace + "-" + span + "-" + flags;
}

}  // namespace cg::obs
