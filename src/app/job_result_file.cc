#include "app/job_result_file.h"

#include "common/files.h"

namespace trainyard::app {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr char kStatusFileName[] = "status.json";

}  // namespace

json JobResultJson(const JobResult& result) {
  json status = {{"job_name", result.job_name}};
  if (result.description) {
    status.update(result.description->status.ToJson());
    status["final_metrics"] = result.description->metrics;
    status["progress"] = result.description->progress;
    if (result.description->exit_code) status["exit_code"] = *result.description->exit_code;
  } else {
    status.update({{"status", "Stopped"},
                   {"secondary_status", "Stopped"},
                   {"status_message", "the sweep was stopped before this job started"},
                   {"final_metrics", json::object()}});
  }
  status["hyperparameters"] = result.hyperparameters;
  status["duration_seconds"] = result.duration_seconds;
  return status;
}

Result<JobResult> JobResultFromJson(const json& status) {
  if (!status.is_object()) return InvalidArgument("a job's status is a JSON object");
  // Which field is being read, for the message of a json::exception.
  std::string field;
  try {
    JobResult result;
    field = "job_name";
    result.job_name = status.at(field).get<std::string>();
    field = "hyperparameters";
    result.hyperparameters = status.at(field).get<core::HyperparameterMap>();
    field = "duration_seconds";
    result.duration_seconds = status.at(field).get<double>();
    if (!status.contains("secondary_status_transitions")) return result;  // never started
    field = "secondary_status_transitions";
    TY_ASSIGN_OR_RETURN(core::JobStatusTracker tracker, core::JobStatusTracker::FromJson(status));
    executor::JobDescription description{result.job_name, std::move(tracker)};
    field = "final_metrics";
    description.metrics = status.at(field).get<std::map<std::string, double>>();
    field = "progress";
    description.progress = status.value(field, json::object());
    field = "exit_code";
    if (status.contains(field)) description.exit_code = status[field].get<int>();
    result.description = std::move(description);
    return result;
  } catch (const json::exception& error) {
    return InvalidArgument("field '" + field + "': " + error.what());
  }
}

Status WriteJobResultFile(const fs::path& out_dir, const JobResult& result) {
  fs::path status_file = out_dir / result.job_name / kStatusFileName;
  TY_RETURN_IF_ERROR(MakeDirectories(status_file.parent_path()));
  return WriteFileAtomic(status_file, JobResultJson(result).dump(2) + "\n",
                         Durability::kAtomicOnly);
}

Result<JobResult> ReadJobResultFile(const fs::path& out_dir, const std::string& job_name) {
  fs::path status_file = out_dir / job_name / kStatusFileName;
  std::error_code error;
  if (!fs::exists(status_file, error)) {
    return NotFound("'" + status_file.string() + "' does not exist");
  }
  TY_ASSIGN_OR_RETURN(std::string text, ReadFile(status_file));
  json status = json::parse(text, nullptr, false);
  auto result = JobResultFromJson(status);
  if (!result.ok()) return result.status().WithContext("'" + status_file.string() + "'");
  if (result->job_name != job_name) {
    return InvalidArgument("'" + status_file.string() + "' is the status of job '" +
                           result->job_name + "'");
  }
  return result;
}

}  // namespace trainyard::app
