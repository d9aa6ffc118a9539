#include "loadtest/capacity_queue.hpp"

#include <gtest/gtest.h>

namespace cg::loadtest {
namespace {

TEST(CapacityQueue, UnlimitedAdmitsEveryone) {
    CapacityQueue<int> q(0);
    for (int i = 0; i < 1000; ++i) EXPECT_TRUE(q.acquire(i));
    EXPECT_EQ(q.busy(), 1000U);
    EXPECT_EQ(q.waiting(), 0U);
    EXPECT_FALSE(q.release().has_value());
    EXPECT_EQ(q.busy(), 999U);
}

TEST(CapacityQueue, AtMostKBusyTheRestWait) {
    CapacityQueue<int> q(2);
    EXPECT_TRUE(q.acquire(1));
    EXPECT_TRUE(q.acquire(2));
    EXPECT_FALSE(q.acquire(3));
    EXPECT_FALSE(q.acquire(4));
    EXPECT_EQ(q.busy(), 2U);
    EXPECT_EQ(q.waiting(), 2U);
}

TEST(CapacityQueue, ReleaseHandsTheWorkerToTheOldestWaiter) {
    CapacityQueue<int> q(1);
    EXPECT_TRUE(q.acquire(1));
    EXPECT_FALSE(q.acquire(2));
    EXPECT_FALSE(q.acquire(3));
    EXPECT_EQ(q.release(), 2);  // FIFO: 2 before 3
    EXPECT_EQ(q.busy(), 1U);    // the worker passed over, it was not freed
    EXPECT_EQ(q.release(), 3);
    EXPECT_FALSE(q.release().has_value());
    EXPECT_EQ(q.busy(), 0U);
    EXPECT_EQ(q.waiting(), 0U);
}

TEST(CapacityQueue, NewArrivalDoesNotOvertakeWaiters) {
    CapacityQueue<int> q(2);
    EXPECT_TRUE(q.acquire(1));
    EXPECT_TRUE(q.acquire(2));
    EXPECT_FALSE(q.acquire(3));
    EXPECT_EQ(q.release(), 3);
    // One worker is busy with 2, one with 3: a newcomer must wait.
    EXPECT_FALSE(q.acquire(4));
    EXPECT_EQ(q.release(), 4);
    EXPECT_FALSE(q.release().has_value());
    EXPECT_FALSE(q.release().has_value());
    EXPECT_EQ(q.busy(), 0U);
}

}  // namespace
}  // namespace cg::loadtest
