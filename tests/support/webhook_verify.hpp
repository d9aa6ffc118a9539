#pragma once
// An independent Standard Webhooks verifier for tests (not the service's signer).
#include <string>

namespace cg::test {

// True when `signature_header` ("v1,<b64> [v1,<b64> ...]") holds a valid signature of
// "<id>.<timestamp>.<body>" under `secret` ("whsec_<base64>").
bool verify_webhook(const std::string& secret, const std::string& id, const std::string& timestamp,
                    const std::string& body, const std::string& signature_header);

}  // namespace cg::test
