// One webhook POST: the body signed with the webhook's secret, sent with libcurl to the
// addresses the SSRF guard checked (target_guard.h), within a timeout. No redirect is followed
// and no proxy is used, so that the request goes only where it was checked to go.
//
// Headers (docs/webhooks.md):
//   X-Trainyard-Event: <type>    X-Trainyard-Delivery: <delivery id>
//   X-Trainyard-Timestamp: <unix seconds>
//   X-Trainyard-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the secret>
//
// Thread-safe: each call uses its own curl handle.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "common/status.h"

namespace trainyard::notify {

// "sha256=<hex>" of "<timestamp>.<body>" with `secret`.
std::string SignatureHeader(const std::string& secret, const std::string& timestamp,
                            const std::string& body);

struct WebhookPost {
  std::string url;
  std::string body;  // JSON
  std::string event_type;
  std::string delivery_id;
  std::string secret;
  std::string timestamp;  // unix seconds, as text
};

struct WebhookSenderOptions {
  bool allow_private = false;  // see target_guard.h
  std::chrono::milliseconds timeout{10'000};
};

struct SendOutcome {
  std::optional<int> response_code;  // none when no answer came
  int64_t latency_ms = 0;
  std::string error;  // empty on a 2xx answer; else why it failed (never the secret)
  bool ok() const { return error.empty(); }
};

SendOutcome SendWebhook(const WebhookPost& post, const WebhookSenderOptions& options);

}  // namespace trainyard::notify
