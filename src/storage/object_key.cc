// ValidateObjectKey. The rules are those of a key that maps safely onto a relative path (no
// "..", no absolute path, no empty segment) and prints safely in logs and messages (no control
// characters, valid UTF-8), so that every backend accepts and refuses the same keys.
#include <cstdio>
#include <string_view>

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

// Decodes one UTF-8 code point at `i`, advancing `i`; nullopt when the bytes are not valid UTF-8
// (truncated, overlong, a surrogate, or above U+10FFFF).
std::optional<char32_t> DecodeUtf8(std::string_view s, size_t& i) {
  unsigned char lead = static_cast<unsigned char>(s[i]);
  size_t length;
  char32_t code_point;
  char32_t minimum;
  if (lead < 0x80) {
    ++i;
    return lead;
  } else if ((lead & 0xe0) == 0xc0) {
    length = 2, code_point = lead & 0x1f, minimum = 0x80;
  } else if ((lead & 0xf0) == 0xe0) {
    length = 3, code_point = lead & 0x0f, minimum = 0x800;
  } else if ((lead & 0xf8) == 0xf0) {
    length = 4, code_point = lead & 0x07, minimum = 0x10000;
  } else {
    return std::nullopt;
  }
  if (i + length > s.size()) return std::nullopt;
  for (size_t k = 1; k < length; ++k) {
    unsigned char next = static_cast<unsigned char>(s[i + k]);
    if ((next & 0xc0) != 0x80) return std::nullopt;
    code_point = (code_point << 6) | (next & 0x3f);
  }
  if (code_point < minimum || code_point > 0x10ffff ||
      (code_point >= 0xd800 && code_point <= 0xdfff)) {
    return std::nullopt;
  }
  i += length;
  return code_point;
}

}  // namespace

Status ValidateObjectKey(const std::string& key) {
  if (key.empty()) return InvalidArgument("invalid object key '': it is empty");
  if (key.size() > kMaxKeyBytes) {
    return Invalid(key, "longer than 1024 bytes (" + std::to_string(key.size()) + ")");
  }
  for (size_t i = 0; i < key.size();) {
    std::optional<char32_t> code_point = DecodeUtf8(key, i);
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

}  // namespace trainyard::storage
