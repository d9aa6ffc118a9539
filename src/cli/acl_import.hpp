#pragma once
// Parses ACL import files for `chargegate acl import` (docs/api.md §4 entries in bulk).
//   CSV:  header `driver_token,status,stations,expires_at`; stations separated by ';', empty
//         for every station; expires_at RFC 3339 or empty. Fields may be double-quoted.
//   JSON: an array of {"driver_token","status","stations","expires_at"} objects, the same shape
//         as the body of PUT /api/v1/acl/{driver_token} plus the token.
// A bad row is an AclImportError naming the line (CSV) or the index (JSON); nothing is imported
// from a file with any bad row.
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "store/records.hpp"

namespace cg::cli {

class AclImportError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

enum class AclFormat { kCsv, kJson };

// Picks the format from the file name (.csv / .json) unless `format` is "csv" or "json".
AclFormat acl_format_for(const std::string& path, const std::string& format);

std::vector<store::AclEntry> parse_acl_csv(std::string_view text, int64_t now_ms);
std::vector<store::AclEntry> parse_acl_json(std::string_view text, int64_t now_ms);

}  // namespace cg::cli
