// What a webhook may be: the event types trainyard delivers, and the check of a create request
// (POST /api/v1/webhooks: url, events, secret, format), field by field.
//
// Thread-safe: stateless.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "metadata/metadata_store.h"

namespace trainyard::notify {

// job.completed, job.failed, job.stopped, sweep.completed, sweep.best_job.
const std::vector<std::string>& WebhookEventTypes();

struct CheckedWebhook {
  metadata::WebhookRecord record;  // id and created_at left for the caller
  bool secret_generated = false;   // no secret was given: one was made (shown once)
};

// Checks a create request. InvalidArgument naming the field ('url', 'events', 'secret',
// 'format', or an unknown one) and the reason, including a target whose host does not resolve
// or resolves to an address the SSRF guard refuses (unless `allow_private`).
Result<CheckedWebhook> CheckWebhookRequest(const nlohmann::json& body, bool allow_private);

}  // namespace trainyard::notify
