#include "notify/webhook_sender.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>
#include <vector>

#include "aws/crypto.h"
#include "notify/target_guard.h"

namespace trainyard::notify {
namespace {

struct Guard {
  bool allow_private = false;
  std::string refused;  // why the last refused connection was refused
};

// Runs for every socket curl opens: the address it is about to connect to is checked again, so
// that nothing (a second address, a changed DNS answer) reaches a forbidden one.
curl_socket_t OpenCheckedSocket(void* data, curlsocktype, curl_sockaddr* address) {
  auto* guard = static_cast<Guard*>(data);
  if (!guard->allow_private) {
    std::string reason = ForbiddenAddressReason(&address->addr);
    if (!reason.empty()) {
      guard->refused = "refused to connect to a " + reason + " address";
      return CURL_SOCKET_BAD;
    }
  }
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

size_t Discard(char*, size_t size, size_t count, void*) {
  return size * count;
}

}  // namespace

std::string SignatureHeader(const std::string& secret, const std::string& timestamp,
                            const std::string& body) {
  return "sha256=" + aws::HexEncode(aws::HmacSha256(secret, timestamp + "." + body));
}

SendOutcome SendWebhook(const WebhookPost& post, const WebhookSenderOptions& options) {
  SendOutcome outcome;
  auto start = std::chrono::steady_clock::now();
  auto finish = [&](std::string error) {
    outcome.error = std::move(error);
    outcome.latency_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - start)
                             .count();
    return outcome;
  };
  auto target = ParseWebhookUrl(post.url);
  if (!target.ok()) return finish(target.status().message());
  auto addresses = ResolveTarget(*target, options.allow_private);
  if (!addresses.ok()) return finish(addresses.status().message());

  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return finish("curl_easy_init failed");
  // Connect only to the addresses checked above (host:port:addr,addr; IPv6 in brackets).
  std::string pinned = target->host + ":" + std::to_string(target->port) + ":";
  for (size_t i = 0; i < addresses->size(); ++i) {
    const std::string& address = (*addresses)[i];
    pinned +=
        (i ? "," : "") + (address.find(':') != std::string::npos ? "[" + address + "]" : address);
  }
  // An IP literal needs no pinning (nothing is resolved), and CURLOPT_RESOLVE cannot spell an
  // IPv6 one as a host; the socket callback checks it either way.
  in6_addr literal{};
  bool is_literal = inet_pton(AF_INET, target->host.c_str(), &literal) == 1 ||
                    inet_pton(AF_INET6, target->host.c_str(), &literal) == 1;
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> resolve(
      is_literal ? nullptr : curl_slist_append(nullptr, pinned.c_str()), curl_slist_free_all);
  std::vector<std::string> header_lines = {
      "Content-Type: application/json",
      "User-Agent: trainyard-webhooks",
      "X-Trainyard-Event: " + post.event_type,
      "X-Trainyard-Delivery: " + post.delivery_id,
      "X-Trainyard-Timestamp: " + post.timestamp,
      "X-Trainyard-Signature: " + SignatureHeader(post.secret, post.timestamp, post.body),
      "Expect:"};
  curl_slist* raw_headers = nullptr;
  for (const std::string& line : header_lines)
    raw_headers = curl_slist_append(raw_headers, line.c_str());
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(raw_headers,
                                                                      curl_slist_free_all);
  Guard guard{options.allow_private, ""};
  char error_text[CURL_ERROR_SIZE] = "";
  CURL* handle = curl.get();
  curl_easy_setopt(handle, CURLOPT_URL, post.url.c_str());
  curl_easy_setopt(handle, CURLOPT_RESOLVE, resolve.get());
  curl_easy_setopt(handle, CURLOPT_OPENSOCKETFUNCTION, OpenCheckedSocket);
  curl_easy_setopt(handle, CURLOPT_OPENSOCKETDATA, &guard);
  curl_easy_setopt(handle, CURLOPT_PROXY, "");
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_POST, 1L);
  curl_easy_setopt(handle, CURLOPT_POSTFIELDS, post.body.data());
  curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(post.body.size()));
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout.count()));
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.timeout.count()));
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, Discard);
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_text);
  CURLcode result = curl_easy_perform(handle);
  if (result != CURLE_OK) {
    if (!guard.refused.empty()) return finish(guard.refused);
    return finish(std::string("no answer: ") +
                  (error_text[0] ? error_text : curl_easy_strerror(result)));
  }
  long code = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &code);
  outcome.response_code = static_cast<int>(code);
  if (code < 200 || code > 299) return finish("answered " + std::to_string(code));
  return finish("");
}

}  // namespace trainyard::notify
