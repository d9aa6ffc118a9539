#include "delivery/signer.hpp"

#include <gtest/gtest.h>

#include "support/webhook_verify.hpp"

namespace cg::delivery {
namespace {

SigningKeys keys_of(std::vector<std::string> secrets) {
    std::string error;
    auto keys = SigningKeys::from_secrets(secrets, &error);
    EXPECT_TRUE(keys) << error;
    return keys ? std::move(*keys) : SigningKeys();
}

// The example of the Standard Webhooks specification.
TEST(Signer, MatchesTheStandardWebhooksExample) {
    const auto keys = keys_of({"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"});
    EXPECT_EQ(keys.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, R"({"test": 2432232314})"),
              "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(Signer, RejectsMalformedSecretsNamingTheirPosition) {
    std::string error;
    EXPECT_FALSE(SigningKeys::from_secrets({"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, &error));
    EXPECT_NE(error.find("whsec_"), std::string::npos);
    EXPECT_FALSE(SigningKeys::from_secrets({"whsec_"}, &error));
    EXPECT_FALSE(SigningKeys::from_secrets({"whsec_not base64!"}, &error));
    EXPECT_FALSE(SigningKeys::from_secrets({"whsec_abc"}, &error));
    EXPECT_FALSE(
        SigningKeys::from_secrets({"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_abc"}, &error));
    EXPECT_NE(error.find("secret 2 of 2"), std::string::npos) << error;
    EXPECT_EQ(error.find("whsec_abc"), std::string::npos) << "the secret must not be shown";
}

TEST(Signer, DifferentInputsDifferentSignatures) {
    const auto s = keys_of({"whsec_c2VjcmV0LWtleS1mb3ItdGVzdHM="});
    EXPECT_NE(s.sign("a", 1, "{}"), s.sign("a", 2, "{}"));
    EXPECT_NE(s.sign("a", 1, "{}"), s.sign("b", 1, "{}"));
    EXPECT_NE(s.sign("a", 1, "{}"), s.sign("a", 1, "{ }"));
}

TEST(Signer, NoKeysNoSignature) {
    const SigningKeys none;
    EXPECT_TRUE(none.empty());
    EXPECT_EQ(none.sign("a", 1, "{}"), "");
    EXPECT_TRUE(keys_of({}).empty());
}

// Rotation: one signature per secret, in order, each the same as that secret alone gives.
TEST(Signer, SeveralSecretsGiveOneSignatureEachInOrder) {
    const std::string old_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const std::string new_secret = "whsec_c2VjcmV0LWtleS1mb3ItdGVzdHM=";
    const auto both = keys_of({old_secret, new_secret});
    EXPECT_EQ(both.size(), 2u);
    const auto header = both.sign("msg_1", 1700000000, R"({"a":1})");
    EXPECT_EQ(header, keys_of({old_secret}).sign("msg_1", 1700000000, R"({"a":1})") + " " +
                          keys_of({new_secret}).sign("msg_1", 1700000000, R"({"a":1})"));
    EXPECT_EQ(both.sign("msg_1", 1700000000, R"({"a":1})"),
              keys_of({old_secret, new_secret}).sign("msg_1", 1700000000, R"({"a":1})"));
    EXPECT_NE(header, keys_of({new_secret, old_secret}).sign("msg_1", 1700000000, R"({"a":1})"));
    // Receivers holding either secret accept the header (the test verifier, like the Standard
    // Webhooks libraries, takes any matching signature); one holding neither does not.
    for (const auto& secret : {old_secret, new_secret}) {
        EXPECT_TRUE(cg::test::verify_webhook(secret, "msg_1", "1700000000", R"({"a":1})", header));
    }
    EXPECT_FALSE(cg::test::verify_webhook("whsec_b3RoZXItc2VjcmV0", "msg_1", "1700000000",
                                          R"({"a":1})", header));
}

}  // namespace
}  // namespace cg::delivery
