#include "core/hyperparameters.h"

#include "common/utf8.h"
#include "core/python_format.h"
#include "core/python_json_loads.h"

namespace trainyard::core {

nlohmann::json DecodeHyperparameter(const std::string& raw) {
  std::optional<nlohmann::json> decoded = LoadsLikePython(raw);
  if (!decoded) return raw;
  return std::move(*decoded);
}

nlohmann::json DecodeHyperparameters(const HyperparameterMap& raw) {
  nlohmann::json decoded = nlohmann::json::object();
  for (const auto& [key, value] : raw) decoded[key] = DecodeHyperparameter(value);
  return decoded;
}

std::string EncodeHyperparameter(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  return PythonJsonDumps(value, /*ensure_ascii=*/false);
}

bool IsSageMakerKey(std::string_view key) {
  return key.starts_with("sagemaker_");
}

HyperparameterMap UserHyperparameters(const HyperparameterMap& raw) {
  HyperparameterMap user;
  for (const auto& [key, value] : raw) {
    if (!IsSageMakerKey(key)) user.emplace(key, value);
  }
  return user;
}

namespace {

// to_cmd_args' arg_value: an object as "k=v" pairs in key order, else _decode(value), which
// is "" for None and str(value) otherwise.
std::string ArgumentValue(const nlohmann::ordered_json& value) {
  if (value.is_null()) return "";
  if (!value.is_object()) return PythonStr(value);
  std::map<std::string, const nlohmann::ordered_json*> sorted;
  for (const auto& [key, item] : value.items()) sorted[key] = &item;
  std::string joined;
  for (const auto& [key, item] : sorted) {
    if (!joined.empty()) joined.push_back(',');
    joined.append(key).append("=").append(PythonStr(*item));
  }
  return joined;
}

}  // namespace

std::vector<std::string> ToCommandLineArguments(const HyperparameterMap& raw) {
  std::vector<std::string> arguments;
  for (const auto& [key, value] : raw) {  // std::map: already in sorted key order
    if (IsSageMakerKey(key)) continue;
    // Python's len() counts characters, so "é" is a one-character key too.
    const size_t length = CodePointCount(key).value_or(key.size());
    arguments.push_back(length == 0 ? "" : (length == 1 ? "-" : "--") + key);
    std::optional<nlohmann::ordered_json> decoded = LoadsLikePythonOrdered(value);
    arguments.push_back(decoded ? ArgumentValue(*decoded) : value);
  }
  return arguments;
}

std::string ToEnvironmentValue(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "";
  return PythonJsonDumps(value, /*ensure_ascii=*/true);
}

}  // namespace trainyard::core
