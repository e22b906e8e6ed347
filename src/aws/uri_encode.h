// URI encoding as SigV4 defines it (RFC 3986 unreserved set, uppercase hex). Thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace trainyard::aws {

// Percent-encodes every byte outside A-Z a-z 0-9 - _ . ~ (so '%' itself becomes %25, and
// multi-byte UTF-8 becomes one %XX per byte). '/' is kept when encode_slash is false.
std::string UriEncode(std::string_view text, bool encode_slash);

// Decodes %XX sequences; a '%' not followed by two hex digits is kept as is. '+' stays '+':
// SigV4 does not treat it as a space.
std::string UriDecode(std::string_view text);

// Removes "." and ".." segments and empty segments ("//"), keeping a trailing slash: "//a/./b/../"
// becomes "/a/". Works on the wire form; never goes above the root.
std::string NormalizePath(std::string_view path);

}  // namespace trainyard::aws
