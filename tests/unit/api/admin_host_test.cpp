#include "api/admin_host.hpp"

#include <gtest/gtest.h>

namespace cg::api {
namespace {

TEST(AdminHost, PortIsStrippedAndMalformedValuesAreEmpty) {
    EXPECT_EQ(host_without_port("localhost:8080"), "localhost");
    EXPECT_EQ(host_without_port("example"), "example");
    EXPECT_EQ(host_without_port("[::1]:8080"), "[::1]");
    EXPECT_EQ(host_without_port("[::1]"), "[::1]");
    EXPECT_EQ(host_without_port("localhost:"), "");
    EXPECT_EQ(host_without_port("localhost:80x"), "");
    EXPECT_EQ(host_without_port("[::1"), "");
    EXPECT_EQ(host_without_port("[::1]x"), "");
    EXPECT_EQ(host_without_port(""), "");
}

// Issue 12, point 6: what counts as this machine's loopback in Host.
TEST(AdminHost, LoopbackNamesAndAddressesWithOrWithoutPort) {
    for (const char* h :
         {"localhost", "LOCALHOST:8080", "localhost.", "127.0.0.1", "127.0.0.1:80", "127.255.3.4:9",
          "[::1]", "[::1]:8080", "[0:0:0:0:0:0:0:1]", "[::ffff:127.0.0.1]:8080"}) {
        EXPECT_TRUE(is_loopback_host(h)) << h;
    }
    for (const char* h :
         {"", "rebind.attacker.example", "rebind.attacker.example:8080",
          "localhost.attacker.example", "a.localhost", "127.0.0.1.attacker.example", "128.0.0.1",
          "10.0.0.1:8080", "127.1", "0177.0.0.1", "127.0.0.01", "2130706433", "[::2]",
          "[fe80::1%25lo]", "[::ffff:10.0.0.1]", "::1", "127.0.0.1:", "localhost:x"}) {
        EXPECT_FALSE(is_loopback_host(h)) << h;
    }
}

TEST(AdminHost, OtherNamesOnlyWhenListed) {
    const std::vector<std::string> allowed = {"ops.example.com", "[fd00::1]"};
    EXPECT_TRUE(admin_host_allowed("localhost:8080", {}));
    EXPECT_FALSE(admin_host_allowed("ops.example.com", {}));
    EXPECT_TRUE(admin_host_allowed("ops.example.com", allowed));
    EXPECT_TRUE(admin_host_allowed("OPS.Example.com:8443", allowed));
    EXPECT_TRUE(admin_host_allowed("[FD00::1]:8080", allowed));
    EXPECT_FALSE(admin_host_allowed("rebind.attacker.example:8080", allowed));
    EXPECT_FALSE(admin_host_allowed("evil.ops.example.com", allowed));
    EXPECT_FALSE(admin_host_allowed("ops.example.com:x", allowed));
    EXPECT_FALSE(admin_host_allowed("", allowed));
}

}  // namespace
}  // namespace cg::api
