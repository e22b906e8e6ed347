// DescribeTrainingJob's answer, shaped after real answers: ModelArtifacts from the start (the
// path the model will have), TrainingStartTime when the instance was ready (the end of
// Starting), TrainingEndTime at the terminal transition, TrainingTimeInSeconds and
// BillableTimeInSeconds between the two (at least 1, as SageMaker bills), and the Failed
// transition's message "Training job failed" while FailureReason carries the reason.
#include "server/sagemaker/training_job_document.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "server/sagemaker/aws_json.h"
#include "server/sagemaker/channel_staging.h"

namespace trainyard::server::sagemaker {
namespace {
using core::SecondaryStatus;
using nlohmann::json;

// FinalMetricDataList holds at most 40 entries (botocore's model).
constexpr size_t kMaxFinalMetrics = 40;

// The tracker's own JSON form (ISO 8601 times) from a document's epoch seconds.
Result<std::string> IsoTime(const json& document, const std::string& field) {
  std::optional<TimePoint> time = TimeFromEpochSeconds(document.value(field, json()));
  if (!time) return InvalidArgument("'" + field + "' is not a time in epoch seconds");
  return FormatIso8601(*time);
}

}  // namespace

std::string TrainingJobArn(const ArnContext& context, const std::string& name) {
  std::string lower = name;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return "arn:aws:sagemaker:" + context.region + ":" + context.account_id + ":training-job/" +
         lower;
}

std::string SageMakerStatusMessage(SecondaryStatus status) {
  switch (status) {
    case SecondaryStatus::kStarting: return "Preparing the instances for training";
    case SecondaryStatus::kDownloading: return "Downloading input data";
    case SecondaryStatus::kTraining:
      return "Training image download completed. Training in progress.";
    case SecondaryStatus::kUploading: return "Uploading generated training model";
    case SecondaryStatus::kStopping: return "Stopping the training job";
    case SecondaryStatus::kStopped: return "Training job stopped";
    case SecondaryStatus::kMaxRuntimeExceeded:
      return "Training job stopped: it exceeded MaxRuntimeInSeconds";
    case SecondaryStatus::kCompleted: return "Training job completed";
    case SecondaryStatus::kFailed: return "Training job failed";
    default: return "";
  }
}

std::optional<TimePoint> TrainingStartTime(const TrainingJob& job) {
  const auto& transitions = job.status.transitions();
  if (transitions.size() < 2) return std::nullopt;
  return transitions[1].start_time;
}

std::optional<TimePoint> TrainingEndTime(const TrainingJob& job) {
  return job.status.end_time();
}

json DescribeDocument(const TrainingJob& job, const ArnContext& context) {
  json document = job.request;
  document["TrainingJobName"] = job.name;
  document["TrainingJobArn"] = TrainingJobArn(context, job.name);
  std::string output =
      job.request.value("OutputDataConfig", json::object()).value("S3OutputPath", std::string());
  if (std::optional<S3Location> location = ParseS3Uri(output)) {
    document["ModelArtifacts"] = {
        {"S3ModelArtifacts", OutputObjectUri(*location, job.name, "model.tar.gz")}};
  }
  document["TrainingJobStatus"] = core::ToString(job.status.status());
  document["SecondaryStatus"] = core::ToString(job.status.secondary_status());
  if (!job.status.failure_reason().empty()) {
    document["FailureReason"] = job.status.failure_reason().substr(0, 1024);
  }
  document["CreationTime"] = EpochSeconds(job.status.creation_time());
  document["LastModifiedTime"] = EpochSeconds(job.status.last_modified_time());
  std::optional<TimePoint> start = TrainingStartTime(job);
  std::optional<TimePoint> end = TrainingEndTime(job);
  if (start) document["TrainingStartTime"] = EpochSeconds(*start);
  if (end) {
    document["TrainingEndTime"] = EpochSeconds(*end);
    auto seconds = std::chrono::duration_cast<std::chrono::milliseconds>(
                       *end - start.value_or(job.status.creation_time()))
                       .count();
    int64_t billed = std::max<int64_t>(1, (seconds + 999) / 1000);
    document["TrainingTimeInSeconds"] = billed;
    document["BillableTimeInSeconds"] = billed;
  }
  json transitions = json::array();
  for (const core::StatusTransition& transition : job.status.transitions()) {
    json entry = {{"Status", core::ToString(transition.status)},
                  {"StartTime", EpochSeconds(transition.start_time)}};
    if (transition.end_time) entry["EndTime"] = EpochSeconds(*transition.end_time);
    entry["StatusMessage"] = transition.status == SecondaryStatus::kFailed
                                 ? SageMakerStatusMessage(SecondaryStatus::kFailed)
                                 : transition.message;
    transitions.push_back(std::move(entry));
  }
  document["SecondaryStatusTransitions"] = std::move(transitions);
  if (end) {
    json metrics = json::array();
    for (const auto& [name, metric] : job.metrics) {
      if (metrics.size() == kMaxFinalMetrics || !std::isfinite(metric.value)) continue;
      metrics.push_back({{"MetricName", name},
                         {"Value", metric.value},
                         {"Timestamp", EpochSeconds(metric.time)}});
    }
    document["FinalMetricDataList"] = std::move(metrics);
  }
  return document;
}

Result<TrainingJob> TrainingJobFromDocument(const json& document) {
  if (!document.is_object()) return InvalidArgument("a training job document is a JSON object");
  TrainingJob job;
  const json& name = document.value("TrainingJobName", json());
  if (!name.is_string() || name.get<std::string>().empty()) {
    return InvalidArgument("'TrainingJobName' is missing");
  }
  job.name = name.get<std::string>();
  job.request = EchoedRequest(document);

  json tracker = json::object();
  TY_ASSIGN_OR_RETURN(tracker["creation_time"], IsoTime(document, "CreationTime"));
  TY_ASSIGN_OR_RETURN(tracker["last_modified_time"], IsoTime(document, "LastModifiedTime"));
  tracker["failure_reason"] = document.value("FailureReason", std::string());
  json transitions = json::array();
  for (const json& entry : document.value("SecondaryStatusTransitions", json::array())) {
    if (!entry.is_object())
      return InvalidArgument("'SecondaryStatusTransitions' holds a non-object");
    json transition = {{"status", entry.value("Status", std::string())},
                       {"status_message", entry.value("StatusMessage", std::string())}};
    TY_ASSIGN_OR_RETURN(transition["start_time"], IsoTime(entry, "StartTime"));
    if (entry.contains("EndTime")) {
      TY_ASSIGN_OR_RETURN(transition["end_time"], IsoTime(entry, "EndTime"));
    }
    transitions.push_back(std::move(transition));
  }
  tracker["secondary_status_transitions"] = std::move(transitions);
  auto status = core::JobStatusTracker::FromJson(tracker);
  if (!status.ok()) return status.status().WithContext("training job '" + job.name + "'");
  job.status = std::move(status).value();

  for (const json& metric : document.value("FinalMetricDataList", json::array())) {
    if (!metric.is_object() || !metric.value("MetricName", json()).is_string() ||
        !metric.value("Value", json()).is_number()) {
      continue;
    }
    MetricValue value;
    value.value = metric["Value"].get<double>();
    value.time = TimeFromEpochSeconds(metric.value("Timestamp", json())).value_or(TimePoint());
    job.metrics[metric["MetricName"].get<std::string>()] = value;
  }
  return job;
}

}  // namespace trainyard::server::sagemaker
