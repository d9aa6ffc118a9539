// The SSRF guard at connect time (CALLBACK_ALLOW_PRIVATE_NETWORKS=false): a callback URL whose
// host is a name is accepted, and judged by the address it resolves to when the callback is
// sent. The accept-time refusals of address literals are in AcceptTest.
#include "service_fixture.hpp"

namespace cg::test {
namespace {

class SsrfTest : public ServiceTest {
  protected:
    void SetUp() override {
        ServiceTest::SetUp();
        // Assigned as strings: GCC 12 at -O3 reports a false -Wrestrict on replacing a map's
        // string with a shorter literal (GCC bug 105329).
        env["CALLBACK_ALLOW_PRIVATE_NETWORKS"] = std::string("false");
        env["CALLBACK_MAX_ATTEMPTS"] = std::string("2");
    }
};

// DNS rebinding: a name that looked harmless when the request was accepted but resolves to a
// loopback address is refused when connecting; the receiver listening there sees nothing.
TEST_F(SsrfTest, ANameResolvingToLoopbackIsRefusedWhenConnecting) {
    const auto name = loopback_host_name();
    if (name.empty()) GTEST_SKIP() << "no host name here resolves to loopback only";
    start();
    const auto r = post_session(receiver_.url_for_host(name));
    ASSERT_EQ(r.status, 200) << name << ": " << r.body;  // a name passes the accept-time check
    const auto id = str(parse_object(r.body), "request_id");
    ASSERT_TRUE(wait_state(id, "failed")) << status_of(id);
    const auto cb = status_of(id).at("callback").as_object();
    ASSERT_TRUE(cb.at("last_error").is_string()) << cb;
    EXPECT_NE(std::string(cb.at("last_error").as_string()).find("address not allowed"),
              std::string::npos)
        << cb;
    EXPECT_EQ(receiver_.count(), 0u);
}

// Only addresses are judged: metadata.google.internal is accepted, and refused at connect
// time only where it resolves to a blocked address (169.254.169.254 inside Google Cloud).
TEST_F(SsrfTest, CloudMetadataNamesAreJudgedByTheirAddress) {
    start();
    const auto r = post_session("http://metadata.google.internal/computeMetadata/v1/");
    EXPECT_EQ(r.status, 200) << r.body;
}

}  // namespace
}  // namespace cg::test
