// The checks of a WebSocket opening handshake (RFC 6455 4.2.1), declared in http_server.h.
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <string>

#include "common/ascii.h"
#include "server/http/http_server.h"

namespace trainyard::server {
namespace {

std::string Trim(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return "";
  size_t end = text.find_last_not_of(" \t");
  return std::string(text.substr(begin, end - begin + 1));
}

// Whether the comma-separated header value holds `token` (compared as given).
bool HasToken(std::string_view value, std::string_view token, bool ignore_case) {
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    std::string item = Trim(value.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (ignore_case ? AsciiLower(item) == AsciiLower(token) : item == token) return true;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return false;
}

}  // namespace

bool IsWebSocketUpgrade(const HttpRequest& request) {
  return HasToken(request.Header("upgrade"), "websocket", /*ignore_case=*/true);
}

Status CheckWebSocketUpgrade(const HttpRequest& request, std::string_view subprotocol) {
  if (request.method != "GET") {
    return InvalidArgument("a WebSocket handshake is a GET, not " + request.method);
  }
  if (!IsWebSocketUpgrade(request)) {
    return InvalidArgument("header 'Upgrade' must be 'websocket'");
  }
  if (!HasToken(request.Header("connection"), "upgrade", /*ignore_case=*/true)) {
    return InvalidArgument("header 'Connection' must hold 'Upgrade'");
  }
  if (Trim(request.Header("sec-websocket-version")) != "13") {
    return InvalidArgument("header 'Sec-WebSocket-Version' must be 13, not '" +
                           request.Header("sec-websocket-version") + "'");
  }
  std::string key = Trim(request.Header("sec-websocket-key"));
  unsigned char decoded[32];
  if (key.size() != 24 ||
      EVP_DecodeBlock(decoded, reinterpret_cast<const unsigned char*>(key.data()),
                      static_cast<int>(key.size())) != 18 ||
      key.substr(22) != "==") {
    return InvalidArgument("header 'Sec-WebSocket-Key' must be 16 bytes in base64");
  }
  if (!HasToken(request.Header("sec-websocket-protocol"), subprotocol, /*ignore_case=*/false)) {
    return InvalidArgument("header 'Sec-WebSocket-Protocol' must offer '" +
                           std::string(subprotocol) + "' (offered: '" +
                           request.Header("sec-websocket-protocol") + "')");
  }
  return Status::Ok();
}

}  // namespace trainyard::server
