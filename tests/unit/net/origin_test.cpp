#include "net/origin.hpp"

#include <gtest/gtest.h>

#include <string>

namespace cg::net {
namespace {

std::string origin(std::string_view url) {
    std::string out = "stale";
    if (!origin_of(url, out)) {
        EXPECT_TRUE(out.empty()) << url;
        return "<none>";
    }
    return out;
}

TEST(Origin, SpellingsOfOneReceiverAreOneOrigin) {
    EXPECT_EQ(origin("http://Host.Example/cb"), "http://host.example:80");
    EXPECT_EQ(origin("HTTP://host.example:80/other?q=1"), "http://host.example:80");
    EXPECT_EQ(origin("http://host.example"), "http://host.example:80");
    EXPECT_EQ(origin("https://host.example/cb"), "https://host.example:443");
    EXPECT_EQ(origin("https://user@host.example:8443/cb#f"), "https://host.example:8443");
}

TEST(Origin, DifferentPortsOrSchemesAreDifferentOrigins) {
    EXPECT_NE(origin("http://host.example/"), origin("https://host.example/"));
    EXPECT_NE(origin("http://host.example:8080/"), origin("http://host.example:8081/"));
}

TEST(Origin, AddressLiteralsKeepTheirForm) {
    EXPECT_EQ(origin("http://127.0.0.1:9000/cb"), "http://127.0.0.1:9000");
    EXPECT_EQ(origin("http://[::1]:9000/cb"), "http://[::1]:9000");
    EXPECT_EQ(origin("https://[2001:DB8::1]/"), "https://[2001:db8::1]:443");
}

TEST(Origin, UrlsWithoutAnOriginAreRefused) {
    EXPECT_EQ(origin(""), "<none>");
    EXPECT_EQ(origin("/relative/path"), "<none>");
    EXPECT_EQ(origin("ftp://host.example/"), "<none>");
    EXPECT_EQ(origin("http:///no-host"), "<none>");
    EXPECT_EQ(origin("http://host.example:0/"), "<none>");
    EXPECT_EQ(origin("http://host.example:65536/"), "<none>");
    EXPECT_EQ(origin("http://host example/"), "<none>");
}

TEST(Origin, FormatMatchesParsing) {
    std::string out;
    format_origin(true, "Example.COM", false, 443, out);
    EXPECT_EQ(out, "https://example.com:443");
    format_origin(false, "::1", true, 8080, out);
    EXPECT_EQ(out, "http://[::1]:8080");
}

}  // namespace
}  // namespace cg::net
