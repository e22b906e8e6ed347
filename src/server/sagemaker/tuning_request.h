// CreateHyperParameterTuningJob → a trainyard search (docs/search.md): a sweep of the
// endpoint's scheduler whose strategy, ranges, max_jobs, max_parallel, objective and early
// stopping come from HyperParameterTuningJobConfig, and whose every job runs the
// TrainingJobDefinition as CreateTrainingJob would, with the static hyperparameters and the
// job's tuned ones. The tuning request is kept with the sweep (client_request), so a tuning job
// and its training jobs are described from the store after a restart. Internal; pure functions
// over values (thread-safe).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "control/sweep_request.h"
#include "core/hyperparameters.h"
#include "core/search.h"
#include "executor/executor.h"

namespace trainyard::server::sagemaker {

// The member of a kept request that marks it a tuning job's (CreateTrainingJob has none).
inline constexpr char kTuningJobNameMember[] = "HyperParameterTuningJobName";
bool IsTuningRequest(const nlohmann::json& client_request);

// The hyperparameter SageMaker adds to every training job of a tuning job: the objective's
// metric name.
inline constexpr char kTuningObjectiveHyperparameter[] = "_tuning_objective_metric";

// arn:aws:sagemaker:<region>:<account>:hyper-parameter-tuning-job/<name in lower case>.
std::string TuningJobArn(const std::string& region, const std::string& account_id,
                         const std::string& name);

// The name of a tuning job's training job `index` (0-based): "<tuning job>-<NNN>-<8 hex>",
// NNN counting from 001 with at least three digits (more when `count` needs them), the hex
// random, as SageMaker names them.
std::string TuningTrainingJobName(const std::string& tuning_job, size_t index, size_t count);

// Hyperband's resource (HyperbandStrategyConfig): the hyperparameter that carries each job's
// budget is the first of SageMaker's epoch keys (epochs, numepochs, n-epochs, n_epochs,
// num_epochs) in StaticHyperParameters, else "epochs"; MaxResource defaults to that static
// value, as SageMaker infers it.
struct HyperbandResource {
  std::string name;
  std::optional<int64_t> static_value;  // the static hyperparameter's value, when it is a number
};
HyperbandResource HyperbandResourceOf(const nlohmann::json& definition);

// The sweep that runs a tuning request which passed botocore's model, or the
// ValidationException message for what SageMaker refuses or trainyard cannot do, naming the
// field ("HyperParameterTuningJobConfig.ParameterRanges.ContinuousParameterRanges.1.MinValue").
// The training job a trial runs is held to CreateTrainingJob's rules (UnsupportedRequest).
struct TuningSweep {
  control::SweepRequest sweep;
  std::optional<std::string> refused;
};
TuningSweep TuningSweepRequest(const nlohmann::json& request, const executor::Executor& executor);

// WarmStartConfig (IdenticalDataAndAlgorithm): the results of the parents' training jobs that
// Completed with the objective, as prior trials of `sweep`'s search (those whose tuned values
// are not all in the child's ranges are left out), or the ValidationException message naming
// what does not match: a parent still in progress, another objective, other static
// hyperparameters, training image or input data.
struct WarmStartParent {
  std::string name;
  nlohmann::json request;  // its CreateHyperParameterTuningJob request
  bool ended = false;
  std::vector<core::Trial> results;  // its completed jobs: hyperparameters and objective values
};
std::optional<std::string> AddWarmStart(const nlohmann::json& request,
                                        const std::vector<WarmStartParent>& parents,
                                        control::SweepRequest& sweep);

// The CreateTrainingJob request that the tuning job's training job `job_name` runs: the
// definition's members, HyperParameters its StaticHyperParameters as given plus `tuned` (the
// job's values of the ranges and of hyperband's resource) and _tuning_objective_metric.
nlohmann::json TrainingRequestOf(const nlohmann::json& tuning_request, const std::string& job_name,
                                 const core::HyperparameterMap& tuned);

// The job's tuned hyperparameters out of all it got: those of the ranges and hyperband's
// resource.
core::HyperparameterMap TunedHyperparameters(const nlohmann::json& tuning_request,
                                             const core::HyperparameterMap& hyperparameters);

}  // namespace trainyard::server::sagemaker
