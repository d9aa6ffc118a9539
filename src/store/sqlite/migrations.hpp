#pragma once
// Numbered SQL migrations from migrations/sqlite/, compiled into the binary by CMake.
#include <string_view>
#include <vector>

namespace cg::store::sqlite {

struct Migration {
    int version;
    std::string_view name;
    std::string_view sql;
};

// Ascending by version.
const std::vector<Migration>& migrations();

}  // namespace cg::store::sqlite
