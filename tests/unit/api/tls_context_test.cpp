#include "api/tls_context.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <fstream>

#include "support/test_ca.hpp"
#include "support/test_env.hpp"

namespace cg::api {
namespace {

std::string message_of(const std::string& cert, const std::string& key) {
    try {
        (void)make_server_tls_context(cert, key);
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "no error";
}

TEST(TlsContext, RequiresTls12OrLater) {
    test::TempDir dir;
    const test::TestCa ca(dir.path(), "ca");
    const auto server = test::localhost_cert(ca);
    const auto ctx = make_server_tls_context(server.cert, server.key);
    EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx->native_handle()), TLS1_2_VERSION);
}

TEST(TlsContext, BadFilesAreOneLineErrorsNamingTheSetting) {
    test::TempDir dir;
    const test::TestCa ca(dir.path(), "ca");
    const auto server = test::localhost_cert(ca);
    const auto other = ca.issue("other", {"127.0.0.1"});
    const auto garbage = (dir.path() / "garbage.pem").string();
    std::ofstream(garbage) << "not a certificate\n";

    const auto mismatch = message_of(server.cert, other.key);
    EXPECT_NE(mismatch.find("does not match"), std::string::npos) << mismatch;
    const auto bad_cert = message_of(garbage, server.key);
    EXPECT_NE(bad_cert.find("TLS_CERT_FILE"), std::string::npos) << bad_cert;
    const auto bad_key = message_of(server.cert, garbage);
    EXPECT_NE(bad_key.find("TLS_KEY_FILE"), std::string::npos) << bad_key;
    const auto key_as_cert = message_of(server.key, server.key);
    EXPECT_NE(key_as_cert.find("TLS_CERT_FILE"), std::string::npos) << key_as_cert;
    for (const auto& m : {mismatch, bad_cert, bad_key, key_as_cert}) {
        EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    }
}

}  // namespace
}  // namespace cg::api
