// SageMaker's tuning configuration in trainyard's search terms. botocore's model has checked
// types, enums and lengths; what is checked here is what SageMaker checks beyond the model
// (numbers in MinValue and MaxValue, a bound order, the objective among the metric
// definitions, MaxNumberOfTrainingJobs for every strategy but Grid) and what trainyard cannot
// do. SageMaker's ranges carry their bounds as strings; the search's stored form carries them as
// numbers, so a bound such as "0.10" reaches the job as the search encodes it ("0.1").
#include "server/sagemaker/tuning_request.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <iomanip>
#include <random>
#include <set>
#include <sstream>

#include "common/ascii.h"
#include "core/sagemaker_limits.h"
#include "core/search_space.h"
#include "server/sagemaker/job_records.h"
#include "server/sagemaker/training_job_document.h"

namespace trainyard::server::sagemaker {
namespace {
using nlohmann::json;

constexpr char kConfig[] = "HyperParameterTuningJobConfig";
constexpr char kDefinition[] = "TrainingJobDefinition";
constexpr int64_t kMaxTuningTrainingJobs = 10000;  // a search's max_jobs (docs/search.md)

// SageMaker's keys from which Hyperband infers its resource (HyperbandStrategyConfig).
constexpr const char* kEpochKeys[] = {"epochs", "numepochs", "n-epochs", "n_epochs", "num_epochs"};

// The members of HyperParameterTrainingJobDefinition that a CreateTrainingJob request has too.
constexpr const char* kDefinitionMembers[] = {"AlgorithmSpecification",
                                              "RoleArn",
                                              "InputDataConfig",
                                              "VpcConfig",
                                              "OutputDataConfig",
                                              "ResourceConfig",
                                              "StoppingCondition",
                                              "EnableNetworkIsolation",
                                              "EnableInterContainerTrafficEncryption",
                                              "EnableManagedSpotTraining",
                                              "CheckpointConfig",
                                              "RetryStrategy",
                                              "Environment"};

std::optional<double> ParseNumber(const std::string& text) {
  if (text.empty()) return std::nullopt;
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

const json& Member(const json& object, const char* name) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  auto found = object.find(name);
  return found == object.end() ? kNull : *found;
}

std::string StringMember(const json& object, const char* name) {
  const json& value = Member(object, name);
  return value.is_string() ? value.get<std::string>() : std::string();
}

// The ranges of ParameterRanges, or the message naming the field that is not one.
std::optional<std::string> ReadRanges(const json& ranges, std::vector<core::ParameterRange>& out) {
  const std::string base = std::string(kConfig) + ".ParameterRanges.";
  struct Kind {
    const char* member;
    core::ParameterType type;
  };
  std::set<std::string> names;
  for (const Kind& kind : {Kind{"ContinuousParameterRanges", core::ParameterType::kContinuous},
                           Kind{"IntegerParameterRanges", core::ParameterType::kInteger},
                           Kind{"CategoricalParameterRanges", core::ParameterType::kCategorical}}) {
    const json& list = Member(ranges, kind.member);
    if (!list.is_array()) continue;
    for (size_t i = 0; i < list.size(); ++i) {
      const json& given = list[i];
      core::ParameterRange range;
      range.name = StringMember(given, "Name");
      range.type = kind.type;
      const std::string field = base + kind.member + "." + std::to_string(i + 1);
      const std::string subject = field + " ('" + range.name + "')";
      if (range.name.empty()) return field + ".Name must not be empty.";
      if (!names.insert(range.name).second) {
        return "The hyperparameter '" + range.name +
               "' is given more than one range in ParameterRanges (" + field + ").";
      }
      if (kind.type == core::ParameterType::kCategorical) {
        for (const json& value : Member(given, "Values")) {
          range.values.push_back(value.get<std::string>());
        }
      } else {
        for (const char* bound : {"MinValue", "MaxValue"}) {
          std::string text = StringMember(given, bound);
          std::optional<double> number = ParseNumber(text);
          if (!number) {
            return "Value '" + text + "' at '" + field + "." + bound + "' ('" + range.name +
                   "') is not a " +
                   (kind.type == core::ParameterType::kInteger ? "whole number" : "number") + ".";
          }
          (std::string(bound) == "MinValue" ? range.min : range.max) = *number;
        }
        if (std::string scaling = StringMember(given, "ScalingType"); !scaling.empty()) {
          Result<core::ParameterScaling> parsed = core::ParseParameterScaling(scaling);
          if (!parsed.ok()) return subject + ".ScalingType: " + parsed.status().message();
          range.scaling = *parsed;
        }
        // SageMaker's integer ranges may be equal at both ends; a continuous one may not.
      }
      if (Status valid = core::ValidateRange(range); !valid.ok()) {
        return subject + ": " + valid.message() + ".";
      }
      out.push_back(std::move(range));
    }
  }
  return std::nullopt;
}

}  // namespace

bool IsTuningRequest(const json& client_request) {
  return client_request.is_object() && client_request.contains(kTuningJobNameMember);
}

std::string TuningJobArn(const std::string& region, const std::string& account_id,
                         const std::string& name) {
  return "arn:aws:sagemaker:" + region + ":" + account_id + ":hyper-parameter-tuning-job/" +
         AsciiLower(name);
}

std::string TuningTrainingJobName(const std::string& tuning_job, size_t index, size_t count) {
  const size_t digits = std::max<size_t>(3, std::to_string(std::max<size_t>(count, 1)).size());
  std::ostringstream name;
  name << tuning_job << '-' << std::setw(static_cast<int>(digits)) << std::setfill('0') << index + 1
       << '-';
  thread_local std::mt19937 random{std::random_device{}()};
  name << std::hex << std::setw(8) << std::setfill('0') << static_cast<uint32_t>(random());
  return name.str();
}

HyperbandResource HyperbandResourceOf(const json& definition) {
  const json& statics = Member(definition, "StaticHyperParameters");
  for (const char* key : kEpochKeys) {
    const json& value = Member(statics, key);
    if (!value.is_string()) continue;
    HyperbandResource resource{key, std::nullopt};
    std::optional<double> number = ParseNumber(value.get<std::string>());
    if (number && *number >= 1 && *number == std::floor(*number) && *number < 1e9) {
      resource.static_value = static_cast<int64_t>(*number);
    }
    return resource;
  }
  return {"epochs", std::nullopt};
}

json TrainingRequestOf(const json& tuning, const std::string& job_name,
                       const core::HyperparameterMap& tuned) {
  const json& definition = Member(tuning, kDefinition);
  json request = {{"TrainingJobName", job_name}};
  for (const char* member : kDefinitionMembers) {
    const json& value = Member(definition, member);
    if (!value.is_null()) request[member] = value;
  }
  json hyperparameters = json::object();
  const json& statics = Member(definition, "StaticHyperParameters");
  if (statics.is_object()) hyperparameters = statics;
  for (const auto& [key, value] : tuned) hyperparameters[key] = value;
  const json& objective = Member(Member(tuning, kConfig), "HyperParameterTuningJobObjective");
  if (objective.is_object()) {
    hyperparameters[kTuningObjectiveHyperparameter] = StringMember(objective, "MetricName");
  }
  request["HyperParameters"] = std::move(hyperparameters);
  return request;
}

core::HyperparameterMap TunedHyperparameters(const json& tuning,
                                             const core::HyperparameterMap& hyperparameters) {
  std::set<std::string> names;
  const json& config = Member(tuning, kConfig);
  for (const char* kind :
       {"ContinuousParameterRanges", "IntegerParameterRanges", "CategoricalParameterRanges"}) {
    for (const json& range : Member(Member(config, "ParameterRanges"), kind)) {
      names.insert(StringMember(range, "Name"));
    }
  }
  if (StringMember(config, "Strategy") == "Hyperband") {
    names.insert(HyperbandResourceOf(Member(tuning, kDefinition)).name);
  }
  core::HyperparameterMap tuned;
  for (const auto& [key, value] : hyperparameters) {
    if (names.contains(key)) tuned[key] = value;
  }
  return tuned;
}

std::optional<std::string> AddWarmStart(const json& request,
                                        const std::vector<WarmStartParent>& parents,
                                        control::SweepRequest& sweep) {
  const json& definition = Member(request, kDefinition);
  const json& objective = Member(Member(request, kConfig), "HyperParameterTuningJobObjective");
  for (const WarmStartParent& parent : parents) {
    const std::string subject = "WarmStartConfig: the parent tuning job '" + parent.name + "'";
    if (!parent.ended) {
      return subject + " has not ended; warm start from tuning jobs that have.";
    }
    const json& parent_definition = Member(parent.request, kDefinition);
    if (Member(Member(parent.request, kConfig), "HyperParameterTuningJobObjective") != objective) {
      return subject +
             " has another HyperParameterTuningJobObjective (Type and MetricName must "
             "be the same).";
    }
    for (const char* member : {"StaticHyperParameters", "InputDataConfig"}) {
      if (Member(parent_definition, member) != Member(definition, member)) {
        return subject + " has other TrainingJobDefinition." + member +
               " (IdenticalDataAndAlgorithm needs the same).";
      }
    }
    if (StringMember(Member(parent_definition, "AlgorithmSpecification"), "TrainingImage") !=
        StringMember(Member(definition, "AlgorithmSpecification"), "TrainingImage")) {
      return subject +
             " has another TrainingJobDefinition.AlgorithmSpecification.TrainingImage "
             "(IdenticalDataAndAlgorithm needs the same).";
    }
    for (const core::Trial& result : parent.results) {
      core::Trial prior;
      prior.objective = result.objective;
      prior.ended = true;
      bool fits = true;
      for (const core::ParameterRange& range : sweep.search.ranges) {
        auto value = result.hyperparameters.find(range.name);
        if (value == result.hyperparameters.end() ||
            !core::CoordinateOf(range, value->second).ok()) {
          fits = false;
          break;
        }
        prior.hyperparameters[range.name] = value->second;
      }
      if (sweep.search.hyperband) {
        auto resource = result.hyperparameters.find(sweep.search.hyperband->resource);
        if (resource == result.hyperparameters.end()) fits = false;
        if (fits) prior.hyperparameters[resource->first] = resource->second;
      }
      if (fits && prior.objective) sweep.prior_trials.push_back(std::move(prior));
    }
  }
  return std::nullopt;
}

TuningSweep TuningSweepRequest(const json& request, const executor::Executor& executor) {
  TuningSweep result;
  auto refuse = [&](std::string message) {
    result.refused = std::move(message);
    return result;
  };
  const std::string name = StringMember(request, kTuningJobNameMember);
  const json& config = Member(request, kConfig);
  const json& definition = Member(request, kDefinition);
  if (request.contains("TrainingJobDefinitions")) {
    return refuse(
        "trainyard runs tuning jobs of one training job definition: give TrainingJobDefinition, "
        "not TrainingJobDefinitions.");
  }
  if (!definition.is_object()) {
    return refuse("TrainingJobDefinition is required: the training job each trial runs.");
  }
  for (const char* member : {"TuningObjective", "HyperParameterRanges", "DefinitionName"}) {
    if (definition.contains(member)) {
      return refuse(std::string("TrainingJobDefinition.") + member +
                    " is for TrainingJobDefinitions (several definitions), which trainyard "
                    "does not support; give it in HyperParameterTuningJobConfig.");
    }
  }
  if (definition.contains("HyperParameterTuningResourceConfig")) {
    return refuse(
        "TrainingJobDefinition.HyperParameterTuningResourceConfig is not supported by trainyard: "
        "give ResourceConfig (a job runs on one instance of this machine).");
  }
  if (StringMember(Member(request, "WarmStartConfig"), "WarmStartType") == "TransferLearning") {
    return refuse(
        "WarmStartConfig.WarmStartType TransferLearning is not supported by trainyard: use "
        "IdenticalDataAndAlgorithm.");
  }
  if (config.contains("TuningJobCompletionCriteria")) {
    return refuse(
        "HyperParameterTuningJobConfig.TuningJobCompletionCriteria is not supported by "
        "trainyard: the tuning job ends when MaxNumberOfTrainingJobs have run.");
  }

  control::SweepRequest& sweep = result.sweep;
  const std::string strategy_name = StringMember(config, "Strategy");
  Result<core::SearchStrategy> strategy = core::ParseSearchStrategy(strategy_name);
  if (!strategy.ok())
    return refuse(std::string(kConfig) + ".Strategy: " + strategy.status().message());
  sweep.search.strategy = *strategy;

  std::vector<core::ParameterRange> ranges;
  if (auto wrong = ReadRanges(Member(config, "ParameterRanges"), ranges)) return refuse(*wrong);
  if (ranges.empty()) {
    return refuse(std::string(kConfig) +
                  ".ParameterRanges must hold at least one range: the hyperparameters to tune.");
  }

  // The objective, and the metric definition it names.
  const json& objective = Member(config, "HyperParameterTuningJobObjective");
  std::set<std::string> metric_names;
  for (const json& metric :
       Member(Member(definition, "AlgorithmSpecification"), "MetricDefinitions")) {
    metric_names.insert(StringMember(metric, "Name"));
  }
  if (objective.is_object()) {
    const std::string metric = StringMember(objective, "MetricName");
    if (!metric_names.contains(metric)) {
      return refuse("The objective metric '" + metric + "' (" + kConfig +
                    ".HyperParameterTuningJobObjective.MetricName) is not one of the metrics "
                    "of TrainingJobDefinition.AlgorithmSpecification.MetricDefinitions: the "
                    "tuning job reads each training job's objective from its log with its "
                    "regex.");
    }
    sweep.objective = core::Objective{metric, StringMember(objective, "Type") == "Minimize"
                                                  ? core::ObjectiveGoal::kMin
                                                  : core::ObjectiveGoal::kMax};
  } else if (sweep.search.strategy != core::SearchStrategy::kGrid &&
             sweep.search.strategy != core::SearchStrategy::kRandom) {
    return refuse(std::string(kConfig) + ".HyperParameterTuningJobObjective is required by the " +
                  strategy_name + " strategy, which learns from each training job's objective.");
  }
  // The search's seed (RandomSeed, checked by SageMakerApi): absent, the scheduler picks one.
  if (const json& seed = Member(config, "RandomSeed"); seed.is_number_integer()) {
    sweep.search.random_seed = seed.get<uint64_t>();
  }
  if (StringMember(config, "TrainingJobEarlyStoppingType") == "Auto") {
    if (!sweep.objective) {
      return refuse(std::string(kConfig) +
                    ".TrainingJobEarlyStoppingType Auto needs HyperParameterTuningJobObjective: "
                    "it compares the objective's values.");
    }
    sweep.search.early_stopping = core::EarlyStopping::kAuto;
  }

  // The static hyperparameters, each reaching every job (not a range, nor Hyperband's resource).
  const json& statics = Member(definition, "StaticHyperParameters");
  core::HyperparameterMap fixed;
  if (statics.is_object()) {
    for (const auto& [key, value] : statics.items()) fixed[key] = value.get<std::string>();
  }
  for (const core::ParameterRange& range : ranges) {
    if (fixed.contains(range.name)) {
      return refuse("The hyperparameter '" + range.name +
                    "' is both a static hyperparameter (TrainingJobDefinition."
                    "StaticHyperParameters) and a tunable one (" +
                    kConfig + ".ParameterRanges); give it one way.");
    }
  }
  if (sweep.objective) fixed[kTuningObjectiveHyperparameter] = sweep.objective->metric;

  // Resource limits.
  const json& limits = Member(config, "ResourceLimits");
  const int64_t max_parallel = Member(limits, "MaxParallelTrainingJobs").get<int64_t>();
  const json& max_jobs = Member(limits, "MaxNumberOfTrainingJobs");
  sweep.max_parallel = static_cast<int>(std::min<int64_t>(max_parallel, 1000000));
  const std::string max_jobs_field =
      std::string(kConfig) + ".ResourceLimits.MaxNumberOfTrainingJobs";
  if (sweep.search.strategy == core::SearchStrategy::kGrid) {
    if (request.contains("WarmStartConfig")) {
      return refuse(
          "WarmStartConfig is for the Bayesian, Random and Hyperband strategies: the "
          "Grid strategy runs every combination whatever its parents found.");
    }
    size_t combinations = 1;
    for (const core::ParameterRange& range : ranges) {
      if (range.type != core::ParameterType::kCategorical) {
        return refuse("The Grid strategy takes CategoricalParameterRanges only; '" + range.name +
                      "' is a " + core::ParameterTypeName(range.type) + " range.");
      }
      combinations *= range.values.size();
      if (combinations > static_cast<size_t>(kMaxTuningTrainingJobs)) break;
      sweep.sweep.grid.emplace_back(range.name, range.values);
    }
    if (combinations > static_cast<size_t>(kMaxTuningTrainingJobs)) {
      return refuse("The Grid strategy's ParameterRanges make more than " +
                    std::to_string(kMaxTuningTrainingJobs) + " combinations.");
    }
    if (max_jobs.is_number_integer() &&
        max_jobs.get<int64_t>() != static_cast<int64_t>(combinations)) {
      return refuse(max_jobs_field + " is " + std::to_string(max_jobs.get<int64_t>()) +
                    ", but the Grid strategy runs every combination of the ranges: " +
                    std::to_string(combinations) + ". Leave it unset.");
    }
  } else {
    if (!max_jobs.is_number_integer()) {
      return refuse(max_jobs_field + " is required by the " + strategy_name + " strategy.");
    }
    if (max_jobs.get<int64_t>() > kMaxTuningTrainingJobs) {
      return refuse(max_jobs_field + " is " + std::to_string(max_jobs.get<int64_t>()) +
                    "; trainyard runs at most " + std::to_string(kMaxTuningTrainingJobs) +
                    " training jobs per tuning job.");
    }
    sweep.search.max_jobs = max_jobs.get<int64_t>();
    sweep.search.ranges = ranges;
  }
  if (max_jobs.is_number_integer() && max_parallel > max_jobs.get<int64_t>()) {
    return refuse(std::string(kConfig) + ".ResourceLimits.MaxParallelTrainingJobs (" +
                  std::to_string(max_parallel) + ") cannot be more than MaxNumberOfTrainingJobs (" +
                  std::to_string(max_jobs.get<int64_t>()) + ").");
  }

  // Hyperband's resource.
  const json& hyperband = Member(Member(config, "StrategyConfig"), "HyperbandStrategyConfig");
  if (sweep.search.strategy == core::SearchStrategy::kHyperband) {
    HyperbandResource resource = HyperbandResourceOf(definition);
    core::HyperbandSettings settings;
    settings.resource = resource.name;
    fixed.erase(resource.name);
    for (const core::ParameterRange& range : ranges) {
      if (range.name == resource.name) {
        return refuse("The hyperparameter '" + resource.name +
                      "' carries Hyperband's resource (the epochs each training job gets) and "
                      "cannot also be in ParameterRanges.");
      }
    }
    const json& min_resource = Member(hyperband, "MinResource");
    const json& max_resource = Member(hyperband, "MaxResource");
    settings.min_resource = min_resource.is_number_integer() ? min_resource.get<int64_t>() : 1;
    if (max_resource.is_number_integer()) {
      settings.max_resource = max_resource.get<int64_t>();
    } else if (resource.static_value) {
      settings.max_resource = *resource.static_value;
    } else {
      return refuse(std::string(kConfig) +
                    ".StrategyConfig.HyperbandStrategyConfig.MaxResource is required when "
                    "StaticHyperParameters has no epochs, numepochs, n-epochs, n_epochs or "
                    "num_epochs to infer it from.");
    }
    if (settings.max_resource <= settings.min_resource) {
      return refuse(std::string(kConfig) + ".StrategyConfig.HyperbandStrategyConfig.MaxResource (" +
                    std::to_string(settings.max_resource) + ") must be above MinResource (" +
                    std::to_string(settings.min_resource) + ").");
    }
    sweep.search.hyperband = settings;
  } else if (Member(config, "StrategyConfig").is_object()) {
    return refuse(std::string(kConfig) +
                  ".StrategyConfig (HyperbandStrategyConfig) is for the Hyperband strategy, not " +
                  strategy_name + ".");
  }
  if (Status count = core::ValidateHyperparameterCount(fixed.size() + ranges.size() +
                                                       (sweep.search.hyperband ? 1 : 0));
      !count.ok()) {
    return refuse("TrainingJobDefinition.StaticHyperParameters with ParameterRanges: " +
                  count.message() + ".");
  }

  // The training job each trial runs, checked as CreateTrainingJob checks one.
  core::HyperparameterMap first;
  for (const core::ParameterRange& range : ranges) {
    first[range.name] = range.type == core::ParameterType::kCategorical
                            ? range.values.front()
                            : core::EncodeCoordinate(range, 0);
  }
  json training = TrainingRequestOf(request, TuningTrainingJobName(name, 0, 1), first);
  if (auto unsupported = UnsupportedRequest(training)) {
    return refuse("TrainingJobDefinition: " + *unsupported);
  }
  control::SweepRequest trial = SweepRequestFor(training, executor);
  sweep.name = name;
  sweep.job_name.clear();
  sweep.command = trial.command;
  sweep.image = trial.image;
  sweep.executor = trial.executor;
  sweep.channels = trial.channels;
  sweep.sweep.fixed = std::move(fixed);
  sweep.max_runtime_seconds = trial.max_runtime_seconds;
  sweep.environment = trial.environment;
  sweep.resources = trial.resources;
  sweep.metric_definitions = trial.metric_definitions;
  sweep.output_root = trial.output_root;
  sweep.files_root = trial.files_root;
  json kept = request;
  kept.erase("Tags");
  sweep.client_request = std::move(kept);

  // What the scheduler stores must read back: its own checks, named in its terms.
  Result<control::SweepRequest> stored =
      control::ParseSweepRequest(control::ToJson(sweep), control::SweepRequestOrigin::kStored);
  if (!stored.ok()) return refuse("The tuning job cannot run: " + stored.status().message());
  return result;
}

}  // namespace trainyard::server::sagemaker
