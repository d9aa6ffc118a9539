#pragma once
// Lenient readers of the admin API's JSON for the operator commands: a missing field, a null or
// a value of another type reads as the fallback instead of throwing, so a service of another
// version shows what it has rather than crash the command.
#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>

namespace cg::cli::json {

inline const boost::json::value* field(const boost::json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && !v->is_null() ? v : nullptr;
}

inline std::string text(const boost::json::object& o, std::string_view key,
                        std::string_view fallback = "") {
    const auto* v = field(o, key);
    if (v != nullptr && v->is_string()) return std::string(v->as_string());
    return std::string(fallback);
}

inline bool has_number(const boost::json::object& o, std::string_view key) {
    const auto* v = field(o, key);
    return v != nullptr && v->is_number();
}

inline double number(const boost::json::object& o, std::string_view key, double fallback = 0) {
    const auto* v = field(o, key);
    if (v == nullptr) return fallback;
    if (v->is_double()) return v->as_double();
    if (v->is_int64()) return static_cast<double>(v->as_int64());
    if (v->is_uint64()) return static_cast<double>(v->as_uint64());
    return fallback;
}

inline int64_t integer(const boost::json::object& o, std::string_view key, int64_t fallback = 0) {
    const auto* v = field(o, key);
    if (v == nullptr) return fallback;
    if (v->is_int64()) return v->as_int64();
    if (v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
    if (v->is_double()) return static_cast<int64_t>(v->as_double());
    return fallback;
}

inline const boost::json::object* object(const boost::json::object& o, std::string_view key) {
    const auto* v = field(o, key);
    return v != nullptr && v->is_object() ? &v->as_object() : nullptr;
}

inline const boost::json::array* array(const boost::json::object& o, std::string_view key) {
    const auto* v = field(o, key);
    return v != nullptr && v->is_array() ? &v->as_array() : nullptr;
}

}  // namespace cg::cli::json
