#include "control/search_request.h"

#include <cmath>

#include "core/hyperparameters.h"
#include "core/sagemaker_limits.h"

namespace trainyard::control {
namespace {

using json = nlohmann::json;

constexpr int64_t kMaxSearchJobs = 10000;  // core::kDefaultMaxSweepJobs, as a grid's limit

Result<double> Number(const json& value, const std::string& field) {
  if (!value.is_number()) return FieldError(field, "must be a number");
  const double number = value.get<double>();
  if (!std::isfinite(number)) return FieldError(field, "must be a finite number");
  return number;
}

Result<int64_t> Integer(const json& value, const std::string& field, int64_t min, int64_t max) {
  if (!value.is_number_integer()) return FieldError(field, "must be an integer");
  const int64_t number = value.get<int64_t>();
  if (number < min || number > max) {
    return FieldError(field, "must be between " + std::to_string(min) + " and " +
                                 std::to_string(max) + ", not " + std::to_string(number));
  }
  return number;
}

Result<std::string> Text(const json& value, const std::string& field) {
  if (!value.is_string()) return FieldError(field, "must be a string");
  return value.get<std::string>();
}

Result<core::ParameterRange> ParseRange(const std::string& name, const json& value) {
  const std::string field = "ranges." + name;
  if (!value.is_object()) return FieldError(field, "must be an object");
  for (const auto& [key, item] : value.items()) {
    if (key != "type" && key != "min" && key != "max" && key != "scaling" && key != "values") {
      return FieldError(field + "." + key,
                        "unknown field (expected type, min, max, scaling, values)");
    }
  }
  if (Status valid = core::ValidateHyperparameter(name, "0"); !valid.ok()) {
    return FieldError(field, valid.message());
  }
  core::ParameterRange range;
  range.name = name;
  if (!value.contains("type")) {
    return FieldError(field + ".type", "is required (continuous, integer or categorical)");
  }
  TY_ASSIGN_OR_RETURN(std::string type, Text(value["type"], field + ".type"));
  Result<core::ParameterType> parsed_type = core::ParseParameterType(type);
  if (!parsed_type.ok()) return FieldError(field + ".type", parsed_type.status().message());
  range.type = *parsed_type;
  if (range.type == core::ParameterType::kCategorical) {
    for (const char* numeric : {"min", "max", "scaling"}) {
      if (value.contains(numeric)) {
        return FieldError(field + "." + numeric, "is not a field of a categorical range");
      }
    }
    if (!value.contains("values") || !value["values"].is_array()) {
      return FieldError(field + ".values", "must be a list of values");
    }
    const json& values = value["values"];
    for (size_t i = 0; i < values.size(); ++i) {
      const std::string item = field + ".values[" + std::to_string(i) + "]";
      if (values[i].is_number_float() && !std::isfinite(values[i].get<double>())) {
        return FieldError(item, "must be a finite number");
      }
      std::string encoded = core::EncodeHyperparameter(values[i]);
      if (Status valid = core::ValidateHyperparameter(name, encoded); !valid.ok()) {
        return FieldError(item, valid.message());
      }
      range.values.push_back(std::move(encoded));
    }
  } else {
    if (value.contains("values")) {
      return FieldError(field + ".values", "is for categorical ranges; give min and max");
    }
    for (const char* bound : {"min", "max"}) {
      if (!value.contains(bound)) return FieldError(field + "." + bound, "is required");
    }
    TY_ASSIGN_OR_RETURN(range.min, Number(value["min"], field + ".min"));
    TY_ASSIGN_OR_RETURN(range.max, Number(value["max"], field + ".max"));
    if (value.contains("scaling")) {
      TY_ASSIGN_OR_RETURN(std::string scaling, Text(value["scaling"], field + ".scaling"));
      Result<core::ParameterScaling> parsed = core::ParseParameterScaling(scaling);
      if (!parsed.ok()) return FieldError(field + ".scaling", parsed.status().message());
      range.scaling = *parsed;
    }
  }
  if (Status valid = core::ValidateRange(range); !valid.ok()) {
    return FieldError(field, valid.message());
  }
  return range;
}

Status ParseHyperband(const json& value, SweepRequest& request) {
  if (!value.is_object()) return FieldError("hyperband", "must be an object");
  for (const auto& [key, item] : value.items()) {
    if (key != "resource" && key != "min_resource" && key != "max_resource" && key != "eta") {
      return FieldError("hyperband." + key,
                        "unknown field (expected resource, min_resource, max_resource, eta)");
    }
  }
  core::HyperbandSettings settings;
  if (!value.contains("resource")) {
    return FieldError("hyperband.resource",
                      "is required: the hyperparameter that carries each job's resource "
                      "(iterations, epochs)");
  }
  TY_ASSIGN_OR_RETURN(settings.resource, Text(value["resource"], "hyperband.resource"));
  if (Status valid = core::ValidateHyperparameter(settings.resource, "1"); !valid.ok()) {
    return FieldError("hyperband.resource", valid.message());
  }
  if (request.sweep.fixed.contains(settings.resource)) {
    return FieldError("hyperband.resource",
                      "'" + settings.resource +
                          "' is also a fixed hyperparameter; hyperband sets it for each job");
  }
  for (const core::ParameterRange& range : request.search.ranges) {
    if (range.name == settings.resource) {
      return FieldError("hyperband.resource", "'" + settings.resource +
                                                  "' is also a range; hyperband sets it for "
                                                  "each job");
    }
  }
  if (value.contains("min_resource")) {
    TY_ASSIGN_OR_RETURN(settings.min_resource,
                        Integer(value["min_resource"], "hyperband.min_resource", 1, 1000000000));
  }
  if (!value.contains("max_resource")) return FieldError("hyperband.max_resource", "is required");
  TY_ASSIGN_OR_RETURN(settings.max_resource,
                      Integer(value["max_resource"], "hyperband.max_resource", 1, 1000000000));
  if (settings.max_resource <= settings.min_resource) {
    return FieldError("hyperband.max_resource",
                      "must be above min_resource (" + std::to_string(settings.min_resource) + ")");
  }
  if (value.contains("eta")) {
    TY_ASSIGN_OR_RETURN(int64_t eta, Integer(value["eta"], "hyperband.eta", 2, 10));
    settings.eta = static_cast<int>(eta);
  }
  request.search.hyperband = settings;
  return Status::Ok();
}

// "early_stopping": "off" | "auto", for every strategy; auto judges jobs by the objective's
// intermediate values, so it needs the objective.
Status ParseEarlyStoppingField(const json& body, SweepRequest& request) {
  if (!body.contains("early_stopping")) return Status::Ok();
  TY_ASSIGN_OR_RETURN(std::string text, Text(body["early_stopping"], "early_stopping"));
  Result<core::EarlyStopping> mode = core::ParseEarlyStopping(text);
  if (!mode.ok()) return FieldError("early_stopping", mode.status().message());
  request.search.early_stopping = *mode;
  if (*mode == core::EarlyStopping::kAuto && !request.objective) {
    return FieldError("early_stopping",
                      "auto needs an objective: the metric whose intermediate values it judges");
  }
  return Status::Ok();
}

}  // namespace

Status ParseSearchFields(const json& body, SweepRequest& request) {
  TY_RETURN_IF_ERROR(ParseEarlyStoppingField(body, request));
  if (body.contains("strategy")) {
    TY_ASSIGN_OR_RETURN(std::string text, Text(body["strategy"], "strategy"));
    Result<core::SearchStrategy> strategy = core::ParseSearchStrategy(text);
    if (!strategy.ok()) return FieldError("strategy", strategy.status().message());
    request.search.strategy = *strategy;
  }
  const bool grid = request.search.strategy == core::SearchStrategy::kGrid;
  const std::string strategy_name = core::SearchStrategyName(request.search.strategy);
  if (grid) {
    for (const char* field : {"ranges", "max_jobs", "random_seed", "hyperband"}) {
      if (body.contains(field)) {
        return FieldError(field,
                          "is for the random, bayesian and hyperband strategies; a grid sweep "
                          "takes grid or combinations");
      }
    }
    return Status::Ok();
  }
  for (const char* field : {"grid", "combinations", "literal_hyperparameters", "job_name"}) {
    if (body.contains(field)) {
      return FieldError(
          field, "is not for strategy " + strategy_name + ", which takes ranges (docs/search.md)");
    }
  }
  if (!body.contains("ranges") || !body["ranges"].is_object() || body["ranges"].empty()) {
    return FieldError("ranges", "strategy " + strategy_name +
                                    " needs ranges: an object of parameter names to ranges");
  }
  for (const auto& [name, value] : body["ranges"].items()) {
    if (request.sweep.fixed.contains(name)) {
      return FieldError("ranges." + name,
                        "'" + name + "' is also a fixed hyperparameter; give it one way");
    }
    TY_ASSIGN_OR_RETURN(core::ParameterRange range, ParseRange(name, value));
    request.search.ranges.push_back(std::move(range));
  }
  if (request.search.strategy == core::SearchStrategy::kHyperband) {
    if (!body.contains("hyperband")) {
      return FieldError("hyperband",
                        "strategy hyperband needs {\"resource\": NAME, \"max_resource\": N}");
    }
    TY_RETURN_IF_ERROR(ParseHyperband(body["hyperband"], request));
  } else if (body.contains("hyperband")) {
    return FieldError("hyperband", "is for strategy hyperband, not " + strategy_name);
  }
  const size_t count = request.sweep.fixed.size() + request.search.ranges.size() +
                       (request.search.hyperband ? 1 : 0);
  if (Status valid = core::ValidateHyperparameterCount(count); !valid.ok()) {
    return FieldError("ranges", valid.message());
  }
  if (!body.contains("max_jobs")) {
    return FieldError("max_jobs", "is required by strategy " + strategy_name +
                                      ": the most jobs the search starts");
  }
  TY_ASSIGN_OR_RETURN(request.search.max_jobs,
                      Integer(body["max_jobs"], "max_jobs", 1, kMaxSearchJobs));
  if (body.contains("random_seed") && !body["random_seed"].is_null()) {
    const json& seed = body["random_seed"];
    if (!seed.is_number_integer() ||
        (seed.is_number_integer() && !seed.is_number_unsigned() && seed.get<int64_t>() < 0)) {
      return FieldError("random_seed", "must be a non-negative integer");
    }
    request.search.random_seed = seed.get<uint64_t>();
  }
  if (request.search.strategy != core::SearchStrategy::kRandom && !request.objective) {
    return FieldError("objective",
                      "is required by strategy " + strategy_name + ": the metric it learns from");
  }
  return Status::Ok();
}

void WriteSearchFields(const SweepRequest& request, json& body) {
  const core::SearchSpec& search = request.search;
  if (search.early_stopping != core::EarlyStopping::kOff) {
    body["early_stopping"] = core::EarlyStoppingName(search.early_stopping);
  }
  if (search.strategy == core::SearchStrategy::kGrid) return;
  body["strategy"] = core::SearchStrategyName(search.strategy);
  json ranges = json::object();
  for (const core::ParameterRange& range : search.ranges) {
    json entry = {{"type", core::ParameterTypeName(range.type)}};
    if (range.type == core::ParameterType::kCategorical) {
      json values = json::array();
      for (const std::string& value : range.values) {
        values.push_back(core::DecodeHyperparameter(value));
      }
      entry["values"] = values;
    } else if (range.type == core::ParameterType::kInteger) {
      entry["min"] = static_cast<int64_t>(range.min);
      entry["max"] = static_cast<int64_t>(range.max);
      entry["scaling"] = core::ParameterScalingName(range.scaling);
    } else {
      entry["min"] = range.min;
      entry["max"] = range.max;
      entry["scaling"] = core::ParameterScalingName(range.scaling);
    }
    ranges[range.name] = entry;
  }
  body["ranges"] = ranges;
  body["max_jobs"] = search.max_jobs;
  if (search.random_seed) body["random_seed"] = *search.random_seed;
  if (search.hyperband) {
    body["hyperband"] = {{"resource", search.hyperband->resource},
                         {"min_resource", search.hyperband->min_resource},
                         {"max_resource", search.hyperband->max_resource},
                         {"eta", search.hyperband->eta}};
  }
  body.erase("combinations");
}

}  // namespace trainyard::control
