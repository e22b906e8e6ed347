#include "app/client_sweep_spec.h"

#include <cmath>
#include <cstdlib>

#include "common/files.h"
#include "core/command_line.h"

namespace trainyard::app {

namespace {

Result<std::pair<std::string, std::string>> SplitPair(const std::string& text,
                                                      const std::string& flag) {
  size_t equals = text.find('=');
  if (equals == std::string::npos || equals == 0) {
    return InvalidArgument(flag + " '" + text + "': expected KEY=VALUE");
  }
  return std::make_pair(text.substr(0, equals), text.substr(equals + 1));
}

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

}  // namespace

nlohmann::json TypedFlagValue(const std::string& text) {
  if (text == "true") return true;
  if (text == "false") return false;
  if (text.empty() || text.find_first_not_of("0123456789+-.eE") != std::string::npos) {
    return text;
  }
  nlohmann::json strict = nlohmann::json::parse(text, nullptr, false);
  if (!strict.is_discarded() && strict.is_number()) return strict;
  // Forms JSON does not allow but people write: ".5", "+1", "5.".
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (end == text.c_str() + text.size() && std::isfinite(value)) return value;
  return text;
}

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
      TY_ASSIGN_OR_RETURN(auto pair, SplitPair(text, "--channel"));
      TY_RETURN_IF_ERROR(SetChannel(*channels, pair.first, pair.second, given));
    }
  }
  if (!flags.hyperparameters.empty()) {
    TY_ASSIGN_OR_RETURN(nlohmann::json * fixed, ObjectField(body, "hyperparameters"));
    for (const std::string& text : flags.hyperparameters) {
      TY_ASSIGN_OR_RETURN(auto pair, SplitPair(text, "--hp"));
      (*fixed)[pair.first] = TypedFlagValue(pair.second);
    }
  }
  if (!flags.params.empty()) {
    if (body.contains("combinations")) {
      return InvalidArgument("--param cannot be combined with the file's 'combinations'");
    }
    TY_ASSIGN_OR_RETURN(nlohmann::json * grid, ObjectField(body, "grid"));
    std::map<std::string, bool> seen;
    for (const std::string& text : flags.params) {
      TY_ASSIGN_OR_RETURN(auto pair, SplitPair(text, "--param"));
      if (seen[pair.first]) return InvalidArgument("--param '" + pair.first + "' is given twice");
      seen[pair.first] = true;
      nlohmann::json values = nlohmann::json::array();
      size_t start = 0;
      while (true) {
        size_t comma = pair.second.find(',', start);
        std::string value = pair.second.substr(start, comma - start);
        if (value.empty()) {
          return InvalidArgument("--param '" + text +
                                 "': expected NAME=V1,V2,... without empty values");
        }
        values.push_back(TypedFlagValue(value));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      (*grid)[pair.first] = values;
    }
  }
  if (!flags.environment.empty()) {
    TY_ASSIGN_OR_RETURN(nlohmann::json * environment, ObjectField(body, "environment"));
    for (const std::string& text : flags.environment) {
      TY_ASSIGN_OR_RETURN(auto pair, SplitPair(text, "--env"));
      (*environment)[pair.first] = pair.second;
    }
  }
  if (flags.max_parallel > 0) body["max_parallel"] = flags.max_parallel;
  if (flags.max_runtime_seconds > 0) body["max_runtime_seconds"] = flags.max_runtime_seconds;
  if (!flags.objective.empty()) {
    size_t colon = flags.objective.rfind(':');
    std::string goal = colon == std::string::npos ? "" : flags.objective.substr(colon + 1);
    if (colon == 0 || (goal != "max" && goal != "min")) {
      return InvalidArgument("--objective '" + flags.objective +
                             "': expected METRIC:max or METRIC:min");
    }
    body["objective"] = {{"metric", flags.objective.substr(0, colon)}, {"goal", goal}};
  }
  if (!flags.idempotency_key.empty()) body["idempotency_key"] = flags.idempotency_key;
  if (!body.contains("name") || !body["name"].is_string() ||
      body["name"].get<std::string>().empty()) {
    return InvalidArgument("give the sweep a --name (or a \"name\" in --file)");
  }
  return body;
}

}  // namespace trainyard::app
