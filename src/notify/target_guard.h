// The SSRF guard of webhooks: a webhook may only POST to public addresses. A target whose host
// resolves to a loopback, link-local (169.254.0.0/16, fe80::/10), cloud metadata
// (169.254.169.254, fd00:ec2::254), unspecified, private (10/8, 172.16/12, 192.168/16,
// 100.64/10, fc00::/7) or multicast address is refused, when the webhook is made and again at
// every delivery (which then connects only to the addresses checked), unless the server allows
// private targets explicitly (--webhook-allow-private).
//
// Thread-safe: stateless.
#pragma once

#include <sys/socket.h>

#include <string>
#include <vector>

#include "common/status.h"

namespace trainyard::notify {

struct WebhookTarget {
  std::string scheme;  // "http" | "https"
  std::string host;    // as in the URL, without IPv6 brackets
  int port = 0;        // the URL's, else the scheme's default
};

// InvalidArgument naming the field 'url' when `url` is not an absolute http(s) URL with a host
// (user names and passwords in it are refused: they would travel in the clear in listings).
Result<WebhookTarget> ParseWebhookUrl(const std::string& url);

// Why `address` (AF_INET or AF_INET6) may not be a webhook's target ("loopback", "link-local",
// "cloud metadata", "private", "unspecified", "multicast or reserved"), or "" when it may.
std::string ForbiddenAddressReason(const sockaddr* address);

// Resolves the target's host to its numeric addresses ("203.0.113.7", "2001:db8::1"). Unless
// `allow_private`, PermissionDenied naming the host, the address and why when any address is
// forbidden (a name that resolves to one public and one private address is refused whole).
// Unavailable when the name does not resolve.
Result<std::vector<std::string>> ResolveTarget(const WebhookTarget& target, bool allow_private);

}  // namespace trainyard::notify
