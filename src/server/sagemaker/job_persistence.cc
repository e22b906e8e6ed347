// The jobs of an older server, which kept each job's DescribeTrainingJob document as
// sagemaker/training-jobs/<job>/description.json and ran them itself, are imported into the
// scheduler's store at Start, once (a job already in the store is left as it is), so that an
// upgrade loses no job from List, Describe or the logs (training.log and log-times.json stay
// where they were). An ended job is recorded as it ended. A job that had not ended cannot be
// handed to the scheduler half-way (the older server kept no record of its steps): it is
// recorded Failed, saying so, and its code, if it still runs, is left to its executor.
#include <algorithm>
#include <sstream>

#include "common/log.h"
#include "control/job_tokens.h"
#include "server/sagemaker/job_records.h"
#include "server/sagemaker/training_jobs.h"

namespace trainyard::server::sagemaker {
using nlohmann::json;

namespace {

// The job's record, ended as it ended (or Failed at `now`, when it had not).
metadata::JobRecord RecordOf(TrainingJob job, const std::string& executor, TimePoint now) {
  if (!core::IsTerminal(job.status.status())) {
    WarnIfFailed("sagemaker",
                 job.status.Fail("InternalServerError: the trainyard server was upgraded while "
                                 "this training job ran; create it again to run it",
                                 now),
                 "job={} could not be marked Failed", job.name);
  }
  metadata::JobRecord record;
  record.name = job.name;
  record.executor = executor;
  record.executor_job_name = job.name;
  if (job.request.contains("HyperParameters") && job.request["HyperParameters"].is_object()) {
    for (const auto& [key, value] : job.request["HyperParameters"].items()) {
      if (value.is_string()) record.hyperparameters[key] = value.get<std::string>();
    }
  }
  record.queued = false;
  record.status = job.status.status();
  record.secondary_status = job.status.secondary_status();
  record.transitions = job.status.transitions();
  record.failure_reason = job.status.failure_reason();
  record.started_at = job.status.creation_time();
  record.ended_at = job.status.end_time();
  record.created_at = job.status.creation_time();
  return record;
}

}  // namespace

Status TrainingJobs::ImportOlderJobs() {
  std::vector<TrainingJob> found;
  std::string after;
  while (true) {
    auto page = options_.objects->List(kJobsPrefix, after);
    if (!page.ok()) return page.status().WithContext("importing the SageMaker training jobs");
    for (const storage::ObjectInfo& info : page->objects) {
      const std::string suffix = "/description.json";
      if (info.key.size() <= suffix.size() ||
          info.key.compare(info.key.size() - suffix.size(), suffix.size(), suffix) != 0) {
        continue;
      }
      std::ostringstream sink;
      Status got = options_.objects->Get(info.key, sink);
      auto job = got.ok() ? TrainingJobFromDocument(json::parse(sink.str(), nullptr, false))
                          : Result<TrainingJob>(got);
      if (!job.ok()) {
        // One bad document must not keep the endpoint down.
        Logger("sagemaker").error("key={} not imported: {}", info.key, job.status().message());
        continue;
      }
      found.push_back(std::move(job).value());
    }
    if (!page->truncated || page->objects.empty()) break;
    after = page->objects.back().key;
  }
  std::sort(found.begin(), found.end(), [](const TrainingJob& a, const TrainingJob& b) {
    return a.status.creation_time() < b.status.creation_time();
  });
  for (TrainingJob& job : found) {
    auto known = options_.metadata->GetJob(job.name);
    if (known.ok()) continue;  // imported before
    if (known.status().code() != StatusCode::kNotFound) return known.status();
    json request = job.request;
    request["TrainingJobName"] = job.name;
    metadata::SweepRecord sweep;
    sweep.id = "sw-" + control::RandomHex(16);
    sweep.name = kSweepName;
    sweep.spec = control::ToJson(SweepRequestFor(request, *options_.executor));
    sweep.created_at = job.status.creation_time();
    std::map<std::string, MetricValue> metrics = job.metrics;
    metadata::JobRecord record = RecordOf(std::move(job), options_.executor->name(), Now());
    record.sweep_id = sweep.id;
    Status created = options_.metadata->CreateSweep(sweep, {}, {record}).status();
    if (created.code() == StatusCode::kAlreadyExists) {
      // Another server sharing the store imported it at the same instant.
      Logger("sagemaker").info("job={} imported by another server", record.name);
      continue;
    }
    TY_RETURN_IF_ERROR(created);
    // The store takes a new job as queued: its end is written as the scheduler writes it.
    TY_RETURN_IF_ERROR(options_.metadata->UpdateJobState(record, {}).status());
    if (!metrics.empty()) {
      metadata::ProgressUpdate update;
      for (const auto& [name, metric] : metrics) {
        update.metrics.push_back({name, metric.value, std::nullopt, metric.time});
      }
      WarnIfFailed("sagemaker", options_.metadata->RecordProgress(record.name, update).status(),
                   "job={} metrics not imported", record.name);
    }
    Logger("sagemaker")
        .info("job={} imported from description.json status={}", record.name,
              core::ToString(record.status));
  }
  return Status::Ok();
}

}  // namespace trainyard::server::sagemaker
