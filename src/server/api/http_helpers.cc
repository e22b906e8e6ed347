#include "server/api/http_helpers.h"

#include <cctype>
#include <string_view>

#include "common/json_text.h"
#include "common/log.h"
#include "control/sweep_request.h"

namespace trainyard::server {

using nlohmann::json;

void WriteJson(ResponseWriter& response, int status, const json& body) {
  std::string text = body.dump(-1, ' ', false, json::error_handler_t::replace);
  text += '\n';
  response.SetStatus(status);
  response.SetHeader("Content-Type", "application/json");
  response.WriteBody(text);
}

void WriteError(ResponseWriter& response, const Status& status, int http_status) {
  json error = {{"code", StatusCodeName(status.code())}, {"message", status.message()}};
  if (status.disk_full()) {
    // The message names the server's files (its paths are no client's business): it goes to
    // the log, and the client learns what it can act on.
    Logger("api").error("answered 507, the disk is full: {}", status.message());
    error["message"] = std::string(kDiskFullMessage);
    http_status = 507;
  }
  if (std::string field = control::FieldOfError(status); !field.empty()) error["field"] = field;
  // The API waits on no peer with a deadline of its own: a deadline missed is the client's (its
  // body came too slowly), 408 as for a header that came too slowly.
  if (!http_status && status.code() == StatusCode::kDeadlineExceeded) http_status = 408;
  if (response.headers_sent()) return;  // too late to say it in the status line
  WriteJson(response, http_status ? http_status : ToHttpStatus(status), {{"error", error}});
}

Result<json> ReadJsonBody(BodyReader& body, size_t max_bytes, int max_depth) {
  auto text = body.ReadAll(max_bytes);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kResourceExhausted) {
      return ResourceExhausted("the request body is larger than " + std::to_string(max_bytes) +
                               " bytes");
    }
    return text.status();
  }
  return ParseJsonText(*text, max_depth);
}

std::string BearerToken(const HttpRequest& request) {
  // RFC 9110 §11.1: the scheme is case-insensitive, and one or more spaces follow it.
  const std::string& header = request.Header("authorization");
  const std::string scheme = "bearer";
  if (header.size() <= scheme.size() || header[scheme.size()] != ' ') return "";
  for (size_t i = 0; i < scheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != scheme[i]) return "";
  }
  size_t token = header.find_first_not_of(' ', scheme.size());
  return token == std::string::npos ? "" : header.substr(token);
}

std::string AttachmentDisposition(const std::string& filename) {
  std::string fallback, encoded;
  for (unsigned char c : filename) {
    bool printable_ascii = c >= 0x20 && c < 0x7f;
    if (printable_ascii && c != '"' && c != '\\') {
      fallback += static_cast<char>(c);
    } else if (c < 0x80 || c >= 0xc0) {  // not a UTF-8 continuation byte: one per character
      fallback += '_';
    }
    // RFC 8187 attr-char: ALPHA / DIGIT / "!#$&+-.^_`|~"; everything else percent-encoded.
    bool attr_char =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        std::string_view("!#$&+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
    if (attr_char) {
      encoded += static_cast<char>(c);
    } else {
      static const char kHex[] = "0123456789ABCDEF";
      encoded += '%';
      encoded += kHex[c >> 4];
      encoded += kHex[c & 0x0f];
    }
  }
  return "attachment; filename=\"" + fallback + "\"; filename*=UTF-8''" + encoded;
}

std::vector<std::string> PathSegments(const std::string& path) {
  std::vector<std::string> segments;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) segments.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return segments;
}

}  // namespace trainyard::server
