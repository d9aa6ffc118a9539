#include "cli/text_table.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdio>

namespace cg::cli {

std::string strf(const char* format, ...) {
    va_list args;
    va_start(args, format);
    va_list copy;
    va_copy(copy, args);
    const int n = std::vsnprintf(nullptr, 0, format, copy);
    va_end(copy);
    std::string out;
    if (n > 0) {
        out.resize(static_cast<size_t>(n) + 1);
        std::vsnprintf(out.data(), out.size(), format, args);
        out.resize(static_cast<size_t>(n));
    }
    va_end(args);
    return out;
}

std::string group_thousands(uint64_t n) {
    std::string digits = std::to_string(n);
    std::string out;
    out.reserve(digits.size() + digits.size() / 3);
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

std::string clip(std::string_view s, size_t width) {
    if (s.size() <= width) return std::string(s);
    if (width <= 3) return std::string(s.substr(0, width));
    return std::string(s.substr(0, width - 3)) + "...";
}

TextTable::TextTable(std::vector<std::string> header, std::vector<bool> right)
    : right_(std::move(right)) {
    right_.resize(header.size(), false);
    rows_.push_back(std::move(header));
}

void TextTable::add(std::vector<std::string> row) {
    row.resize(rows_.front().size());
    rows_.push_back(std::move(row));
}

std::string TextTable::str() const {
    const size_t cols = rows_.front().size();
    std::vector<size_t> width(cols, 0);
    for (const auto& row : rows_) {
        for (size_t c = 0; c < cols; ++c) width[c] = std::max(width[c], row[c].size());
    }
    const bool headless = std::all_of(rows_.front().begin(), rows_.front().end(),
                                      [](const std::string& c) { return c.empty(); });
    std::string out;
    for (size_t r = headless ? 1 : 0; r < rows_.size(); ++r) {
        const auto& row = rows_[r];
        std::string line;
        for (size_t c = 0; c < cols; ++c) {
            if (c > 0) line += "  ";
            const size_t pad = width[c] - row[c].size();
            if (right_[c]) line.append(pad, ' ');
            line += row[c];
            if (!right_[c] && c + 1 < cols) line.append(pad, ' ');
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line;
        out += '\n';
    }
    return out;
}

}  // namespace cg::cli
