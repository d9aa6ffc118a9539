#pragma once
// Small text helpers for the operator commands' human-readable output.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cg::cli {

// printf into a std::string.
std::string strf(const char* format, ...) __attribute__((format(printf, 1, 2)));

// 1234567 → "1,234,567".
std::string group_thousands(uint64_t n);

// `s` cut to `width` characters, ending in "..." when it was longer.
std::string clip(std::string_view s, size_t width);

// Columns padded to the widest cell (the last column is not padded), two spaces apart. Cells
// are ASCII; right-aligned columns are listed in `right`. A header of empty cells is not
// printed.
class TextTable {
  public:
    explicit TextTable(std::vector<std::string> header, std::vector<bool> right = {});
    void add(std::vector<std::string> row);
    [[nodiscard]] std::string str() const;
    [[nodiscard]] size_t rows() const { return rows_.size(); }

  private:
    std::vector<std::vector<std::string>> rows_;  // the header first
    std::vector<bool> right_;
};

}  // namespace cg::cli
