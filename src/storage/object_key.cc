// ValidateObjectKey. The rules are those of a key that maps safely onto a relative path (no
// "..", no absolute path, no empty segment) and prints safely in logs and messages (no control
// characters, valid UTF-8), so that every backend accepts and refuses the same keys.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string_view>

#include "common/utf8.h"
#include "storage/object_store.h"

namespace trainyard::storage {
namespace {

constexpr size_t kMaxKeyBytes = 1024;
constexpr size_t kMaxQuotedBytes = 80;

// The key as it can be printed: non-printable bytes as \xNN, long keys cut.
std::string Quote(const std::string& key) {
  std::string out = "'";
  for (size_t i = 0; i < key.size() && i < kMaxQuotedBytes; ++i) {
    unsigned char c = static_cast<unsigned char>(key[i]);
    if (c < 0x20 || c == 0x7f || c == '\\') {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\x%02x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (key.size() > kMaxQuotedBytes) out += "...";
  return out + "'";
}

Status Invalid(const std::string& key, const std::string& rule) {
  return InvalidArgument("invalid object key " + Quote(key) + ": " + rule);
}

}  // namespace

Status ValidateObjectKey(const std::string& key) {
  if (key.empty()) return InvalidArgument("invalid object key '': it is empty");
  if (key.size() > kMaxKeyBytes) {
    return Invalid(key, "longer than 1024 bytes (" + std::to_string(key.size()) + ")");
  }
  for (size_t i = 0; i < key.size();) {
    std::optional<char32_t> code_point = NextCodePoint(key, &i);
    if (!code_point) return Invalid(key, "not valid UTF-8");
    if (*code_point < 0x20 || (*code_point >= 0x7f && *code_point <= 0x9f)) {
      return Invalid(key, "contains a control character");
    }
  }
  if (key.front() == '/') return Invalid(key, "starts with '/'");
  if (key.back() == '/') return Invalid(key, "ends with '/'");
  std::string_view rest = key;
  while (true) {
    size_t slash = rest.find('/');
    std::string_view segment = rest.substr(0, slash);
    if (segment.empty()) return Invalid(key, "has an empty segment ('//')");
    if (segment == "." || segment == "..") return Invalid(key, "has a '.' or '..' segment");
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return Status::Ok();
}

namespace {

Status ValidateObjectMetadata(const std::string& key, const ObjectMetadata& metadata) {
  constexpr size_t kMaxNameBytes = 128;
  constexpr size_t kMaxTotalBytes = 2048;  // S3: user metadata of a PUT is limited to 2 KB
  size_t total = 0;
  for (const auto& [name, value] : metadata) {
    bool good_name =
        !name.empty() && name.size() <= kMaxNameBytes &&
        name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_.") == std::string::npos;
    if (!good_name) {
      return InvalidArgument("object " + Quote(key) + ": metadata name " + Quote(name) +
                             " must be 1 to 128 of a-z, 0-9, '-', '_', '.'");
    }
    for (unsigned char c : value) {
      if (c < 0x20 || c >= 0x7f) {
        return InvalidArgument("object " + Quote(key) + ": metadata '" + name +
                               "' must be printable ASCII");
      }
    }
    total += name.size() + value.size();
  }
  if (total > kMaxTotalBytes) {
    return InvalidArgument("object " + Quote(key) + ": metadata is " + std::to_string(total) +
                           " bytes, more than the 2048 allowed");
  }
  return Status::Ok();
}

// Content types go back out in HTTP headers, so only printable ASCII is accepted.
Status ValidateContentType(const std::string& key, const std::string& content_type) {
  constexpr size_t kMaxContentTypeBytes = 256;
  bool printable = std::all_of(content_type.begin(), content_type.end(),
                               [](unsigned char c) { return c >= 0x20 && c < 0x7f; });
  if (!printable || content_type.size() > kMaxContentTypeBytes) {
    return InvalidArgument("object " + Quote(key) +
                           ": content type must be at most 256 printable ASCII characters");
  }
  return Status::Ok();
}

}  // namespace

Result<std::optional<std::string>> CheckPutOptions(const std::string& key,
                                                   const PutOptions& options) {
  TY_RETURN_IF_ERROR(ValidateContentType(key, options.content_type));
  TY_RETURN_IF_ERROR(ValidateObjectMetadata(key, options.metadata));
  if (!options.expected_sha256_hex) return std::optional<std::string>();
  std::string lower = *options.expected_sha256_hex;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower.size() != 64 || lower.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return InvalidArgument("object " + Quote(key) +
                           ": expected SHA-256 must be 64 hex digits, got '" +
                           *options.expected_sha256_hex + "'");
  }
  return std::optional<std::string>(lower);
}

}  // namespace trainyard::storage
