// The SageMaker endpoint's hyperparameter tuning jobs as documents: a tuning job is a sweep of
// the endpoint's scheduler that searches (tuning_request.h), and everything SageMaker shows of
// it is derived from the sweep, its kept request and its jobs' records at each call:
// HyperParameterTuningJobStatus, TrainingJobStatusCounters, ObjectiveStatusCounters,
// BestTrainingJob, the training jobs' summaries, and the two list operations. Internal; pure
// functions over values (thread-safe).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "metadata/metadata_store.h"
#include "server/sagemaker/aws_json.h"
#include "server/sagemaker/training_job_document.h"

namespace trainyard::server::sagemaker {

// A tuning job as the store holds it.
struct TuningJob {
  metadata::SweepRecord sweep;
  nlohmann::json request;                 // CreateHyperParameterTuningJob's, without Tags
  std::vector<metadata::JobRecord> jobs;  // its training jobs, by index
  std::string name() const;
};

// What SageMaker derives from a tuning job's training jobs.
struct TuningState {
  // InProgress while a training job is queued or running (or none exists yet); once every one
  // has ended: Stopped after StopHyperParameterTuningJob (Stopping before), Completed when one
  // Completed, else Failed with failure_reason.
  std::string status;
  TimePoint last_modified;
  std::optional<TimePoint> end_time;
  std::string failure_reason;
};
TuningState StateOf(const TuningJob& tuning);

// The final objective value of a training job: a job that Completed and reported the
// objective's metric (the value the search learns from, docs/search.md).
std::optional<double> ObjectiveValueOf(const TuningJob& tuning, const metadata::JobRecord& job);

// HyperParameterTrainingJobSummary of one of the tuning job's training jobs.
nlohmann::json TrainingJobSummaryOf(const TuningJob& tuning, const metadata::JobRecord& job,
                                    const ArnContext& context);

// The DescribeHyperParameterTuningJob answer. `parents`: the tuning jobs its WarmStartConfig
// names (those still known), for OverallBestTrainingJob, the best of theirs and its own.
nlohmann::json DescribeTuningDocument(const TuningJob& tuning, const ArnContext& context,
                                      const std::vector<TuningJob>& parents = {});

// SageMaker.ListHyperParameterTuningJobs over every tuning job (in creation order): NameContains
// (ignoring case), StatusEquals, the CreationTime and LastModifiedTime windows, SortBy Name
// (the default), CreationTime or Status, SortOrder, MaxResults (default 10), NextToken.
JsonReply ListTuningJobs(const std::vector<TuningJob>& tunings, const nlohmann::json& request,
                         const ArnContext& context);

// SageMaker.ListTrainingJobsForHyperParameterTuningJob: StatusEquals, SortBy Name (the
// default), CreationTime, Status or FinalObjectiveMetricValue (which, as SageMaker, lists only
// the jobs that have one), SortOrder (Ascending by default), MaxResults (default 10),
// NextToken.
JsonReply ListTuningTrainingJobs(const TuningJob& tuning, const nlohmann::json& request,
                                 const ArnContext& context);

}  // namespace trainyard::server::sagemaker
