// ASCII helpers for the protocols trainyard speaks (HTTP header names, URIs, JSON and GraphQL
// escapes, SigV4, AWS's case-insensitive enums): locale-independent, byte by byte.
#pragma once

#include <string>
#include <string_view>

namespace trainyard {

// The value of a hex digit (either case), or -1 for any other character.
constexpr int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// `text` with A-Z turned into a-z; every other byte (UTF-8 included) kept.
inline std::string AsciiLower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

}  // namespace trainyard
