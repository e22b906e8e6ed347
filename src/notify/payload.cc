#include "notify/payload.h"

#include <cmath>
#include <sstream>

namespace trainyard::notify {
namespace {

using nlohmann::json;

std::string SlackEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Number(const json& value) {
  if (!value.is_number()) return value.dump();
  std::ostringstream out;
  out.precision(6);
  out << value.get<double>();
  return out.str();
}

std::string MetricsText(const json& metrics) {
  std::string text;
  if (!metrics.is_object()) return text;
  for (const auto& [name, value] : metrics.items()) {
    text += (text.empty() ? "" : ", ") + SlackEscape(name) + "=" + Number(value);
  }
  return text;
}

}  // namespace

json JobDocument(const metadata::JobRecord& job, const LinkSettings& links, TimePoint now) {
  json metrics = json::object();
  for (const auto& [name, value] : job.metrics) {
    metrics[name] = std::isfinite(value) ? json(value) : json(nullptr);
  }
  json document = {{"name", job.name},
                   {"sweep_id", job.sweep_id},
                   {"status", core::ToString(job.status)},
                   {"failure_reason", job.failure_reason},
                   {"exit_code", job.exit_code ? json(*job.exit_code) : json(nullptr)},
                   {"attempt", job.attempt},
                   {"hyperparameters", job.hyperparameters},
                   {"metrics", metrics},
                   {"started_at", job.started_at ? json(FormatIso8601(*job.started_at)) : json()},
                   {"ended_at", job.ended_at ? json(FormatIso8601(*job.ended_at)) : json()}};
  if (links.signer != nullptr) {
    TimePoint expires = now + links.lifetime;
    json urls = {{"expires_at", FormatIso8601(expires)}};
    for (const char* artifact : {"model", "predictions", "log", "output"}) {
      urls[artifact] = links.base_url + "/api/v1/jobs/" + job.name + "/artifacts/" + artifact +
                       "?" + links.signer->SignQuery(job.name, artifact, expires);
    }
    document["links"] = urls;
  }
  return document;
}

json SweepDocument(const metadata::SweepRecord& sweep,
                   const std::map<std::string, int64_t>& counts) {
  int64_t total = 0;
  for (const auto& [status, count] : counts) total += count;
  json document = {
      {"id", sweep.id}, {"name", sweep.name}, {"job_count", total}, {"counts", counts}};
  if (sweep.spec.contains("objective") && sweep.spec["objective"].is_object()) {
    document["objective"] = sweep.spec["objective"];
  }
  return document;
}

json SlackMessage(const json& payload) {
  const std::string type = payload.value("type", "");
  const json job = payload.value("job", json::object());
  const json sweep = payload.value("sweep", json::object());
  const std::string job_name = SlackEscape(job.value("name", ""));
  const std::string sweep_name = SlackEscape(sweep.value("name", sweep.value("id", "")));
  std::string summary;
  if (type == "job.completed") {
    summary = "Job " + job_name + " completed (sweep " + sweep_name + ")";
  } else if (type == "job.failed") {
    summary = "Job " + job_name + " failed (sweep " + sweep_name + ")";
  } else if (type == "job.stopped") {
    summary = "Job " + job_name + " was stopped (sweep " + sweep_name + ")";
  } else if (type == "sweep.completed") {
    summary = "Sweep " + sweep_name + " ended: every job has finished";
  } else if (type == "sweep.best_job") {
    summary = "Sweep " + sweep_name + " has a new best job: " + job_name;
  } else {
    summary = "trainyard: " + SlackEscape(type);
  }
  json fields = json::array();
  auto field = [&fields](const std::string& title, const std::string& value) {
    if (!value.empty())
      fields.push_back({{"type", "mrkdwn"}, {"text", "*" + title + "*\n" + value}});
  };
  if (!job.empty()) {
    field("Status", SlackEscape(job.value("status", "")));
    field("Metrics", MetricsText(job.value("metrics", json::object())));
    if (!job.value("failure_reason", "").empty()) {
      field("Failure", SlackEscape(job.value("failure_reason", "")));
    }
  }
  if (payload.contains("objective") && payload["objective"].is_object()) {
    const json& objective = payload["objective"];
    field("Objective", SlackEscape(objective.value("metric", "")) + " (" +
                           objective.value("goal", "") +
                           ") = " + Number(objective.value("value", json())));
  }
  if (sweep.contains("counts") && sweep["counts"].is_object()) {
    std::string counts;
    for (const auto& [status, count] : sweep["counts"].items()) {
      counts += (counts.empty() ? "" : ", ") + status + ": " + Number(count);
    }
    field("Jobs", counts);
  }
  json blocks = json::array(
      {{{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", "*" + summary + "*"}}}}});
  if (!fields.empty()) blocks.push_back({{"type", "section"}, {"fields", fields}});
  json links = job.value("links", json::object());
  if (links.is_object() && links.contains("model")) {
    std::string text;
    for (const char* artifact : {"model", "predictions", "log"}) {
      text += std::string(text.empty() ? "" : " · ") + "<" + links.value(artifact, "") + "|" +
              artifact + ">";
    }
    text += " (links expire " + links.value("expires_at", "") + ")";
    blocks.push_back(
        {{"type", "context"}, {"elements", json::array({{{"type", "mrkdwn"}, {"text", text}}})}});
  }
  return {{"text", summary}, {"blocks", blocks}};
}

}  // namespace trainyard::notify
