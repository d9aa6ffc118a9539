#include "support/test_ca.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "support/service_process.hpp"

namespace cg::test {

namespace fs = std::filesystem;

namespace {

bool is_ip(const std::string& s) {
    unsigned char buf[16];
    return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

const std::vector<std::string> kEcKey = {"-newkey", "ec", "-pkeyopt",
                                         "ec_paramgen_curve:prime256v1", "-nodes"};

}  // namespace

std::string openssl_binary() {
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path ? path : "/usr/bin:/bin");
    std::string d;
    while (std::getline(dirs, d, ':')) {
        const auto candidate = fs::path(d) / "openssl";
        if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    }
    return {};
}

std::string run_openssl(const std::vector<std::string>& args) {
    const auto bin = openssl_binary();
    if (bin.empty()) {
        throw std::runtime_error("openssl not found on PATH (Debian package openssl)");
    }
    const auto r = run_command(bin, args, {});
    if (r.exit_code != 0) {
        std::string cmd = "openssl";
        for (const auto& a : args) cmd += " " + a;
        throw std::runtime_error(cmd + " failed (" + std::to_string(r.exit_code) + "): " + r.err +
                                 r.out);
    }
    return r.out + r.err;
}

TestCa::TestCa(const fs::path& dir, const std::string& name) : dir_(dir / name) {
    fs::create_directories(dir_);
    ca_ = {(dir_ / "ca.pem").string(), (dir_ / "ca.key").string()};
    std::vector<std::string> args = {"req", "-x509"};
    args.insert(args.end(), kEcKey.begin(), kEcKey.end());
    args.insert(args.end(), {"-keyout", ca_.key, "-out", ca_.cert, "-days", "2", "-subj",
                             "/CN=" + name, "-addext", "basicConstraints=critical,CA:TRUE",
                             "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
    run_openssl(args);
}

CertFiles TestCa::issue(const std::string& file_stem, const std::vector<std::string>& names) const {
    const auto base = dir_ / file_stem;
    CertFiles out{base.string() + ".pem", base.string() + ".key"};
    const std::string csr = base.string() + ".csr";
    const std::string ext = base.string() + ".ext";
    std::string san;
    for (const auto& n : names) {
        if (!san.empty()) san += ",";
        san += (is_ip(n) ? "IP:" : "DNS:") + n;
    }
    {
        std::ofstream f(ext);
        f << "subjectAltName=" << san << "\n"
          << "basicConstraints=CA:FALSE\n"
          << "keyUsage=critical,digitalSignature\n"
          << "extendedKeyUsage=serverAuth\n";
    }
    std::vector<std::string> req = {"req"};
    req.insert(req.end(), kEcKey.begin(), kEcKey.end());
    req.insert(req.end(), {"-keyout", out.key, "-out", csr, "-subj",
                           "/CN=" + (names.empty() ? file_stem : names.front())});
    run_openssl(req);
    run_openssl({"x509", "-req", "-in", csr, "-CA", ca_.cert, "-CAkey", ca_.key, "-CAcreateserial",
                 "-days", "2", "-sha256", "-extfile", ext, "-out", out.cert});
    return out;
}

}  // namespace cg::test
