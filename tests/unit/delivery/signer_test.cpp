#include "delivery/signer.hpp"

#include <gtest/gtest.h>

namespace cg::delivery {
namespace {

// The example of the Standard Webhooks specification.
TEST(Signer, MatchesTheStandardWebhooksExample) {
    std::string error;
    const auto signer =
        WebhookSigner::from_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &error);
    ASSERT_TRUE(signer) << error;
    EXPECT_EQ(signer->sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, R"({"test": 2432232314})"),
              "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(Signer, RejectsMalformedSecrets) {
    std::string error;
    EXPECT_FALSE(WebhookSigner::from_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &error));
    EXPECT_NE(error.find("whsec_"), std::string::npos);
    EXPECT_FALSE(WebhookSigner::from_secret("whsec_", &error));
    EXPECT_FALSE(WebhookSigner::from_secret("whsec_not base64!", &error));
    EXPECT_FALSE(WebhookSigner::from_secret("whsec_abc", &error));
}

TEST(Signer, DifferentInputsDifferentSignatures) {
    const auto s = WebhookSigner::from_secret("whsec_c2VjcmV0LWtleS1mb3ItdGVzdHM=", nullptr);
    ASSERT_TRUE(s);
    EXPECT_NE(s->sign("a", 1, "{}"), s->sign("a", 2, "{}"));
    EXPECT_NE(s->sign("a", 1, "{}"), s->sign("b", 1, "{}"));
    EXPECT_NE(s->sign("a", 1, "{}"), s->sign("a", 1, "{ }"));
}

TEST(Base64, RoundTrips) {
    for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
        if (s.empty()) continue;
        EXPECT_EQ(base64_decode(base64_encode(s)), s);
    }
    EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
    EXPECT_EQ(base64_decode("Zm8="), "fo");
}

}  // namespace
}  // namespace cg::delivery
