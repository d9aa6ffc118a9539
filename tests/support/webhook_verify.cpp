#include "support/webhook_verify.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <sstream>
#include <vector>

namespace cg::test {

bool verify_webhook(const std::string& secret, const std::string& id, const std::string& timestamp,
                    const std::string& body, const std::string& signature_header) {
    if (secret.rfind("whsec_", 0) != 0) return false;
    const std::string b64 = secret.substr(6);
    std::vector<unsigned char> key(b64.size());
    int n = EVP_DecodeBlock(key.data(), reinterpret_cast<const unsigned char*>(b64.data()),
                            static_cast<int>(b64.size()));
    if (n < 0) return false;
    if (!b64.empty() && b64.back() == '=') --n;
    if (b64.size() > 1 && b64[b64.size() - 2] == '=') --n;
    const std::string message = id + "." + timestamp + "." + body;
    unsigned char mac[32];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), n, reinterpret_cast<const unsigned char*>(message.data()),
         message.size(), mac, &len);
    std::string expected(4 * ((len + 2) / 3), '\0');
    EVP_EncodeBlock(reinterpret_cast<unsigned char*>(expected.data()), mac, static_cast<int>(len));
    std::istringstream in(signature_header);
    std::string part;
    while (in >> part) {
        if (part == "v1," + expected) return true;
    }
    return false;
}

}  // namespace cg::test
