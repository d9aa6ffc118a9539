#pragma once
// Base64 (RFC 4648 §4) and base64url (§5) through OpenSSL's block coder. Shared by the webhook
// signer (standard alphabet, padded) and the JWT verifier (URL alphabet, unpadded).
#include <optional>
#include <string>
#include <string_view>

namespace cg {

// Standard alphabet with `=` padding.
std::string base64_encode(std::string_view data);
// Standard alphabet; the length must be a multiple of 4 (padding required). nullopt when
// malformed, including stray characters and whitespace.
std::optional<std::string> base64_decode(std::string_view text);

// URL alphabet (`-`, `_`) without padding, as JWS (RFC 7515 §2) writes it.
std::string base64url_encode(std::string_view data);
// URL alphabet without padding; nullopt for `=`, characters of the standard alphabet
// (`+`, `/`), a length of 1 mod 4, or non-zero trailing bits, so each byte string has exactly
// one accepted encoding.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace cg
