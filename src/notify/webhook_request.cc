#include "notify/webhook_request.h"

#include <algorithm>

#include "control/job_tokens.h"
#include "control/sweep_request.h"
#include "notify/target_guard.h"

namespace trainyard::notify {

using control::FieldError;
using nlohmann::json;

const std::vector<std::string>& WebhookEventTypes() {
  static const std::vector<std::string> kTypes = {"job.completed", "job.failed", "job.stopped",
                                                  "sweep.completed", "sweep.best_job"};
  return kTypes;
}

Result<CheckedWebhook> CheckWebhookRequest(const json& body, bool allow_private) {
  if (!body.is_object()) return InvalidArgument("the request body must be a JSON object");
  for (const auto& [key, value] : body.items()) {
    if (key != "url" && key != "events" && key != "secret" && key != "format") {
      return FieldError(key, "unknown field (known: url, events, secret, format)");
    }
  }
  CheckedWebhook checked;
  metadata::WebhookRecord& record = checked.record;
  if (!body.contains("url")) return FieldError("url", "is required");
  if (!body["url"].is_string()) return FieldError("url", "must be a string");
  record.url = body["url"].get<std::string>();
  TY_ASSIGN_OR_RETURN(WebhookTarget target, ParseWebhookUrl(record.url));
  // Refused at creation as at every delivery (the address may change in between).
  auto resolved = ResolveTarget(target, allow_private);
  if (!resolved.ok()) return FieldError("url", resolved.status().message());

  if (body.contains("events")) {
    const json& events = body["events"];
    if (!events.is_array() || events.empty()) {
      return FieldError("events", "must be a non-empty list of event types");
    }
    for (const json& event : events) {
      const auto& known = WebhookEventTypes();
      if (!event.is_string() ||
          std::find(known.begin(), known.end(), event.get<std::string>()) == known.end()) {
        return FieldError("events", event.dump() +
                                        " is not an event type (known: job.completed, "
                                        "job.failed, job.stopped, sweep.completed, "
                                        "sweep.best_job)");
      }
      if (std::find(record.events.begin(), record.events.end(), event.get<std::string>()) ==
          record.events.end()) {
        record.events.push_back(event.get<std::string>());
      }
    }
  } else {
    record.events = WebhookEventTypes();
  }

  if (body.contains("secret")) {
    if (!body["secret"].is_string()) return FieldError("secret", "must be a string");
    record.secret = body["secret"].get<std::string>();
    if (record.secret.size() < 16 || record.secret.size() > 256) {
      return FieldError("secret", "must be 16 to 256 characters long");
    }
  } else {
    record.secret = control::RandomHex(64);
    checked.secret_generated = true;
  }

  record.format = "json";
  if (body.contains("format")) {
    if (!body["format"].is_string() || (body["format"] != "json" && body["format"] != "slack")) {
      return FieldError("format", "must be \"json\" or \"slack\"");
    }
    record.format = body["format"].get<std::string>();
  }
  return checked;
}

}  // namespace trainyard::notify
