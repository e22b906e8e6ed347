// The tuning operations over the scheduler: CreateHyperParameterTuningJob creates a sweep that
// searches, StopHyperParameterTuningJob stops it (its queued jobs end at once, its running ones
// get SIGTERM and their grace), and the other three read the sweep, its kept request and its
// jobs. Tuning job names are unique regardless of case, as their ARNs hold them in lower case.
#include <algorithm>
#include <cctype>

#include "common/ascii.h"
#include "common/log.h"
#include "server/sagemaker/training_jobs.h"
#include "server/sagemaker/tuning_request.h"

namespace trainyard::server::sagemaker {
using nlohmann::json;

namespace {

JsonReply TuningJobNotFound(const std::string& name) {
  return SageMakerError("ResourceNotFound",
                        "Amazon SageMaker can't find a tuning job with name " + name);
}

}  // namespace

Result<std::vector<TuningJob>> TrainingJobs::AllTuningJobs() {
  TY_ASSIGN_OR_RETURN(std::vector<metadata::SweepRecord> sweeps, options_.metadata->ListSweeps());
  std::vector<TuningJob> tunings;
  for (metadata::SweepRecord& sweep : sweeps) {
    json request = sweep.spec.value("client_request", json());
    if (!IsTuningRequest(request)) continue;
    TuningJob tuning;
    tuning.sweep = std::move(sweep);
    tuning.request = std::move(request);
    metadata::JobFilter filter;
    filter.sweep_id = tuning.sweep.id;
    filter.limit = 1000;
    while (true) {
      TY_ASSIGN_OR_RETURN(metadata::JobPage page, options_.metadata->ListJobs(filter));
      tuning.jobs.insert(tuning.jobs.end(), page.jobs.begin(), page.jobs.end());
      if (!page.truncated || page.jobs.empty()) break;
      filter.after_queue_position = page.jobs.back().queue_position;
    }
    std::sort(tuning.jobs.begin(), tuning.jobs.end(),
              [](const metadata::JobRecord& a, const metadata::JobRecord& b) {
                return a.index < b.index;
              });
    tunings.push_back(std::move(tuning));
  }
  std::stable_sort(tunings.begin(), tunings.end(), [](const TuningJob& a, const TuningJob& b) {
    return a.sweep.created_at < b.sweep.created_at;
  });
  return tunings;
}

Result<TuningJob> TrainingJobs::FindTuningJob(const std::string& name) {
  TY_ASSIGN_OR_RETURN(std::vector<TuningJob> tunings, AllTuningJobs());
  for (TuningJob& tuning : tunings) {
    if (AsciiLower(tuning.name()) == AsciiLower(name)) return std::move(tuning);
  }
  return NotFound("tuning job '" + name + "' not found");
}

JsonReply TrainingJobs::CreateTuningJob(const json& request) {
  const std::string name = request[kTuningJobNameMember].get<std::string>();
  TuningSweep tuning = TuningSweepRequest(request, *options_.executor);
  if (tuning.refused) {
    Logger("sagemaker").info("tuning_job={} refused: {}", name, *tuning.refused);
    return ValidationException(*tuning.refused);
  }
  if (auto refused = CheckStore(TrainingRequestOf(request, name, {}))) return *refused;
  if (request.contains("WarmStartConfig")) {
    // The parents' results seed the search (IdenticalDataAndAlgorithm).
    std::vector<WarmStartParent> parents;
    for (const json& given : request["WarmStartConfig"]["ParentHyperParameterTuningJobs"]) {
      const std::string parent_name = given.value(kTuningJobNameMember, std::string());
      auto parent = FindTuningJob(parent_name);
      if (!parent.ok() && parent.status().code() == StatusCode::kNotFound) {
        return ValidationException(
            "WarmStartConfig.ParentHyperParameterTuningJobs: the tuning "
            "job '" +
            parent_name + "' does not exist.");
      }
      if (!parent.ok()) return InternalFailure(parent.status());
      WarmStartParent found{parent->name(), parent->request, false, {}};
      const std::string status = StateOf(*parent).status;
      found.ended = status != "InProgress" && status != "Stopping";
      for (const metadata::JobRecord& job : parent->jobs) {
        if (std::optional<double> value = ObjectiveValueOf(*parent, job)) {
          found.results.push_back({job.hyperparameters, value, true});
        }
      }
      parents.push_back(std::move(found));
    }
    if (auto refused = AddWarmStart(request, parents, tuning.sweep)) {
      return ValidationException(*refused);
    }
  }

  std::lock_guard create_lock(create_mutex_);
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return InternalFailure(Unavailable("the SageMaker endpoint is stopping"));
  }
  auto existing = FindTuningJob(name);
  if (existing.ok()) {
    return SageMakerError(
        "ResourceInUse",
        "Hyperparameter tuning job names must be unique within an AWS account and region, and a "
        "hyperparameter tuning job with this name already exists (" +
            TuningJobArn(options_.region, options_.account_id, existing->name()) + ")");
  }
  if (existing.status().code() != StatusCode::kNotFound) return InternalFailure(existing.status());
  auto created = scheduler_->CreateSweep(tuning.sweep);
  if (!created.ok()) {
    Logger("sagemaker")
        .error("tuning_job={} could not be created: {}", name, created.status().message());
    if (created.status().code() == StatusCode::kInvalidArgument) {
      return ValidationException(created.status().message());
    }
    return InternalFailure(created.status());
  }
  Logger("sagemaker")
      .info("tuning_job={} sweep={} created with {} training job(s) queued", name,
            created->sweep.id, created->job_count);
  return JsonReply::Ok(
      {{"HyperParameterTuningJobArn", TuningJobArn(options_.region, options_.account_id, name)}});
}

JsonReply TrainingJobs::DescribeTuningJob(const std::string& name) {
  auto tuning = FindTuningJob(name);
  if (!tuning.ok() && tuning.status().code() == StatusCode::kNotFound) {
    return TuningJobNotFound(name);
  }
  if (!tuning.ok()) return InternalFailure(tuning.status());
  std::vector<TuningJob> parents;
  if (tuning->request.contains("WarmStartConfig")) {
    for (const json& given : tuning->request["WarmStartConfig"]["ParentHyperParameterTuningJobs"]) {
      const std::string parent_name = given.value("HyperParameterTuningJobName", std::string());
      auto parent = FindTuningJob(parent_name);
      if (parent.ok()) {
        parents.push_back(std::move(parent).value());
      } else if (parent.status().code() != StatusCode::kNotFound) {
        return InternalFailure(parent.status());
      }
    }
  }
  return JsonReply::Ok(DescribeTuningDocument(*tuning, arn_context(), parents));
}

JsonReply TrainingJobs::StopTuningJob(const std::string& name) {
  auto tuning = FindTuningJob(name);
  if (!tuning.ok() && tuning.status().code() == StatusCode::kNotFound) {
    return TuningJobNotFound(name);
  }
  if (!tuning.ok()) return InternalFailure(tuning.status());
  const std::string status = StateOf(*tuning).status;
  if (status != "InProgress") {
    return ValidationException(
        "The request was rejected because the hyperparameter tuning job is in status " + status +
        ".");
  }
  Status stopped = scheduler_->StopSweep(tuning->sweep.id);
  if (!stopped.ok()) {
    Logger("sagemaker")
        .error("tuning_job={} sweep={} could not be stopped: {}", name, tuning->sweep.id,
               stopped.message());
    return InternalFailure(stopped);
  }
  return JsonReply::Ok(json::object());
}

JsonReply TrainingJobs::ListTuningJobs(const json& request) {
  auto tunings = AllTuningJobs();
  if (!tunings.ok()) return InternalFailure(tunings.status());
  return sagemaker::ListTuningJobs(*tunings, request, arn_context());
}

JsonReply TrainingJobs::ListTuningTrainingJobs(const json& request) {
  const std::string name = request[kTuningJobNameMember].get<std::string>();
  auto tuning = FindTuningJob(name);
  if (!tuning.ok() && tuning.status().code() == StatusCode::kNotFound) {
    return TuningJobNotFound(name);
  }
  if (!tuning.ok()) return InternalFailure(tuning.status());
  return sagemaker::ListTuningTrainingJobs(*tuning, request, arn_context());
}

}  // namespace trainyard::server::sagemaker
