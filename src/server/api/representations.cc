#include "server/api/representations.h"

#include "core/job_status_tracker.h"

namespace trainyard::server {

using nlohmann::json;

json DatasetJson(const metadata::DatasetRecord& dataset) {
  return {{"id", dataset.id},
          {"name", dataset.name},
          {"kind", dataset.kind},
          {"filename", dataset.filename},
          {"size", dataset.size},
          {"sha256", dataset.sha256_hex},
          {"content_type", dataset.content_type},
          {"created_at", FormatIso8601(dataset.created_at)}};
}

json JobJson(const metadata::JobRecord& job) {
  json hyperparameters = job.hyperparameters;
  json metrics = json::object();
  for (const auto& [name, value] : job.metrics) metrics[name] = value;
  json body = {{"name", job.name},
               {"sweep_id", job.sweep_id},
               {"index", job.index},
               {"executor", job.executor},
               {"hyperparameters", hyperparameters},
               {"queued", job.queued},
               {"status", core::ToString(job.status)},
               {"secondary_status", core::ToString(job.secondary_status)},
               {"transitions", core::TransitionsToJson(job.transitions)},
               {"failure_reason", job.failure_reason},
               {"stop_reason", job.stop_reason},
               {"exit_code", job.exit_code ? json(*job.exit_code) : json(nullptr)},
               {"image", job.image},
               {"image_digest", job.image_digest},
               {"progress", job.progress},
               {"metrics", metrics},
               {"attempt", job.attempt},
               {"created_at", FormatIso8601(job.created_at)},
               {"started_at", job.started_at ? json(FormatIso8601(*job.started_at)) : json()},
               {"ended_at", job.ended_at ? json(FormatIso8601(*job.ended_at)) : json()},
               {"duration_seconds", nullptr}};
  if (job.started_at) {
    TimePoint end = job.ended_at.value_or(std::chrono::system_clock::now());
    body["duration_seconds"] = std::chrono::duration<double>(end - *job.started_at).count();
  }
  return body;
}

json SweepJson(const metadata::SweepRecord& sweep) {
  return {{"id", sweep.id},
          {"name", sweep.name},
          {"created_at", FormatIso8601(sweep.created_at)},
          {"stop_requested", sweep.stop_requested},
          {"spec", sweep.spec}};
}

json MetricPointJson(const metadata::MetricPoint& point) {
  return {{"name", point.name},
          {"value", point.value},
          {"step", point.step ? json(*point.step) : json()},
          {"timestamp", FormatIso8601(point.timestamp)}};
}

}  // namespace trainyard::server
