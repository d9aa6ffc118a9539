#include "api/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/ssl/error.hpp>
#include <stdexcept>

namespace cg::api {

namespace ssl = boost::asio::ssl;

namespace {

// OpenSSL's reason for the last failure, without its error queue's multi-line dump.
std::string reason(const boost::system::error_code& ec) {
    std::string s = ec.message();
    for (auto& c : s) {
        if (c == '\n' || c == '\r') c = ' ';
    }
    return s;
}

}  // namespace

std::shared_ptr<ssl::context> make_server_tls_context(const std::string& cert_file,
                                                      const std::string& key_file) {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::single_dh_use);
    if (SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION) != 1) {
        throw std::runtime_error("TLS: cannot require TLS 1.2 or later");
    }
    boost::system::error_code ec;
    ctx->use_certificate_chain_file(cert_file, ec);
    if (ec) {
        throw std::runtime_error("TLS_CERT_FILE " + cert_file + ": not a usable PEM certificate (" +
                                 reason(ec) + ")");
    }
    ctx->use_private_key_file(key_file, ssl::context::pem, ec);
    // OpenSSL compares the key with the certificate already loaded while loading it.
    const bool mismatch =
        ec && ec.category() == boost::asio::error::get_ssl_category() &&
        ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH;
    if (mismatch || (!ec && SSL_CTX_check_private_key(ctx->native_handle()) != 1)) {
        ERR_clear_error();
        throw std::runtime_error("TLS_KEY_FILE " + key_file +
                                 ": the private key does not match the certificate in "
                                 "TLS_CERT_FILE " +
                                 cert_file);
    }
    if (ec) {
        throw std::runtime_error("TLS_KEY_FILE " + key_file + ": not a usable PEM private key (" +
                                 reason(ec) + ")");
    }
    return ctx;
}

}  // namespace cg::api
