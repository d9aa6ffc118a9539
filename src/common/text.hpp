#pragma once
// Small text helpers used across modules: time formatting, masking, identifiers.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cg {

// RFC 3339 UTC with milliseconds, e.g. "2026-11-22T10:30:45.123Z".
std::string format_rfc3339_ms(int64_t epoch_ms);
// Parses RFC 3339 (any offset, optional fraction); nullopt when malformed or when the instant
// falls outside years 0000-9999 in UTC (so that format_rfc3339_ms can show it).
std::optional<int64_t> parse_rfc3339_ms(std::string_view text);

// Driver tokens are shown as their first 4 characters followed by "***" (docs/api.md §5).
std::string mask_token(std::string_view token);

// Fills `out` with `n` bytes from OpenSSL's CSPRNG. Each thread draws 4 KiB at a time and
// hands them out in order, because one RAND_bytes call costs ~10k instructions in OpenSSL 3
// (parameter lookups per call), which showed at the top of the accept path's profile.
// Thread-safe; the bytes are still CSPRNG output, never reused.
void random_bytes(unsigned char* out, size_t n);

// A new request id: a UUIDv7 (time-ordered, so ids sort by arrival and index well) whose 74
// random bits come from OpenSSL's CSPRNG, so ids cannot be guessed. Thread-safe.
std::string new_request_id(int64_t epoch_ms);

// Canonical 8-4-4-4-12 hex UUID text, either case.
bool is_canonical_uuid(std::string_view s);

// ASCII case mapping and comparison, without std::tolower's locale lookups (header names,
// hosts, schemes: protocol text is ASCII).
constexpr char ascii_lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
std::string to_lower_ascii(std::string_view s);
bool iequals_ascii(std::string_view a, std::string_view b);

// `s` without leading and trailing spaces and tabs.
std::string_view trim_ascii(std::string_view s);

// Splits `s` at any of the characters in `separators`, dropping empty items
// ("a, b,,c" with " ," → {"a", "b", "c"}).
std::vector<std::string> split_any(std::string_view s, std::string_view separators);

// Constant-time equality for secrets (length may leak).
bool constant_time_equals(std::string_view a, std::string_view b);

}  // namespace cg
