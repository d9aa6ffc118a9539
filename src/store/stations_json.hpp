#pragma once
// The stored form of an ACL entry's station list (a JSON array of lower-case UUIDs), one form in
// every store backend.
#include <optional>
#include <string>
#include <vector>

namespace cg::store {

// nullopt (no column value) means every station. An unreadable list permits no station: the
// result is an empty list (fails closed).
std::optional<std::vector<std::string>> stations_from_json(const std::optional<std::string>& text);
std::optional<std::string> stations_to_json(const std::optional<std::vector<std::string>>& list);

}  // namespace cg::store
