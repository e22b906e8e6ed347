// /api/v1/sweeps.
#include "server/api/api_server.h"
#include "server/api/http_helpers.h"
#include "server/api/representations.h"

namespace trainyard::server {
using nlohmann::json;

namespace {

// Counts by state, overall progress and the best job by the objective, over all the jobs.
Result<json> SweepDetails(metadata::MetadataStore& metadata, const metadata::SweepRecord& sweep) {
  json counts = json::object();
  TY_ASSIGN_OR_RETURN(auto by_status, metadata.CountJobsByStatus(sweep.id));
  int64_t total = 0;
  for (const auto& [status, count] : by_status) {
    counts[status] = count;
    total += count;
  }
  std::optional<std::string> metric;
  bool maximize = true;
  if (sweep.spec.contains("objective")) {
    metric = sweep.spec["objective"].value("metric", "");
    maximize = sweep.spec["objective"].value("goal", "max") == "max";
  }
  double done = 0;
  json best = nullptr;
  double best_value = 0;
  metadata::JobFilter filter;
  filter.sweep_id = sweep.id;
  filter.limit = 1000;
  while (true) {
    TY_ASSIGN_OR_RETURN(metadata::JobPage page, metadata.ListJobs(filter));
    for (const metadata::JobRecord& job : page.jobs) {
      if (job.ended_at) {
        done += 1;
      } else if (job.progress.contains("progress") && job.progress["progress"].is_number()) {
        done += std::clamp(job.progress["progress"].get<double>(), 0.0, 1.0);
      }
      if (!metric) continue;
      auto value = job.metrics.find(*metric);
      if (value == job.metrics.end()) continue;
      if (best.is_null() || (maximize ? value->second > best_value : value->second < best_value)) {
        best_value = value->second;
        best = {{"name", job.name},
                {"metric", *metric},
                {"value", value->second},
                {"hyperparameters", job.hyperparameters}};
      }
    }
    if (!page.truncated || page.jobs.empty()) break;
    filter.after_queue_position = page.jobs.back().queue_position;
  }
  return json{{"job_count", total},
              {"counts", counts},
              {"progress", total ? done / static_cast<double>(total) : 0.0},
              {"best_job", best}};
}

}  // namespace

void ApiServer::CreateSweep(const HttpRequest& request, BodyReader& body,
                            ResponseWriter& response) {
  auto document = ReadJsonBody(body, options_.max_json_bytes, options_.max_json_depth);
  if (!document.ok()) return WriteError(response, document.status());
  if (std::string key = request.Header("idempotency-key");
      !key.empty() && document->is_object() && !document->contains("idempotency_key")) {
    (*document)["idempotency_key"] = key;
  }
  auto parsed = control::ParseSweepRequest(*document);
  if (!parsed.ok()) return WriteError(response, parsed.status());
  auto created = scheduler_.CreateSweep(*parsed);
  if (!created.ok()) {
    // A missing dataset is the request's fault: 400 naming the field, not 404 for the URL.
    int http_status = created.status().code() == StatusCode::kNotFound ? 400 : 0;
    return WriteError(response, created.status(), http_status);
  }
  json answer = SweepJson(created->sweep);
  answer["job_count"] = created->job_count;
  if (auto details = SweepDetails(metadata_, created->sweep); details.ok()) answer.update(*details);
  response.SetHeader("Location", "/api/v1/sweeps/" + created->sweep.id);
  WriteJson(response, created->created ? 201 : 200, answer);
}

void ApiServer::ListSweeps(ResponseWriter& response) {
  auto sweeps = metadata_.ListSweeps();
  if (!sweeps.ok()) return WriteError(response, sweeps.status());
  json list = json::array();
  for (const auto& sweep : *sweeps) {
    json entry = SweepJson(sweep);
    auto counts = metadata_.CountJobsByStatus(sweep.id);
    if (!counts.ok()) return WriteError(response, counts.status());
    int64_t total = 0;
    for (const auto& [status, count] : *counts) total += count;
    entry["counts"] = *counts;
    entry["job_count"] = total;
    list.push_back(std::move(entry));
  }
  WriteJson(response, 200, {{"sweeps", list}});
}

void ApiServer::GetSweep(const std::string& id, ResponseWriter& response) {
  auto sweep = metadata_.GetSweep(id);
  if (!sweep.ok()) return WriteError(response, sweep.status());
  auto details = SweepDetails(metadata_, *sweep);
  if (!details.ok()) return WriteError(response, details.status());
  json answer = SweepJson(*sweep);
  answer.update(*details);
  WriteJson(response, 200, answer);
}

void ApiServer::StopSweep(const std::string& id, ResponseWriter& response) {
  if (Status stopped = scheduler_.StopSweep(id); !stopped.ok()) {
    return WriteError(response, stopped);
  }
  GetSweep(id, response);
}

void ApiServer::RetrySweep(const std::string& id, ResponseWriter& response) {
  if (auto sweep = metadata_.GetSweep(id); !sweep.ok()) return WriteError(response, sweep.status());
  auto retried = scheduler_.RetrySweep(id);
  if (!retried.ok()) return WriteError(response, retried.status());
  WriteJson(response, 200, {{"retried", *retried}});
}

}  // namespace trainyard::server
