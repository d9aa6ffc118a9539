#pragma once
// A throw-away certificate authority for TLS tests, made with the `openssl` command line tool
// (Debian package openssl) in a directory the caller owns. EC P-256 keys, valid two days.
#include <filesystem>
#include <string>
#include <vector>

namespace cg::test {

struct CertFiles {
    std::string cert;  // PEM certificate
    std::string key;   // PEM private key, unencrypted
};

class TestCa {
  public:
    // Creates the CA's key and self-signed certificate under `dir`/`name`/. Throws
    // std::runtime_error (with openssl's output) if openssl fails or is missing.
    TestCa(const std::filesystem::path& dir, const std::string& name);

    // The CA certificate, as a CA bundle for clients.
    [[nodiscard]] const std::string& ca_file() const { return ca_.cert; }

    // Issues a server certificate signed by this CA whose subjectAltName lists `names`: IP
    // addresses become IP entries, anything else DNS entries.
    CertFiles issue(const std::string& file_stem, const std::vector<std::string>& names) const;

  private:
    std::filesystem::path dir_;
    CertFiles ca_;
};

// The server certificate most tests want: 127.0.0.1 and localhost, signed by `ca`.
inline CertFiles localhost_cert(const TestCa& ca) {
    return ca.issue("localhost", {"127.0.0.1", "localhost"});
}

// Runs the openssl CLI with `args`; returns its combined output. Throws on a non-zero exit.
std::string run_openssl(const std::vector<std::string>& args);

// The openssl executable found on PATH, or empty.
std::string openssl_binary();

}  // namespace cg::test
