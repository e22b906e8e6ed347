#include "server/api/api_operations.h"

#include <algorithm>
#include <set>

#include "control/sweep_request.h"
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
  // Jobs that early stopping ended (Stopped with a stop_reason): a search that worked, which
  // `trainyard sweep wait` tells apart from a stop by hand.
  int64_t stopped_early = 0;
  json best = nullptr;
  double best_value = 0;
  metadata::JobFilter filter;
  filter.sweep_id = sweep.id;
  filter.limit = 1000;
  while (true) {
    TY_ASSIGN_OR_RETURN(metadata::JobPage page, metadata.ListJobs(filter));
    for (const metadata::JobRecord& job : page.jobs) {
      if (job.status == core::JobStatus::kStopped && !job.stop_reason.empty()) stopped_early += 1;
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
              {"stopped_early", stopped_early},
              {"progress", total ? done / static_cast<double>(total) : 0.0},
              {"best_job", best}};
}

}  // namespace

Result<json> SweepDocument(metadata::MetadataStore& metadata, const metadata::SweepRecord& sweep) {
  TY_ASSIGN_OR_RETURN(json details, SweepDetails(metadata, sweep));
  json document = SweepJson(sweep);
  document.update(details);
  return document;
}

Result<json> GetSweepDocument(metadata::MetadataStore& metadata, const std::string& id) {
  TY_ASSIGN_OR_RETURN(metadata::SweepRecord sweep, metadata.GetSweep(id));
  return SweepDocument(metadata, sweep);
}

Result<json> ListSweepSummaries(metadata::MetadataStore& metadata) {
  TY_ASSIGN_OR_RETURN(auto sweeps, metadata.ListSweeps());
  json list = json::array();
  for (const auto& sweep : sweeps) {
    json entry = SweepJson(sweep);
    TY_ASSIGN_OR_RETURN(auto counts, metadata.CountJobsByStatus(sweep.id));
    int64_t total = 0;
    for (const auto& [status, count] : counts) total += count;
    entry["counts"] = counts;
    entry["job_count"] = total;
    list.push_back(std::move(entry));
  }
  return list;
}

Result<CreatedSweepDocument> CreateSweep(metadata::MetadataStore& metadata,
                                         control::Scheduler& scheduler, const json& body) {
  TY_ASSIGN_OR_RETURN(control::SweepRequest request, control::ParseSweepRequest(body));
  TY_ASSIGN_OR_RETURN(control::CreatedSweep created, scheduler.CreateSweep(request));
  CreatedSweepDocument answer{SweepJson(created.sweep), created.sweep.id, created.created};
  answer.sweep["job_count"] = created.job_count;
  // The sweep exists whatever happens now: its counts are left out rather than the answer
  // failing (they are read again by the next GET).
  if (auto details = SweepDetails(metadata, created.sweep); details.ok()) {
    answer.sweep.update(*details);
  }
  return answer;
}

Result<json> StopSweep(metadata::MetadataStore& metadata, control::Scheduler& scheduler,
                       const std::string& id) {
  TY_RETURN_IF_ERROR(scheduler.StopSweep(id));
  return GetSweepDocument(metadata, id);
}

Result<std::vector<std::string>> RetrySweep(metadata::MetadataStore& metadata,
                                            control::Scheduler& scheduler, const std::string& id) {
  TY_RETURN_IF_ERROR(metadata.GetSweep(id).status());
  return scheduler.RetrySweep(id);
}

Result<json> StopJob(metadata::MetadataStore& metadata, control::Scheduler& scheduler,
                     const std::string& name) {
  TY_RETURN_IF_ERROR(scheduler.StopJob(name));
  TY_ASSIGN_OR_RETURN(metadata::JobRecord job, metadata.GetJob(name));
  return JobJson(job);
}

Result<JobPageDocument> ListJobs(metadata::MetadataStore& metadata, const JobListing& listing) {
  static const std::set<std::string> statuses = {"",          "Queued", "InProgress", "Stopping",
                                                 "Completed", "Failed", "Stopped"};
  if (!statuses.count(listing.status)) {
    return control::FieldError(listing.status_field, "'" + listing.status +
                                                         "' is not one of Queued, InProgress, "
                                                         "Stopping, Completed, Failed, Stopped");
  }
  if (listing.limit < 1 || listing.limit > 1000) {
    return control::FieldError(listing.limit_field, "must be an integer from 1 to 1000");
  }
  metadata::JobFilter filter;
  filter.sweep_id = listing.sweep_id;
  filter.status = listing.status;
  filter.limit = static_cast<size_t>(listing.limit);
  filter.after_queue_position = listing.after;
  TY_ASSIGN_OR_RETURN(metadata::JobPage page, metadata.ListJobs(filter));
  JobPageDocument document{json::array(), {}, std::nullopt};
  for (const auto& job : page.jobs) {
    document.jobs.push_back(JobJson(job));
    document.cursors.push_back(std::to_string(job.queue_position));
  }
  if (page.truncated && !page.jobs.empty()) {
    document.next_page_token = std::to_string(page.jobs.back().queue_position);
  }
  return document;
}

}  // namespace trainyard::server
