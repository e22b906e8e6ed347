#include "app/client_sweep_spec.h"

#include "common/files.h"
#include "core/command_line.h"
#include "core/hyperparameters.h"
#include "core/objective.h"
#include "core/sweep_parse.h"

namespace trainyard::app {

namespace {

Status SetChannel(nlohmann::json& channels, const std::string& name, const std::string& id,
                  std::map<std::string, std::string>& given) {
  if (id.empty()) return InvalidArgument("channel '" + name + "' needs a dataset id");
  if (given.count(name)) return InvalidArgument("channel '" + name + "' is given twice");
  given[name] = id;
  channels[name] = id;
  return Status::Ok();
}

Result<nlohmann::json> ReadBodyFile(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status().WithContext("--file");
  nlohmann::json body = nlohmann::json::parse(*text, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return InvalidArgument("--file '" + path + "': not a JSON object");
  }
  return body;
}

// The object under `key`, created when missing; InvalidArgument when it is something else.
Result<nlohmann::json*> ObjectField(nlohmann::json& body, const std::string& key) {
  if (!body.contains(key) || body[key].is_null()) body[key] = nlohmann::json::object();
  if (!body[key].is_object()) return InvalidArgument("field '" + key + "' must be an object");
  return &body[key];
}

// A search's ranges from --param: the ranges as they are, and each list of values as a
// categorical range of the values the job will see.
Status AddRanges(nlohmann::json& body, const core::SweepFlags& parsed) {
  if (body.contains("grid")) return InvalidArgument("--strategy: the file's 'grid' is a grid's");
  TY_ASSIGN_OR_RETURN(nlohmann::json * ranges, ObjectField(body, "ranges"));
  for (const core::ParameterRange& range : parsed.ranges) {
    nlohmann::json entry = {{"type", core::ParameterTypeName(range.type)},
                            {"scaling", core::ParameterScalingName(range.scaling)}};
    if (range.type == core::ParameterType::kInteger) {
      entry["min"] = static_cast<int64_t>(range.min);
      entry["max"] = static_cast<int64_t>(range.max);
    } else {
      entry["min"] = range.min;
      entry["max"] = range.max;
    }
    (*ranges)[range.name] = std::move(entry);
  }
  for (const auto& [name, values] : parsed.sweep.grid) {
    nlohmann::json typed = nlohmann::json::array();
    for (const std::string& value : values) typed.push_back(core::DecodeHyperparameter(value));
    (*ranges)[name] = {{"type", "categorical"}, {"values", std::move(typed)}};
  }
  return Status::Ok();
}

// --resource epochs=1..27: hyperband's resource, min_resource and max_resource.
Status SetResource(nlohmann::json& hyperband, const std::string& text) {
  TY_ASSIGN_OR_RETURN(auto pair, core::ParseKeyValue(text, "--resource"));
  const std::string& bounds = pair.second;
  const size_t dots = bounds.find("..");
  const auto whole = [](const std::string& part, int64_t& value) {
    size_t used = 0;
    try {
      value = std::stoll(part, &used);
    } catch (const std::exception&) {
      return false;
    }
    return used == part.size();
  };
  int64_t min = 0;
  int64_t max = 0;
  if (dots == std::string::npos || !whole(bounds.substr(0, dots), min) ||
      !whole(bounds.substr(dots + 2), max)) {
    return InvalidArgument("--resource '" + text + "': expected NAME=MIN..MAX (epochs=1..27)");
  }
  hyperband["resource"] = pair.first;
  hyperband["min_resource"] = min;
  hyperband["max_resource"] = max;
  return Status::Ok();
}

}  // namespace

Result<nlohmann::json> BuildSweepBody(const ClientSweepFlags& flags) {
  nlohmann::json body = nlohmann::json::object();
  if (!flags.file.empty()) {
    TY_ASSIGN_OR_RETURN(body, ReadBodyFile(flags.file));
  }
  if (!flags.name.empty()) body["name"] = flags.name;
  if (!flags.executor.empty()) {
    body["executor"] = flags.executor;
  } else if (!body.contains("executor")) {
    body["executor"] = "local";
  }
  if (!flags.command.empty()) {
    TY_ASSIGN_OR_RETURN(std::vector<std::string> words, core::SplitCommandLine(flags.command));
    if (words.empty()) return InvalidArgument("--command is empty");
    body["trainer"] = {{"command", words}};
  } else if (!flags.image.empty()) {
    body["trainer"] = {{"image", flags.image}};
  }
  if (!body.contains("trainer")) {
    return InvalidArgument("give the trainer: --command 'CMD ARGS' or --image IMAGE (or --file)");
  }

  std::map<std::string, std::string> given;
  if (!flags.train.empty() || !flags.eval.empty() || !flags.pretrained.empty() ||
      !flags.config.empty() || !flags.channels.empty()) {
    TY_ASSIGN_OR_RETURN(nlohmann::json * channels, ObjectField(body, "channels"));
    for (auto [name, id] : {std::pair{"training", &flags.train},
                            {"evaluation", &flags.eval},
                            {"pretrained", &flags.pretrained},
                            {"config", &flags.config}}) {
      if (!id->empty()) TY_RETURN_IF_ERROR(SetChannel(*channels, name, *id, given));
    }
    for (const std::string& text : flags.channels) {
      TY_ASSIGN_OR_RETURN(auto pair, core::ParseKeyValue(text, "--channel"));
      TY_RETURN_IF_ERROR(SetChannel(*channels, pair.first, pair.second, given));
    }
  }
  TY_ASSIGN_OR_RETURN(core::SweepFlags parsed,
                      core::ParseSearchFlags(flags.hyperparameters, flags.params));
  const core::SweepSpec& flagged = parsed.sweep;
  if (!flags.strategy.empty()) body["strategy"] = flags.strategy;
  const bool search = body.contains("strategy") && body["strategy"].is_string() &&
                      body["strategy"].get<std::string>() != "grid";
  if (!parsed.ranges.empty() && !search) {
    return InvalidArgument("--param '" + parsed.ranges.front().name +
                           "': a range needs --strategy random, bayesian or hyperband "
                           "(a grid lists its values)");
  }
  if (!flagged.fixed.empty()) {
    TY_ASSIGN_OR_RETURN(nlohmann::json * fixed, ObjectField(body, "hyperparameters"));
    for (const auto& [key, value] : flagged.fixed)
      (*fixed)[key] = core::DecodeHyperparameter(value);
  }
  if (search) {
    TY_RETURN_IF_ERROR(AddRanges(body, parsed));
  } else if (!flagged.grid.empty()) {
    if (body.contains("combinations")) {
      return InvalidArgument("--param cannot be combined with the file's 'combinations'");
    }
    TY_ASSIGN_OR_RETURN(nlohmann::json * grid, ObjectField(body, "grid"));
    for (const auto& [name, values] : flagged.grid) {
      nlohmann::json typed = nlohmann::json::array();
      for (const std::string& value : values) typed.push_back(core::DecodeHyperparameter(value));
      (*grid)[name] = std::move(typed);
    }
  }
  if (!flags.environment.empty()) {
    TY_ASSIGN_OR_RETURN(nlohmann::json * environment, ObjectField(body, "environment"));
    for (const std::string& text : flags.environment) {
      TY_ASSIGN_OR_RETURN(auto pair, core::ParseKeyValue(text, "--env"));
      (*environment)[pair.first] = pair.second;
    }
  }
  if (flags.max_parallel > 0) body["max_parallel"] = flags.max_parallel;
  if (flags.max_jobs > 0) body["max_jobs"] = flags.max_jobs;
  if (flags.random_seed >= 0) body["random_seed"] = flags.random_seed;
  if (!flags.early_stopping.empty()) body["early_stopping"] = flags.early_stopping;
  if (!flags.resource.empty() || flags.eta > 0) {
    TY_ASSIGN_OR_RETURN(nlohmann::json * hyperband, ObjectField(body, "hyperband"));
    if (!flags.resource.empty()) TY_RETURN_IF_ERROR(SetResource(*hyperband, flags.resource));
    if (flags.eta > 0) (*hyperband)["eta"] = flags.eta;
  }
  if (flags.max_runtime_seconds > 0) body["max_runtime_seconds"] = flags.max_runtime_seconds;
  if (!flags.slurm_user.empty()) {
    TY_ASSIGN_OR_RETURN(nlohmann::json * slurm, ObjectField(body, "slurm"));
    (*slurm)["user"] = flags.slurm_user;
  }
  if (!flags.objective.empty()) {
    TY_ASSIGN_OR_RETURN(core::Objective objective, core::ParseObjective(flags.objective));
    body["objective"] = {{"metric", objective.metric},
                         {"goal", core::ObjectiveGoalName(objective.goal)}};
  }
  if (!flags.idempotency_key.empty()) body["idempotency_key"] = flags.idempotency_key;
  if (!body.contains("name") || !body["name"].is_string() ||
      body["name"].get<std::string>().empty()) {
    return InvalidArgument("give the sweep a --name (or a \"name\" in --file)");
  }
  return body;
}

}  // namespace trainyard::app
