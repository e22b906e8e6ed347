// S3's conditional reads (GetObject, HeadObject): If-Match, If-None-Match, If-Modified-Since and
// If-Unmodified-Since, combined as S3 combines them (RFC 9110 section 13.2.2): a true If-Match
// overrides a false If-Unmodified-Since, a false If-None-Match overrides a true
// If-Modified-Since. A client pins the version it reads with If-Match (trainyard's own S3
// store does, to resume a read or to read the version it looked at).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/time_format.h"
#include "server/http/http_server.h"

namespace trainyard::server::s3 {

enum class Precondition {
  kServe,        // no condition, or all hold
  kNotModified,  // 304
  kFailed,       // 412 PreconditionFailed
};

struct PreconditionResult {
  Precondition outcome = Precondition::kServe;
  std::string condition;  // the header that decided a 304 or 412 ("If-Match")
};

// `etag` as sent in the ETag header (quoted); `last_modified` as in Last-Modified.
PreconditionResult EvaluatePreconditions(const HttpRequest& request, const std::string& etag,
                                         TimePoint last_modified);

// "Sun, 06 Nov 1994 08:49:37 GMT" (IMF-fixdate); nullopt for anything else.
std::optional<TimePoint> ParseHttpDate(std::string_view text);

// Whether an If-Match / If-None-Match list ("\"a\", W/\"b\"", or "*") names `etag`.
bool EtagListMatches(std::string_view list, const std::string& etag);

}  // namespace trainyard::server::s3
