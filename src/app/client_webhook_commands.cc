// `trainyard webhook ...` (docs/webhooks.md).
#include "app/client_command_runners.h"
#include "app/client_format.h"

namespace trainyard::app {

namespace {

using client::ApiClient;
using nlohmann::json;

std::string WebhookPath(const std::string& id) {
  return "/api/v1/webhooks/" + ApiClient::Escape(id);
}

std::string Events(const json& webhook) {
  std::string text;
  for (const json& event : webhook.value("events", json::array())) {
    text += (text.empty() ? "" : ",") + event.get<std::string>();
  }
  return text;
}

Status CreateWebhook(const ClientContext& context) {
  const ClientWebhookFlags& flags = context.state.webhook;
  json body = {{"url", flags.url}};
  if (!flags.events.empty()) body["events"] = flags.events;
  if (!flags.secret.empty()) body["secret"] = flags.secret;
  if (!flags.format.empty()) body["format"] = flags.format;
  TY_ASSIGN_OR_RETURN(json webhook, context.api.Post("/api/v1/webhooks", body));
  if (context.json_output) {
    context.PrintJson(webhook);
    return Status::Ok();
  }
  std::string text = Cell(webhook, "id") + "\n";
  if (webhook.contains("secret")) {
    text += "secret (shown only this once; receivers check signatures with it): " +
            webhook["secret"].get<std::string>() + "\n";
  }
  context.Print(text);
  return Status::Ok();
}

Status ListWebhooks(const ClientContext& context) {
  TY_ASSIGN_OR_RETURN(json answer, context.api.Get("/api/v1/webhooks"));
  if (context.json_output) {
    context.PrintJson(answer);
    return Status::Ok();
  }
  TextTable table({"ID", "FORMAT", "EVENTS", "URL", "CREATED"});
  for (const json& webhook : answer.value("webhooks", json::array())) {
    table.AddRow({Cell(webhook, "id"), Cell(webhook, "format"), Events(webhook),
                  Cell(webhook, "url"), Cell(webhook, "created_at")});
  }
  context.Print(table.ToString());
  return Status::Ok();
}

Status Deliveries(const ClientContext& context) {
  const ClientWebhookFlags& flags = context.state.webhook;
  std::string path = WebhookPath(flags.id) + "/deliveries";
  if (flags.limit > 0) path += "?limit=" + std::to_string(flags.limit);
  TY_ASSIGN_OR_RETURN(json answer, context.api.Get(path));
  if (context.json_output) {
    context.PrintJson(answer);
    return Status::Ok();
  }
  TextTable table(
      {"ID", "EVENT", "JOB", "STATUS", "TRIES", "CODE", "LATENCY", "NEXT TRY", "ERROR"});
  for (const json& delivery : answer.value("deliveries", json::array())) {
    std::string latency = delivery.contains("latency_ms") && delivery["latency_ms"].is_number()
                              ? std::to_string(delivery["latency_ms"].get<int64_t>()) + " ms"
                              : "-";
    table.AddRow({Cell(delivery, "id"), Cell(delivery, "event_type"), Cell(delivery, "job_name"),
                  Cell(delivery, "status"), Cell(delivery, "attempts"),
                  Cell(delivery, "response_code"), latency, Cell(delivery, "next_attempt_at"),
                  Cell(delivery, "last_error")});
  }
  context.Print(table.ToString());
  return Status::Ok();
}

}  // namespace

Status RunWebhookCommand(const std::string& command, const ClientContext& context) {
  const ClientWebhookFlags& flags = context.state.webhook;
  if (command == "webhook create") return CreateWebhook(context);
  if (command == "webhook list") return ListWebhooks(context);
  if (command == "webhook deliveries") return Deliveries(context);
  if (command == "webhook delete") {
    TY_ASSIGN_OR_RETURN(json answer, context.api.Delete(WebhookPath(flags.id)));
    context.json_output ? context.PrintJson(answer)
                        : context.Print("deleted webhook " + flags.id + "\n");
    return Status::Ok();
  }
  if (command == "webhook redeliver") {
    TY_ASSIGN_OR_RETURN(json delivery,
                        context.api.Post(WebhookPath(flags.id) + "/deliveries/" +
                                         ApiClient::Escape(flags.delivery_id) + "/redeliver"));
    context.json_output ? context.PrintJson(delivery)
                        : context.Print("delivery " + flags.delivery_id + " will be sent again (" +
                                        Cell(delivery, "status") + ")\n");
    return Status::Ok();
  }
  return Internal("unknown command '" + command + "'");
}

}  // namespace trainyard::app
