#pragma once
// RequestState's stored numbers in SQL text, from the enum in one place (common/model.hpp).
//
// SQL is written with placeholders — {queued} {authorizing} {delivering} {delivered} {failed} —
// and state_sql("...") replaces them with the enum's numbers at compile time (consteval: a
// misspelt placeholder does not compile). The result is a constant; no allocation at run time.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

#include "common/model.hpp"

namespace cg::store {

// The numbers are stored in every database (and in the migrations' SQL): they never change.
static_assert(static_cast<int>(RequestState::kQueued) == 0 &&
                  static_cast<int>(RequestState::kAuthorizing) == 1 &&
                  static_cast<int>(RequestState::kDelivering) == 2 &&
                  static_cast<int>(RequestState::kDelivered) == 3 &&
                  static_cast<int>(RequestState::kFailed) == 4,
              "RequestState numbers are stored in databases: never renumber them");

// The number a state is stored as (bound to a statement's parameter).
constexpr int64_t stored(RequestState s) { return static_cast<int64_t>(s); }

template <size_t N>
class StateSql {
  public:
    consteval explicit StateSql(const char (&sql)[N]) {
        constexpr std::array<std::pair<std::string_view, RequestState>, 5> kNames{{
            {"{queued}", RequestState::kQueued},
            {"{authorizing}", RequestState::kAuthorizing},
            {"{delivering}", RequestState::kDelivering},
            {"{delivered}", RequestState::kDelivered},
            {"{failed}", RequestState::kFailed},
        }};
        const std::string_view in(sql, N - 1);
        size_t i = 0;
        while (i < in.size()) {
            if (in[i] != '{') {
                text_[size_++] = in[i++];
                continue;
            }
            bool found = false;
            for (const auto& [name, state] : kNames) {
                if (in.substr(i, name.size()) == name) {
                    const auto n = static_cast<int>(state);
                    if (n > 9) throw "state numbers are spliced as one digit";
                    text_[size_++] = static_cast<char>('0' + n);
                    i += name.size();
                    found = true;
                    break;
                }
            }
            if (!found) throw "unknown state placeholder in SQL";
        }
    }

    [[nodiscard]] constexpr std::string_view view() const { return {text_.data(), size_}; }
    constexpr operator std::string_view() const { return view(); }  // NOLINT: SQL text

  private:
    std::array<char, N> text_{};
    size_t size_ = 0;
};

// SQL text with the state placeholders replaced (see above).
template <size_t N>
consteval StateSql<N> state_sql(const char (&sql)[N]) {
    return StateSql<N>(sql);
}

static_assert(state_sql("state IN ({queued}, {failed}) AND x = {delivering}").view() ==
              "state IN (0, 4) AND x = 2");

}  // namespace cg::store
