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

}  // namespace trainyard::server::internal
