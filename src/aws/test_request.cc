#include "aws/test_request.h"

#include <strings.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "aws/crypto.h"
#include "aws/uri_encode.h"

namespace trainyard::aws::testing {
namespace {

std::vector<std::pair<std::string, std::string>> ParseQuery(const std::string& raw) {
  std::vector<std::pair<std::string, std::string>> pairs;
  size_t start = 0;
  while (start < raw.size()) {
    size_t end = raw.find('&', start);
    if (end == std::string::npos) end = raw.size();
    std::string item = raw.substr(start, end - start);
    size_t equals = item.find('=');
    if (!item.empty()) {
      if (equals == std::string::npos) {
        pairs.emplace_back(UriDecode(item), "");
      } else {
        pairs.emplace_back(UriDecode(item.substr(0, equals)), UriDecode(item.substr(equals + 1)));
      }
    }
    start = end + 1;
  }
  return pairs;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> ParseQueryString(const std::string& raw) {
  return ParseQuery(raw);
}

Result<ParsedRequest> ParseRawRequest(const std::string& text, FoldedLines folded) {
  // Split into lines, tolerating CRLF; the body (after the first empty line) is kept verbatim.
  std::vector<std::string> lines;
  std::string body;
  size_t position = 0;
  bool in_body = false;
  while (position <= text.size() && !in_body) {
    size_t end = text.find('\n', position);
    std::string line = text.substr(position, end == std::string::npos ? end : end - position);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    position = end == std::string::npos ? text.size() + 1 : end + 1;
    if (line.empty() && !lines.empty()) {
      in_body = true;
      if (position <= text.size()) body = text.substr(position);
    } else {
      lines.push_back(line);
    }
  }
  if (lines.empty()) return InvalidArgument("raw request is empty");

  ParsedRequest parsed;
  const std::string& request_line = lines[0];
  size_t space = request_line.find(' ');
  if (space == std::string::npos) {
    return InvalidArgument("raw request line '" + request_line + "' has no target");
  }
  parsed.request.method = request_line.substr(0, space);
  std::string target = request_line.substr(space + 1);
  constexpr std::string_view kVersion = " HTTP/1.1";
  if (target.ends_with(kVersion)) target.resize(target.size() - kVersion.size());
  size_t question = target.find('?');
  parsed.request.path = target.substr(0, question);
  if (question != std::string::npos) parsed.request.query = ParseQuery(target.substr(question + 1));

  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line[0] == ' ' || line[0] == '\t') {
      if (parsed.request.headers.empty()) {
        return InvalidArgument("raw request continuation line before any header");
      }
      if (folded == FoldedLines::kContinueValue) {
        parsed.request.headers.back().second += "\n" + line;
      } else {
        parsed.request.headers.emplace_back(parsed.request.headers.back().first, line);
      }
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string::npos) {
      return InvalidArgument("raw request header line '" + line + "' has no ':'");
    }
    parsed.request.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  parsed.body = body;
  parsed.request.payload_sha256_hex = Sha256Hex(body);
  return parsed;
}

Result<std::string> ReadTextFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("test file '" + path.string() + "' cannot be read");
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

Result<TimePoint> ParseUtcTimestamp(const std::string& text) {
  int year, month, day, hour, minute, second;
  if (std::sscanf(text.c_str(), "%4d%2d%2dT%2d%2d%2dZ", &year, &month, &day, &hour, &minute,
                  &second) != 6 &&
      std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ", &year, &month, &day, &hour, &minute,
                  &second) != 6) {
    return InvalidArgument("timestamp '" + text + "' is not a UTC ISO 8601 time");
  }
  using namespace std::chrono;
  sys_days date =
      year_month_day(std::chrono::year(year), std::chrono::month(month), std::chrono::day(day));
  return TimePoint(date + hours(hour) + minutes(minute) + seconds(second));
}

std::optional<std::string> FindHeader(const HeaderList& headers, const std::string& name) {
  for (const auto& [header_name, value] : headers) {
    if (strcasecmp(header_name.c_str(), name.c_str()) == 0) return value;
  }
  return std::nullopt;
}

std::string StripTrailingNewline(std::string text) {
  if (!text.empty() && text.back() == '\n') text.pop_back();
  if (!text.empty() && text.back() == '\r') text.pop_back();
  return text;
}

}  // namespace trainyard::aws::testing
