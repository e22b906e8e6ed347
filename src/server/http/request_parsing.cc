#include "server/http/request_parsing.h"

#include <strings.h>

#include <algorithm>
#include <utility>

#include "common/ascii.h"
#include "server/http/http_server.h"

namespace trainyard::server {

const std::string& HttpRequest::Header(const std::string& name) const {
  static const std::string kEmpty;
  auto it = headers.find(name);
  return it == headers.end() ? kEmpty : it->second;
}

Result<std::string> BodyReader::ReadAll(size_t limit) {
  std::string body;
  char buffer[64 * 1024];
  for (;;) {
    TY_ASSIGN_OR_RETURN(size_t n, Read(buffer, sizeof(buffer)));
    if (n == 0) return body;
    if (body.size() + n > limit) {
      return ResourceExhausted("request body larger than " + std::to_string(limit) + " bytes");
    }
    body.append(buffer, n);
  }
}

void ResponseWriter::WriteBody(std::string_view body) {
  SetContentLength(body.size());
  // The header says why a failure is not reported.
  (void)Write(body);
}

namespace internal {
Result<std::string> PercentDecode(std::string_view text, bool plus_as_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    // HTTP never allows these unencoded in a target; Beast's parser refuses them first, and
    // this keeps the rule true for any other caller.
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return InvalidArgument("control character (byte " +
                             std::to_string(static_cast<unsigned char>(c)) +
                             ") in the request target");
    }
    if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else if (c != '%') {
      out.push_back(c);
    } else {
      int high = i + 2 < text.size() ? HexDigitValue(text[i + 1]) : -1;
      int low = i + 2 < text.size() ? HexDigitValue(text[i + 2]) : -1;
      if (high < 0 || low < 0) {
        return InvalidArgument("malformed percent-encoding in '" + std::string(text) + "'");
      }
      char decoded = static_cast<char>(high * 16 + low);
      if (decoded == '\0') {
        return InvalidArgument("encoded NUL (%00) in '" + std::string(text) + "'");
      }
      out.push_back(decoded);
      i += 2;
    }
  }
  return out;
}

Result<DecodedTarget> DecodeTarget(std::string_view target) {
  DecodedTarget decoded;
  size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  TY_ASSIGN_OR_RETURN(decoded.path, PercentDecode(path, /*plus_as_space=*/false));
  if (question == std::string_view::npos) return decoded;
  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t equals = pair.find('=');
    std::string_view key = pair.substr(0, equals);
    std::string_view value =
        equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1);
    TY_ASSIGN_OR_RETURN(std::string decoded_key, PercentDecode(key, /*plus_as_space=*/true));
    TY_ASSIGN_OR_RETURN(std::string decoded_value, PercentDecode(value, /*plus_as_space=*/true));
    decoded.query[std::move(decoded_key)] = std::move(decoded_value);
  }
  return decoded;
}

bool HasObsoleteLineFolding(std::string_view header) {
  for (size_t at = header.find("\r\n"); at != std::string_view::npos && at + 2 < header.size();
       at = header.find("\r\n", at + 2)) {
    if (header[at + 2] == ' ' || header[at + 2] == '\t') return true;
  }
  return false;
}

Status CheckTransferEncoding(std::string_view value) {
  size_t start = 0;
  while (start <= value.size()) {
    size_t end = std::min(value.find(',', start), value.size());
    std::string_view coding = value.substr(start, end - start);
    while (!coding.empty() && (coding.front() == ' ' || coding.front() == '\t')) {
      coding.remove_prefix(1);
    }
    while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t')) {
      coding.remove_suffix(1);
    }
    if (coding.size() != 7 || strncasecmp(coding.data(), "chunked", 7) != 0) {
      return InvalidArgument("Transfer-Encoding '" + std::string(value) +
                             "' is not supported: the only transfer coding accepted is chunked");
    }
    start = end + 1;
  }
  return Status::Ok();
}

}  // namespace internal
}  // namespace trainyard::server
