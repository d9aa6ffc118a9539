#include "store/stations_json.hpp"

#include <boost/json.hpp>

namespace cg::store {

std::optional<std::vector<std::string>> stations_from_json(const std::optional<std::string>& text) {
    if (!text) return std::nullopt;
    std::vector<std::string> out;
    boost::system::error_code ec;
    const auto v = boost::json::parse(*text, ec);
    if (ec || !v.is_array()) return out;  // unreadable list: permit no station (fail closed)
    for (const auto& s : v.as_array()) {
        if (s.is_string()) out.emplace_back(s.as_string());
    }
    return out;
}

std::optional<std::string> stations_to_json(const std::optional<std::vector<std::string>>& list) {
    if (!list) return std::nullopt;
    boost::json::array a;
    for (const auto& s : *list) a.emplace_back(s);
    return boost::json::serialize(a);
}

}  // namespace cg::store
