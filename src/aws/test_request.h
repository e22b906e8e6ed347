// Test-only: reads the SigV4 test suites' raw request files (.req / request.txt) and their
// timestamps. Not part of trainyard_aws.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "aws/sigv4.h"
#include "common/status.h"

namespace trainyard::aws::testing {

struct ParsedRequest {
  HttpRequestToSign request;  // payload_sha256_hex is the SHA-256 of `body`.
  std::string body;
};

// How a header line that starts with whitespace is read. The CRT suite reads it as obsolete line
// folding (RFC 9110: part of the previous value, which canonicalisation turns into a space);
// the classic suite's get-header-value-multiline expects "value1,value2,value3", i.e. it reads
// each continuation line as another value of the same header.
enum class FoldedLines { kContinueValue, kSeparateValues };

// "GET /path?a=b HTTP/1.1\nName:value\n  folded continuation\n\nbody". The target may hold a raw
// space ("/example space/"), so it is everything between the method and " HTTP/1.1". CRLF is
// accepted. Query pairs are percent-decoded (HttpRequestToSign holds decoded pairs); a folded
// header keeps its line break, which canonicalisation turns into a space.
Result<ParsedRequest> ParseRawRequest(const std::string& text,
                                      FoldedLines folded = FoldedLines::kContinueValue);

// "b=2&a" -> {{"b", "2"}, {"a", ""}}, percent-decoded.
std::vector<std::pair<std::string, std::string>> ParseQueryString(const std::string& raw);

// The file's bytes; NotFound when it cannot be read.
Result<std::string> ReadTextFile(const std::filesystem::path& path);

// "20150830T123600Z" or "2015-08-30T12:36:00Z" (UTC).
Result<TimePoint> ParseUtcTimestamp(const std::string& text);

// The first header named `name` (case-insensitive).
std::optional<std::string> FindHeader(const HeaderList& headers, const std::string& name);

// Drops one trailing "\n" (or "\r\n"): a defect of some expected files.
std::string StripTrailingNewline(std::string text);

}  // namespace trainyard::aws::testing
