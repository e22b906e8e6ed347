#include "notify/target_guard.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>

#include <cstring>
#include <memory>

#include "control/sweep_request.h"

namespace trainyard::notify {
namespace {

std::string IPv4Reason(uint32_t address) {  // host byte order
  auto in = [address](uint32_t network, int bits) {
    uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
    return (address & mask) == network;
  };
  if (in(0x00000000, 8)) return "unspecified";
  if (in(0x7f000000, 8)) return "loopback";
  if (address == 0xa9fea9fe) return "cloud metadata";  // 169.254.169.254
  if (in(0xa9fe0000, 16)) return "link-local";
  if (in(0x0a000000, 8) || in(0xac100000, 12) || in(0xc0a80000, 16) || in(0x64400000, 10)) {
    return "private";
  }
  if (in(0xe0000000, 4) || in(0xf0000000, 4)) return "multicast or reserved";
  return "";
}

std::string IPv6Reason(const in6_addr& address) {
  const uint8_t* b = address.s6_addr;
  static const uint8_t kUnspecified[16] = {};
  static const uint8_t kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  static const uint8_t kMetadata[16] = {0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0,    0,
                                        0,    0,    0,    0,    0, 0, 0x02, 0x54};
  if (std::memcmp(b, kUnspecified, 16) == 0) return "unspecified";
  if (std::memcmp(b, kLoopback, 16) == 0) return "loopback";
  if (std::memcmp(b, kMetadata, 16) == 0) return "cloud metadata";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return "link-local";
  if ((b[0] & 0xfe) == 0xfc) return "private";
  if (b[0] == 0xff) return "multicast or reserved";
  // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) addresses reach IPv4 hosts.
  bool mapped = std::memcmp(b, kUnspecified, 10) == 0 && b[10] == 0xff && b[11] == 0xff;
  bool compatible = std::memcmp(b, kUnspecified, 12) == 0;
  if (mapped || compatible) {
    uint32_t v4 =
        (uint32_t{b[12]} << 24) | (uint32_t{b[13]} << 16) | (uint32_t{b[14]} << 8) | b[15];
    return IPv4Reason(v4);
  }
  return "";
}

std::string NumericAddress(const sockaddr* address) {
  char text[INET6_ADDRSTRLEN] = "";
  if (address->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, text, sizeof text);
  } else if (address->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr, text,
              sizeof text);
  }
  return text;
}

struct UrlHandle {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};

std::string UrlPart(CURLU* url, CURLUPart part, unsigned flags = 0) {
  char* value = nullptr;
  if (curl_url_get(url, part, &value, flags) != CURLUE_OK || value == nullptr) return "";
  std::string text = value;
  curl_free(value);
  return text;
}

}  // namespace

Result<WebhookTarget> ParseWebhookUrl(const std::string& url) {
  using control::FieldError;
  if (url.empty()) return FieldError("url", "must not be empty");
  if (url.size() > 2048) return FieldError("url", "longer than 2048 characters");
  std::unique_ptr<CURLU, UrlHandle> handle(curl_url());
  if (!handle) return Internal("curl_url: out of memory");
  if (curl_url_set(handle.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return FieldError("url", "'" + url + "' is not an absolute URL (https://host/path)");
  }
  WebhookTarget target;
  target.scheme = UrlPart(handle.get(), CURLUPART_SCHEME);
  if (target.scheme != "http" && target.scheme != "https") {
    return FieldError("url", "the scheme must be http or https, not '" + target.scheme + "'");
  }
  if (!UrlPart(handle.get(), CURLUPART_USER).empty() ||
      !UrlPart(handle.get(), CURLUPART_PASSWORD).empty()) {
    return FieldError("url", "must not hold a user name or password");
  }
  target.host = UrlPart(handle.get(), CURLUPART_HOST);
  if (target.host.size() > 2 && target.host.front() == '[' && target.host.back() == ']') {
    target.host = target.host.substr(1, target.host.size() - 2);
  }
  if (target.host.empty()) return FieldError("url", "has no host");
  std::string port = UrlPart(handle.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  target.port = port.empty() ? 0 : std::atoi(port.c_str());
  if (target.port <= 0 || target.port > 65535) return FieldError("url", "has no valid port");
  return target;
}

std::string ForbiddenAddressReason(const sockaddr* address) {
  if (address->sa_family == AF_INET) {
    return IPv4Reason(ntohl(reinterpret_cast<const sockaddr_in*>(address)->sin_addr.s_addr));
  }
  if (address->sa_family == AF_INET6) {
    return IPv6Reason(reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr);
  }
  return "not an IP address";
}

Result<std::vector<std::string>> ResolveTarget(const WebhookTarget& target, bool allow_private) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int error = getaddrinfo(target.host.c_str(), std::to_string(target.port).c_str(), &hints, &found);
  if (error != 0) {
    return Status(StatusCode::kUnavailable,
                  "host '" + target.host + "' does not resolve: " + gai_strerror(error));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(found, freeaddrinfo);
  std::vector<std::string> addresses;
  for (const addrinfo* entry = found; entry != nullptr; entry = entry->ai_next) {
    if (entry->ai_family != AF_INET && entry->ai_family != AF_INET6) continue;
    std::string numeric = NumericAddress(entry->ai_addr);
    if (std::string reason = ForbiddenAddressReason(entry->ai_addr);
        !reason.empty() && !allow_private) {
      return Status(StatusCode::kPermissionDenied,
                    "host '" + target.host + "' resolves to " + numeric + ", a " + reason +
                        " address: refused unless the server allows private webhook targets "
                        "(--webhook-allow-private)");
    }
    bool seen = false;
    for (const std::string& known : addresses) seen = seen || known == numeric;
    if (!seen) addresses.push_back(numeric);
  }
  if (addresses.empty()) {
    return Status(StatusCode::kUnavailable, "host '" + target.host + "' has no IP address");
  }
  return addresses;
}

}  // namespace trainyard::notify
