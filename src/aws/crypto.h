// The primitives SigV4 and S3's checksums need, over OpenSSL's EVP/HMAC. Stateless and
// thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace trainyard::aws {

// Lowercase hex of SHA-256(data).
std::string Sha256Hex(std::string_view data);

// Raw 32-byte HMAC-SHA256(key, data).
std::string HmacSha256(std::string_view key, std::string_view data);

// Lowercase hex of arbitrary bytes.
std::string HexEncode(std::string_view bytes);
// The bytes of hex digits (either case); nullopt for an odd length or a non-hex character.
std::optional<std::string> HexDecode(std::string_view hex);

// Standard base64 with padding (RFC 4648 §4), as S3's Content-MD5 and x-amz-checksum-* use.
std::string Base64Encode(std::string_view bytes);
// nullopt when `text` is not padded base64.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace trainyard::aws
