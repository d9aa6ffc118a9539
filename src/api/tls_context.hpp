#pragma once
// The server side of HTTPS (TLS_CERT_FILE, TLS_KEY_FILE): one OpenSSL context shared by every
// event loop. OpenSSL's SSL_CTX is safe to share between threads once configured; each
// connection gets its own SSL object from it.
#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

namespace cg::api {

// Loads a PEM certificate chain and its private key into a server context that accepts TLS 1.2
// and later with OpenSSL's default ciphers. Throws std::runtime_error with a one-line message
// naming the setting when a file cannot be read or parsed, or the key does not match the
// certificate.
std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(const std::string& cert_file,
                                                                   const std::string& key_file);

}  // namespace cg::api
