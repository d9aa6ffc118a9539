#include <gtest/gtest.h>

#include "redis/redis_conn.hpp"

namespace cg::redis {
namespace {

TEST(RedisUrl, PartsAreRead) {
    const auto a = parse_redis_url("redis://:s3cret@10.1.2.3:6380/2");
    EXPECT_EQ(a.host, "10.1.2.3");
    EXPECT_EQ(a.port, 6380);
    EXPECT_EQ(a.password, "s3cret");
    EXPECT_EQ(a.db, 2);
    const auto d = parse_redis_url("redis://cache.internal");
    EXPECT_EQ(d.host, "cache.internal");
    EXPECT_EQ(d.port, 6379);
    EXPECT_EQ(d.db, 0);
}

TEST(RedisUrl, MalformedUrlsAreRejected) {
    EXPECT_THROW(parse_redis_url("http://127.0.0.1:6379"), std::invalid_argument);
    EXPECT_THROW(parse_redis_url("redis://127.0.0.1:6379/zero"), std::invalid_argument);
    EXPECT_THROW(parse_redis_url("not a url"), std::invalid_argument);
}

TEST(RedisConnection, ADeadServerIsAConnectionErrorNotAHang) {
    // Port 1 on loopback: nothing listens there.
    RedisConnection c(parse_redis_url("redis://127.0.0.1:1"), std::chrono::milliseconds(500));
    try {
        c.command({"PING"});
        FAIL() << "PING to a closed port succeeded";
    } catch (const RedisError& e) {
        EXPECT_TRUE(e.connection()) << e.what();
    }
    EXPECT_FALSE(c.connected());
}

}  // namespace
}  // namespace cg::redis
