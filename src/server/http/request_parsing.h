// Decoding of request targets for HttpServer (internal): percent-decoding of the path and the
// query string. No Beast here, so that the rules are cheap to compile and to test.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/status.h"

namespace trainyard::server::internal {

// "%2Fa+b" -> "/a+b" (or "/a b" with `plus_as_space`). InvalidArgument for a malformed escape
// or an encoded NUL.
Result<std::string> PercentDecode(std::string_view text, bool plus_as_space);

// A request target split into its decoded path and query ("/p?a=1&b" -> "/p", {a:1, b:""}).
struct DecodedTarget {
  std::string path;
  std::map<std::string, std::string> query;
};
Result<DecodedTarget> DecodeTarget(std::string_view target);

// True when a field line of `header` (a request's header, through its blank line) starts with a
// space or tab: obsolete line folding, which a server must refuse (RFC 9112 5.2).
bool HasObsoleteLineFolding(std::string_view header);

// A request's Transfer-Encoding: OK for "chunked" (in any case), InvalidArgument naming the
// header for any other transfer coding (gzip, deflate...), which the server does not decode.
Status CheckTransferEncoding(std::string_view value);

}  // namespace trainyard::server::internal
