#include "control/sweep_request.h"

#include <regex>
#include <set>

#include "contract/metric_pattern.h"
#include "control/search_request.h"
#include "core/hyperparameters.h"
#include "core/job_naming.h"
#include "core/sagemaker_limits.h"
#include "core/sweep_parse.h"

namespace trainyard::control {
namespace {

using json = nlohmann::json;

const std::set<std::string>& KnownFields() {
  static const std::set<std::string> fields = {
      "name", "trainer", "executor", "channels", "hyperparameters", "grid", "combinations",
      "max_parallel", "max_runtime_seconds", "environment", "resources", "metric_definitions",
      "objective", "idempotency_key", "requeue_on_restart", "job_name", "literal_hyperparameters",
      "strategy", "ranges", "max_jobs", "random_seed", "hyperband", "early_stopping", "slurm",
      // Stored requests only (SweepRequestOrigin::kStored).
      "output_root", "files_root", "client_request", "prior_trials"};
  return fields;
}

bool IsStoredOnlyField(const std::string& field) {
  return field == "output_root" || field == "files_root" || field == "client_request" ||
         field == "prior_trials";
}

Status CheckObject(const json& value, const std::string& field) {
  if (!value.is_object()) return FieldError(field, "must be an object");
  return Status::Ok();
}

Result<std::string> NonEmptyString(const json& value, const std::string& field, size_t max_length) {
  if (!value.is_string()) return FieldError(field, "must be a string");
  std::string text = value.get<std::string>();
  if (text.empty()) return FieldError(field, "must not be empty");
  if (text.size() > max_length) {
    return FieldError(field, "is longer than " + std::to_string(max_length) + " characters");
  }
  return text;
}

Result<int64_t> IntegerIn(const json& value, const std::string& field, int64_t min, int64_t max) {
  if (!value.is_number_integer()) return FieldError(field, "must be an integer");
  int64_t number = value.get<int64_t>();
  if (number < min || number > max) {
    return FieldError(field, "must be between " + std::to_string(min) + " and " +
                                 std::to_string(max) + ", not " + std::to_string(number));
  }
  return number;
}

// "slurm": {"user": NAME}: a user name as Slurm and the nodes' accounts take it.
Status ParseSlurm(const json& slurm, SweepRequest& request) {
  TY_RETURN_IF_ERROR(CheckObject(slurm, "slurm"));
  for (const auto& [key, value] : slurm.items()) {
    if (key != "user") return FieldError("slurm." + key, "unknown field (known: user)");
    TY_ASSIGN_OR_RETURN(request.slurm_user, NonEmptyString(value, "slurm.user", 64));
    static const std::regex kUserName("[A-Za-z0-9_][A-Za-z0-9._-]*");
    if (!std::regex_match(request.slurm_user, kUserName)) {
      return FieldError("slurm.user", "'" + request.slurm_user +
                                          "' is not a user name (letters, digits, '.', '_', "
                                          "'-'; not starting with '.' or '-')");
    }
  }
  return Status::Ok();
}

Result<std::map<std::string, std::string>> StringMap(const json& value, const std::string& field) {
  TY_RETURN_IF_ERROR(CheckObject(value, field));
  std::map<std::string, std::string> map;
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string()) return FieldError(field + "." + key, "must be a string");
    map[key] = item.get<std::string>();
  }
  return map;
}

Status ParseTrainer(const json& trainer, SweepRequest& request) {
  TY_RETURN_IF_ERROR(CheckObject(trainer, "trainer"));
  for (const auto& [key, value] : trainer.items()) {
    if (key != "command" && key != "image") {
      return FieldError("trainer." + key, "unknown field (expected command or image)");
    }
  }
  if (trainer.contains("command") == trainer.contains("image")) {
    return FieldError("trainer", "give exactly one of command (a list of strings) or image");
  }
  if (trainer.contains("image")) {
    TY_ASSIGN_OR_RETURN(request.image, NonEmptyString(trainer["image"], "trainer.image", 1024));
    return Status::Ok();
  }
  const json& command = trainer["command"];
  if (!command.is_array() || command.empty()) {
    return FieldError("trainer.command", "must be a non-empty list of strings");
  }
  for (size_t i = 0; i < command.size(); ++i) {
    if (!command[i].is_string()) {
      return FieldError("trainer.command[" + std::to_string(i) + "]", "must be a string");
    }
    request.command.push_back(command[i].get<std::string>());
  }
  if (request.command[0].empty()) return FieldError("trainer.command[0]", "must not be empty");
  return Status::Ok();
}

Result<ChannelSource> ParseChannelSource(const std::string& name, const json& value,
                                         SweepRequestOrigin origin) {
  const std::string field = "channels." + name;
  static const std::regex dataset_id("ds-[0-9a-f]{16}");
  if (value.is_string()) {
    std::string id = value.get<std::string>();
    if (!std::regex_match(id, dataset_id)) {
      return FieldError(field, "'" + id + "' is not a dataset id (ds-<16 hex>)");
    }
    return ChannelSource(DatasetChannel{id});
  }
  if (origin != SweepRequestOrigin::kStored || !value.is_object()) {
    return FieldError(field, "must be a string: a dataset id (ds-<16 hex>)");
  }
  for (const auto& [key, item] : value.items()) {
    if (key != "object_prefix") return FieldError(field + "." + key, "unknown field");
  }
  if (!value.contains("object_prefix")) return FieldError(field + ".object_prefix", "is required");
  TY_ASSIGN_OR_RETURN(std::string prefix,
                      NonEmptyString(value["object_prefix"], field + ".object_prefix", 2048));
  return ChannelSource(ObjectPrefixChannel{prefix});
}

Status ParseChannels(const json& channels, SweepRequest& request, SweepRequestOrigin origin) {
  TY_RETURN_IF_ERROR(CheckObject(channels, "channels"));
  // {} means no channels, as leaving the field out does (the canonical form writes it so);
  // SageMaker's 1 to 20 apply to a list that is given.
  if (!channels.empty()) {
    if (Status count = core::ValidateChannelCount(channels.size()); !count.ok()) {
      return FieldError("channels", count.message());
    }
  }
  for (const auto& [name, value] : channels.items()) {
    if (Status valid = core::ValidateChannelName(name); !valid.ok()) {
      return FieldError("channels." + name, valid.message());
    }
    TY_ASSIGN_OR_RETURN(request.channels[name], ParseChannelSource(name, value, origin));
  }
  return Status::Ok();
}

// SageMaker's HyperParameters: strings, kept exactly as given, one job.
Status ParseLiteralHyperparameters(const json& body, SweepRequest& request) {
  for (const char* other : {"hyperparameters", "grid", "combinations"}) {
    if (body.contains(other)) {
      return FieldError("literal_hyperparameters",
                        std::string("cannot be given with ") + other +
                            " (literal hyperparameters are the one job's, as they are)");
    }
  }
  TY_ASSIGN_OR_RETURN(request.sweep.fixed,
                      StringMap(body["literal_hyperparameters"], "literal_hyperparameters"));
  if (Status valid = core::ValidateHyperparameters(request.sweep.fixed); !valid.ok()) {
    return FieldError("literal_hyperparameters", valid.message());
  }
  request.literal_hyperparameters = true;
  return Status::Ok();
}

Status ParseSweepShape(const json& body, SweepRequest& request) {
  json document = json::object();
  if (body.contains("hyperparameters")) {
    TY_RETURN_IF_ERROR(CheckObject(body["hyperparameters"], "hyperparameters"));
    document["fixed"] = body["hyperparameters"];
  }
  if (body.contains("grid")) document["grid"] = body["grid"];
  if (body.contains("combinations")) document["combinations"] = body["combinations"];
  if (!document.contains("grid") && !document.contains("combinations")) {
    document["combinations"] = json::array({json::object()});
  }
  auto sweep = core::ParseSweepJson(document);
  if (!sweep.ok()) {
    // ParseSweepJson names "fixed"; the API calls it "hyperparameters".
    std::string message = sweep.status().message();
    if (message.rfind("fixed", 0) == 0) message = "hyperparameters" + message.substr(5);
    std::string field = message.substr(0, message.find(':'));
    return FieldError(field, message.find(": ") == std::string::npos
                                 ? message
                                 : message.substr(message.find(": ") + 2));
  }
  request.sweep = std::move(sweep).value();
  if (auto jobs = core::ExpandSweep(request.sweep); !jobs.ok()) {
    return FieldError(body.contains("grid") ? "grid" : "combinations", jobs.status().message());
  }
  return Status::Ok();
}

Status ParseResources(const json& resources, SweepRequest& request) {
  TY_RETURN_IF_ERROR(CheckObject(resources, "resources"));
  for (const auto& [key, value] : resources.items()) {
    if (key == "instance_type") {
      TY_ASSIGN_OR_RETURN(request.resources.instance_type,
                          NonEmptyString(value, "resources.instance_type", 64));
    } else if (key == "instance_count") {
      TY_ASSIGN_OR_RETURN(int64_t count, IntegerIn(value, "resources.instance_count", 1, 1));
      request.resources.instance_count = static_cast<int>(count);
    } else if (key == "volume_size_gb") {
      TY_ASSIGN_OR_RETURN(int64_t size, IntegerIn(value, "resources.volume_size_gb", 1, 16384));
      request.resources.volume_size_gb = static_cast<int>(size);
    } else {
      return FieldError("resources." + key,
                        "unknown field (expected instance_type, instance_count, volume_size_gb)");
    }
  }
  return Status::Ok();
}

Status ParseMetricDefinitions(const json& definitions, SweepRequest& request) {
  if (!definitions.is_array()) return FieldError("metric_definitions", "must be a list");
  for (size_t i = 0; i < definitions.size(); ++i) {
    std::string field = "metric_definitions[" + std::to_string(i) + "]";
    const json& entry = definitions[i];
    TY_RETURN_IF_ERROR(CheckObject(entry, field));
    if (!entry.contains("name") || !entry.contains("regex")) {
      return FieldError(field, "needs name and regex");
    }
    contract::MetricDefinition definition;
    TY_ASSIGN_OR_RETURN(definition.name, NonEmptyString(entry["name"], field + ".name", 255));
    TY_ASSIGN_OR_RETURN(definition.regex, NonEmptyString(entry["regex"], field + ".regex", 500));
    // The wrapper matches with RE2 (contract/metric_pattern.h): refuse what it cannot compile.
    Result<contract::MetricPattern> pattern = contract::MetricPattern::Compile(definition.regex);
    if (!pattern.ok()) return FieldError(field + ".regex", pattern.status().message());
    request.metric_definitions.push_back(std::move(definition));
  }
  return Status::Ok();
}

Status ParseObjective(const json& objective, SweepRequest& request) {
  TY_RETURN_IF_ERROR(CheckObject(objective, "objective"));
  for (const auto& [key, value] : objective.items()) {
    if (key != "metric" && key != "goal") return FieldError("objective." + key, "unknown field");
  }
  core::Objective parsed;
  if (!objective.contains("metric")) return FieldError("objective.metric", "is required");
  TY_ASSIGN_OR_RETURN(parsed.metric, NonEmptyString(objective["metric"], "objective.metric", 255));
  Result<core::ObjectiveGoal> goal = core::DefaultObjectiveGoal(parsed.metric);
  if (objective.contains("goal")) {
    const json& text = objective["goal"];
    goal = text.is_string() ? core::ParseObjectiveGoal(text.get<std::string>())
                            : Result<core::ObjectiveGoal>(InvalidArgument("must be min or max"));
  }
  if (!goal.ok()) return FieldError("objective.goal", goal.status().message());
  parsed.goal = *goal;
  request.objective = parsed;
  return Status::Ok();
}

}  // namespace

Status FieldError(const std::string& field, const std::string& reason) {
  return InvalidArgument("field '" + field + "': " + reason);
}

std::string FieldOfError(const Status& status) {
  const std::string& message = status.message();
  const std::string prefix = "field '";
  if (status.code() != StatusCode::kInvalidArgument || message.rfind(prefix, 0) != 0) return "";
  size_t end = message.find("': ", prefix.size());
  return end == std::string::npos ? "" : message.substr(prefix.size(), end - prefix.size());
}

Result<SweepRequest> ParseSweepRequest(const json& body, SweepRequestOrigin origin) {
  if (!body.is_object()) return InvalidArgument("the request body must be a JSON object");
  for (const auto& [key, value] : body.items()) {
    if (!KnownFields().count(key) ||
        (origin == SweepRequestOrigin::kClient && IsStoredOnlyField(key))) {
      return FieldError(key, "unknown field");
    }
  }
  SweepRequest request;
  if (!body.contains("name")) return FieldError("name", "is required");
  TY_ASSIGN_OR_RETURN(request.name, NonEmptyString(body["name"], "name", 40));
  if (core::SanitizeJobNamePrefix(request.name) != request.name) {
    return FieldError("name",
                      "may hold only letters, digits and single '-' inside (a prefix of "
                      "SageMaker job names), e.g. '" +
                          core::SanitizeJobNamePrefix(request.name) + "'");
  }
  if (!body.contains("trainer")) return FieldError("trainer", "is required");
  TY_RETURN_IF_ERROR(ParseTrainer(body["trainer"], request));
  if (body.contains("executor")) {
    TY_ASSIGN_OR_RETURN(request.executor, NonEmptyString(body["executor"], "executor", 64));
  }
  // SageMaker's InputDataConfig is optional: code that makes or downloads its own data needs
  // no channel.
  if (body.contains("channels")) {
    TY_RETURN_IF_ERROR(ParseChannels(body["channels"], request, origin));
  }
  if (body.contains("literal_hyperparameters")) {
    TY_RETURN_IF_ERROR(ParseLiteralHyperparameters(body, request));
  } else {
    TY_RETURN_IF_ERROR(ParseSweepShape(body, request));
  }
  if (body.contains("job_name")) {
    TY_ASSIGN_OR_RETURN(request.job_name, NonEmptyString(body["job_name"], "job_name", 63));
    if (Status valid = core::ValidateTrainingJobName(request.job_name); !valid.ok()) {
      return FieldError("job_name", valid.message());
    }
    auto jobs = core::ExpandSweep(request.sweep);
    if (jobs.ok() && jobs->size() != 1) {
      return FieldError("job_name", "names the one job of a sweep, and this sweep has " +
                                        std::to_string(jobs->size()) + " jobs");
    }
  }
  if (body.contains("max_parallel")) {
    TY_ASSIGN_OR_RETURN(int64_t parallel,
                        IntegerIn(body["max_parallel"], "max_parallel", 0, 10000));
    request.max_parallel = static_cast<int>(parallel);
  }
  if (body.contains("max_runtime_seconds")) {
    TY_ASSIGN_OR_RETURN(request.max_runtime_seconds,
                        IntegerIn(body["max_runtime_seconds"], "max_runtime_seconds", 1,
                                  core::kMaxMaxRuntimeSeconds));
  }
  if (body.contains("environment")) {
    TY_ASSIGN_OR_RETURN(request.environment, StringMap(body["environment"], "environment"));
    if (Status valid = core::ValidateEnvironment(request.environment); !valid.ok()) {
      return FieldError("environment", valid.message());
    }
    for (const auto& [key, value] : request.environment) {
      if (core::IsReservedEnvironmentVariable(key)) {
        return FieldError("environment." + key, core::kReservedEnvironmentMessage);
      }
    }
  }
  if (body.contains("resources")) TY_RETURN_IF_ERROR(ParseResources(body["resources"], request));
  if (body.contains("slurm")) TY_RETURN_IF_ERROR(ParseSlurm(body["slurm"], request));
  if (body.contains("metric_definitions")) {
    TY_RETURN_IF_ERROR(ParseMetricDefinitions(body["metric_definitions"], request));
  }
  if (body.contains("objective")) TY_RETURN_IF_ERROR(ParseObjective(body["objective"], request));
  if (body.contains("idempotency_key") && !body["idempotency_key"].is_null()) {
    TY_ASSIGN_OR_RETURN(request.idempotency_key,
                        NonEmptyString(body["idempotency_key"], "idempotency_key", 255));
  }
  if (body.contains("requeue_on_restart")) {
    if (!body["requeue_on_restart"].is_boolean()) {
      return FieldError("requeue_on_restart", "must be true or false");
    }
    request.requeue_on_restart = body["requeue_on_restart"].get<bool>();
  }
  if (body.contains("output_root")) {
    TY_ASSIGN_OR_RETURN(request.output_root,
                        NonEmptyString(body["output_root"], "output_root", 1024));
  }
  if (body.contains("files_root")) {
    TY_ASSIGN_OR_RETURN(request.files_root, NonEmptyString(body["files_root"], "files_root", 1024));
  }
  if (body.contains("client_request")) request.client_request = body["client_request"];
  if (body.contains("prior_trials")) {
    const json& priors = body["prior_trials"];
    if (!priors.is_array()) return FieldError("prior_trials", "must be a list");
    for (size_t i = 0; i < priors.size(); ++i) {
      const std::string field = "prior_trials[" + std::to_string(i) + "]";
      if (!priors[i].is_object() || !priors[i].contains("hyperparameters") ||
          !priors[i].contains("objective") || !priors[i]["objective"].is_number()) {
        return FieldError(field, "must be {\"hyperparameters\": {...}, \"objective\": number}");
      }
      core::Trial trial;
      TY_ASSIGN_OR_RETURN(trial.hyperparameters,
                          StringMap(priors[i]["hyperparameters"], field + ".hyperparameters"));
      trial.objective = priors[i]["objective"].get<double>();
      trial.ended = true;
      request.prior_trials.push_back(std::move(trial));
    }
  }
  TY_RETURN_IF_ERROR(ParseSearchFields(body, request));
  return request;
}

json ToJson(const SweepRequest& request) {
  json channels = json::object();
  for (const auto& [name, source] : request.channels) {
    if (const auto* dataset = std::get_if<DatasetChannel>(&source)) {
      channels[name] = dataset->dataset_id;
    } else {
      channels[name] = {{"object_prefix", std::get<ObjectPrefixChannel>(source).key_prefix}};
    }
  }
  json body = {{"name", request.name},
               {"executor", request.executor},
               {"channels", channels},
               {"max_parallel", request.max_parallel},
               {"max_runtime_seconds", request.max_runtime_seconds},
               {"environment", request.environment},
               {"requeue_on_restart", request.requeue_on_restart}};
  body["trainer"] =
      request.image.empty() ? json{{"command", request.command}} : json{{"image", request.image}};
  if (!request.job_name.empty()) body["job_name"] = request.job_name;
  json fixed = json::object();
  for (const auto& [key, value] : request.sweep.fixed) {
    fixed[key] = request.literal_hyperparameters ? json(value) : core::DecodeHyperparameter(value);
  }
  if (request.literal_hyperparameters) {
    body["literal_hyperparameters"] = fixed;
  } else {
    body["hyperparameters"] = fixed;
  }
  if (request.literal_hyperparameters) {
    // The one job of the literal values: no grid, no combinations.
  } else if (!request.sweep.grid.empty()) {
    json grid = json::object();
    for (const auto& [key, values] : request.sweep.grid) {
      json list = json::array();
      for (const std::string& value : values) list.push_back(core::DecodeHyperparameter(value));
      grid[key] = list;
    }
    body["grid"] = grid;
  } else {
    json combinations = json::array();
    for (const auto& combination : request.sweep.combinations) {
      combinations.push_back(core::DecodeHyperparameters(combination));
    }
    body["combinations"] = combinations;
  }
  body["resources"] = {{"instance_type", request.resources.instance_type},
                       {"instance_count", request.resources.instance_count}};
  if (request.resources.volume_size_gb > 0) {
    body["resources"]["volume_size_gb"] = request.resources.volume_size_gb;
  }
  if (!request.slurm_user.empty()) body["slurm"] = {{"user", request.slurm_user}};
  json definitions = json::array();
  for (const auto& definition : request.metric_definitions) {
    definitions.push_back({{"name", definition.name}, {"regex", definition.regex}});
  }
  body["metric_definitions"] = definitions;
  if (request.objective) {
    body["objective"] = {{"metric", request.objective->metric},
                         {"goal", core::ObjectiveGoalName(request.objective->goal)}};
  }
  if (request.idempotency_key) body["idempotency_key"] = *request.idempotency_key;
  if (request.output_root != SweepRequest().output_root) body["output_root"] = request.output_root;
  if (!request.files_root.empty()) body["files_root"] = request.files_root;
  if (!request.client_request.is_null()) body["client_request"] = request.client_request;
  if (!request.prior_trials.empty()) {
    json priors = json::array();
    for (const core::Trial& trial : request.prior_trials) {
      priors.push_back(
          {{"hyperparameters", trial.hyperparameters}, {"objective", trial.objective.value_or(0)}});
    }
    body["prior_trials"] = std::move(priors);
  }
  WriteSearchFields(request, body);
  return body;
}

}  // namespace trainyard::control
