#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>

#include "api/router.hpp"

namespace cg::api {
namespace {

using boost::asio::ip::make_address;

TEST(RateLimitKey, AnAuthenticatedClientIsKeyedByItsIdElseByItsAddress) {
    const auto peer = make_address("203.0.113.7");
    EXPECT_EQ(Router::rate_limit_key("acme-42", peer), "client:acme-42");
    EXPECT_EQ(Router::rate_limit_key(std::nullopt, peer), "ip:203.0.113.7");
    EXPECT_EQ(Router::rate_limit_key(std::nullopt, make_address("2001:db8::1")), "ip:2001:db8::1");
}

TEST(RateLimitKey, AnIpv4MappedAddressIsTheSameClientAsItsIpv4Form) {
    EXPECT_EQ(Router::rate_limit_key(std::nullopt, make_address("::ffff:203.0.113.7")),
              "ip:203.0.113.7");
}

}  // namespace
}  // namespace cg::api
