// /api/v1/webhooks (docs/webhooks.md), and the signed links of job artifacts.
#include <chrono>

#include "common/log.h"
#include "control/job_tokens.h"
#include "notify/webhook_request.h"
#include "server/api/api_server.h"
#include "server/api/http_helpers.h"

namespace trainyard::server {
using nlohmann::json;

namespace {

// The secret is write-only: never in an answer after creation, never in the log.
json WebhookJson(const metadata::WebhookRecord& webhook) {
  return {{"id", webhook.id},
          {"url", webhook.url},
          {"events", webhook.events},
          {"format", webhook.format},
          {"created_at", FormatIso8601(webhook.created_at)}};
}

json OptionalTime(const std::optional<TimePoint>& time) {
  return time ? json(FormatIso8601(*time)) : json(nullptr);
}

json DeliveryJson(const metadata::DeliveryRecord& delivery) {
  return {{"id", delivery.id},
          {"webhook_id", delivery.webhook_id},
          {"event_type", delivery.event_type},
          {"event_id", delivery.event_id},
          {"sweep_id", delivery.sweep_id},
          {"job_name", delivery.job_name.empty() ? json(nullptr) : json(delivery.job_name)},
          {"status", delivery.status},
          {"attempts", delivery.attempts},
          {"response_code", delivery.response_code ? json(*delivery.response_code) : json(nullptr)},
          {"latency_ms", delivery.latency_ms ? json(*delivery.latency_ms) : json(nullptr)},
          {"last_error", delivery.last_error},
          {"next_attempt_at", OptionalTime(delivery.next_attempt_at)},
          {"retry_until", FormatIso8601(delivery.retry_until)},
          {"created_at", FormatIso8601(delivery.created_at)},
          {"updated_at", FormatIso8601(delivery.updated_at)}};
}

}  // namespace

void ApiServer::CreateWebhook(BodyReader& body, ResponseWriter& response) {
  auto document = ReadJsonBody(body, options_.max_json_bytes, options_.max_json_depth);
  if (!document.ok()) return WriteError(response, document.status());
  auto checked = notify::CheckWebhookRequest(*document, options_.webhook_allow_private);
  if (!checked.ok()) return WriteError(response, checked.status());
  metadata::WebhookRecord webhook = checked->record;
  webhook.id = "wh-" + control::RandomHex(16);
  webhook.created_at = std::chrono::system_clock::now();
  if (Status created = metadata_.CreateWebhook(webhook); !created.ok()) {
    return WriteError(response, created);
  }
  Logger("api").info("webhook={} created events={} format={}", webhook.id, webhook.events.size(),
                     webhook.format);
  json answer = WebhookJson(webhook);
  // A secret the server made is shown this once, so that the receiver can check signatures.
  if (checked->secret_generated) answer["secret"] = webhook.secret;
  WriteJson(response, 201, answer);
}

void ApiServer::ListWebhooks(ResponseWriter& response) {
  auto webhooks = metadata_.ListWebhooks();
  if (!webhooks.ok()) return WriteError(response, webhooks.status());
  json list = json::array();
  for (const metadata::WebhookRecord& webhook : *webhooks) list.push_back(WebhookJson(webhook));
  WriteJson(response, 200, {{"webhooks", list}});
}

void ApiServer::GetWebhook(const std::string& id, ResponseWriter& response) {
  auto webhook = metadata_.GetWebhook(id);
  if (!webhook.ok()) return WriteError(response, webhook.status());
  WriteJson(response, 200, WebhookJson(*webhook));
}

void ApiServer::DeleteWebhook(const std::string& id, ResponseWriter& response) {
  if (Status deleted = metadata_.DeleteWebhook(id); !deleted.ok()) {
    return WriteError(response, deleted);
  }
  Logger("api").info("webhook={} deleted with its deliveries", id);
  response.SetStatus(204);
}

void ApiServer::ListDeliveries(const HttpRequest& request, const std::string& id,
                               ResponseWriter& response) {
  size_t limit = 100;
  if (auto it = request.query.find("limit"); it != request.query.end()) {
    char* end = nullptr;
    long value = std::strtol(it->second.c_str(), &end, 10);
    if (it->second.empty() || *end != '\0' || value < 1 || value > 1000) {
      return WriteError(response,
                        control::FieldError("limit", "must be an integer from 1 to 1000"));
    }
    limit = static_cast<size_t>(value);
  }
  auto deliveries = metadata_.ListDeliveries(id, limit);
  if (!deliveries.ok()) return WriteError(response, deliveries.status());
  json list = json::array();
  for (const metadata::DeliveryRecord& delivery : *deliveries) {
    list.push_back(DeliveryJson(delivery));
  }
  WriteJson(response, 200, {{"deliveries", list}});
}

void ApiServer::Redeliver(const std::string& id, const std::string& delivery_id,
                          ResponseWriter& response) {
  auto delivery = metadata_.GetDelivery(delivery_id);
  if (!delivery.ok()) return WriteError(response, delivery.status());
  if (delivery->webhook_id != id) {
    return WriteError(
        response, NotFound("delivery '" + delivery_id + "' not found for webhook '" + id + "'"));
  }
  // Tried again at once, with a fresh retry window; the same id, so receivers see a repeat.
  TimePoint now = std::chrono::system_clock::now();
  delivery->status = "pending";
  delivery->next_attempt_at = now;
  delivery->retry_until = now + options_.webhook_retry_window;
  if (Status updated = metadata_.UpdateDelivery(*delivery); !updated.ok()) {
    return WriteError(response, updated);
  }
  if (options_.wake_webhooks) options_.wake_webhooks();
  Logger("api").info("webhook={} delivery={} redelivery requested", id, delivery_id);
  auto stored = metadata_.GetDelivery(delivery_id);
  WriteJson(response, 202, DeliveryJson(stored.ok() ? *stored : *delivery));
}

bool ApiServer::SignedArtifactLink(const HttpRequest& request, const Segments& path,
                                   ResponseWriter& response, bool* answered) {
  *answered = true;
  if (!options_.link_signer) {
    WriteError(response,
               Status(StatusCode::kPermissionDenied, "this server gives out no signed links"));
    return false;
  }
  auto field = [&request](const char* name) {
    auto it = request.query.find(name);
    return it == request.query.end() ? std::string() : it->second;
  };
  Status checked = options_.link_signer->Check(
      path[3], path[5], field("expires"), field("signature"), std::chrono::system_clock::now());
  if (!checked.ok()) {
    WriteError(response, checked);
    return false;
  }
  *answered = false;
  return true;
}

}  // namespace trainyard::server
