#include <gtest/gtest.h>

#include "api/http_server.hpp"

namespace cg::api {
namespace {

using std::chrono::milliseconds;

TEST(AcceptPause, StartsAt10msAndDoublesUpTo1s) {
    std::vector<int64_t> pauses;
    milliseconds p{0};
    for (int i = 0; i < 10; ++i) {
        p = next_accept_pause(p);
        pauses.push_back(p.count());
    }
    EXPECT_EQ(pauses, (std::vector<int64_t>{10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000}));
}

TEST(AcceptPause, AfterAGoodAcceptItStartsOver) {
    EXPECT_EQ(next_accept_pause(milliseconds(0)), milliseconds(10));
}

}  // namespace
}  // namespace cg::api
