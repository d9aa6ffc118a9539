#include "net/ssrf_guard.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <string>

namespace cg::net {
namespace {

TEST(SsrfGuard, BlockedIpv4Ranges) {
    for (const char* ip : {"127.0.0.1",       "127.255.255.254", "10.0.0.1",    "10.255.255.255",
                           "172.16.0.1",      "172.31.255.255",  "192.168.0.1", "169.254.169.254",
                           "169.254.0.1",     "0.0.0.0",         "0.1.2.3",     "100.64.0.1",
                           "100.127.255.255", "192.0.0.170",     "198.18.0.1",  "198.19.255.255",
                           "224.0.0.1",       "239.255.255.250", "240.0.0.1",   "255.255.255.255",
                           "192.0.2.1",       "198.51.100.1",    "203.0.113.1"}) {
        EXPECT_TRUE(net::is_blocked_ip_text(ip)) << ip;
    }
    for (const char* ip :
         {"8.8.8.8", "1.1.1.1", "93.184.216.34", "172.15.255.255", "172.32.0.1", "100.63.255.255",
          "100.128.0.1", "192.169.0.1", "11.0.0.1", "223.255.255.254"}) {
        EXPECT_FALSE(net::is_blocked_ip_text(ip)) << ip;
    }
}

TEST(SsrfGuard, BlockedIpv6RangesAndEmbeddedIpv4) {
    for (const char* ip :
         {"::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "::ffff:127.0.0.1",
          "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::127.0.0.1", "64:ff9b::7f00:1",
          "2002:7f00:1::", "2001:db8::1", "fec0::1"}) {
        EXPECT_TRUE(net::is_blocked_ip_text(ip)) << ip;
    }
    for (const char* ip : {"2606:4700:4700::1111", "2a00:1450:4001::200e", "::ffff:8.8.8.8",
                           "64:ff9b::808:808", "2002:808:808::"}) {
        EXPECT_FALSE(net::is_blocked_ip_text(ip)) << ip;
    }
}

TEST(SsrfGuard, SockaddrChecks) {
    sockaddr_in v4{};
    v4.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &v4.sin_addr);
    EXPECT_TRUE(net::is_blocked_address(reinterpret_cast<sockaddr*>(&v4)));
    inet_pton(AF_INET, "8.8.4.4", &v4.sin_addr);
    EXPECT_FALSE(net::is_blocked_address(reinterpret_cast<sockaddr*>(&v4)));
    sockaddr_in6 v6{};
    v6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::ffff:192.168.1.1", &v6.sin6_addr);
    EXPECT_TRUE(net::is_blocked_address(reinterpret_cast<sockaddr*>(&v6)));
    EXPECT_TRUE(net::is_blocked_address(nullptr));
    sockaddr unix_addr{};
    unix_addr.sa_family = AF_UNIX;
    EXPECT_TRUE(net::is_blocked_address(&unix_addr));
}

TEST(SsrfGuard, HostLiteralsInEverySpelling) {
    for (const char* host : {"localhost",
                             "LOCALHOST",
                             "localhost.",
                             "api.localhost",
                             "127.0.0.1",
                             "2130706433",
                             "0177.0.0.1",
                             "0x7f.0.0.1",
                             "0x7f.1",
                             "127.1",
                             "0",
                             "0x0",
                             "[::1]",
                             "[::ffff:127.0.0.1]",
                             "[fe80::1%25eth0]",
                             "::1",
                             "169.254.169.254",
                             "0251.0376.0251.0376",
                             "10.1",
                             "[::ffff:a9fe:a9fe]",
                             "[::ffff:7f00:1]",
                             "[::]",
                             "0.0.0.0",
                             "[0:0:0:0:0:ffff:127.0.0.1]",
                             "[fd00:ec2::254]",
                             "127.0.0.1.",
                             "0x7f.1."}) {
        EXPECT_TRUE(net::host_is_blocked_literal(host)) << host;
    }
    for (const char* host : {"client.app", "example.com", "8.8.8.8", "[2606:4700::1111]",
                             "127.0.0.1.nip.example", "localhost.example.com", "1.2.3.4.5"}) {
        EXPECT_FALSE(net::host_is_blocked_literal(host)) << host;
    }
}

// A name is judged by the address it resolves to, at connect time (is_blocked_address in
// curl's open-socket callback), never by its spelling: metadata.google.internal is accepted
// here and refused when it resolves to 169.254.169.254, as it does inside Google Cloud.
TEST(SsrfGuard, NamesAreLeftToTheConnectTimeCheck) {
    for (const char* host : {"metadata.google.internal", "metadata", "instance-data"}) {
        EXPECT_FALSE(net::host_is_blocked_literal(host)) << host;
    }
    EXPECT_TRUE(net::is_blocked_ip_text("169.254.169.254"));  // what it resolves to in the cloud
    EXPECT_TRUE(net::is_blocked_ip_text("fd00:ec2::254"));    // AWS's IPv6 metadata address
}

// Found by the callback_url fuzz target: spellings longer than 64 characters were not read as
// addresses, but inet_aton (and so getaddrinfo) reads any number of leading zeros.
TEST(SsrfGuard, LongIpv4SpellingsAreStillAddresses) {
    const std::string zeros(200, '0');
    for (const std::string& host :
         {"0." + zeros + ".011", zeros + "177.0.0.1", "0x" + zeros + "7f.1", "127." + zeros + "1",
          "0x" + zeros + "a9fea9fe"}) {
        in_addr a{};
        ASSERT_EQ(inet_aton(host.c_str(), &a), 1) << host;
        EXPECT_TRUE(net::host_is_blocked_literal(host)) << host;
    }
    EXPECT_FALSE(net::host_is_blocked_literal("0x" + zeros + "08080808"));  // 8.8.8.8
}

}  // namespace
}  // namespace cg::net
