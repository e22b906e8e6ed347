// Hyperparameters as SageMaker carries them (every value a string) and as AWS's training
// toolkit hands them to a script (decoded JSON, command-line arguments, SM_* variables).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace trainyard::core {

// SageMaker's HyperParameters map: every value a string.
using HyperparameterMap = std::map<std::string, std::string>;

// The toolkit's decoding (environment.read_hyperparameters): the value json.loads gives when
// the string parses ("5" -> 5, "0.1" -> 0.1, "\"a\"" -> "a", "[1,2]" -> list, "true" -> true,
// " 5 " -> 5), else the string itself ("abc", "1e", "", "True"). The few strings that Python
// parses but JSON cannot hold (NaN, Infinity, 1e400, integers beyond 64 bits) stay strings:
// see LoadsLikePython.
nlohmann::json DecodeHyperparameter(const std::string& raw);

// Every entry decoded, as a JSON object.
nlohmann::json DecodeHyperparameters(const HyperparameterMap& raw);

// How a typed value is sent as a SageMaker string: a string as its content, anything else as
// compact JSON with floats printed as Python prints them, so that decoding gives it back.
std::string EncodeHyperparameter(const nlohmann::json& value);

// The toolkit's framework parameters (sagemaker_program, sagemaker_submit_directory, ...):
// keys starting "sagemaker_", which it keeps out of the script's arguments and SM_HPS.
bool IsSageMakerKey(std::string_view key);

// The map without its sagemaker_* keys: what the toolkit calls the user's hyperparameters.
HyperparameterMap UserHyperparameters(const HyperparameterMap& raw);

// The toolkit's command-line arguments (mapping.to_cmd_args of the user's hyperparameters):
// keys sorted, "--key" ("-k" for a one-character key, "" for an empty one), then the decoded
// value as Python's str() prints it: strings as they are, True/False, "" for null, ints,
// floats as repr ("0.1", "1e-05", "2.0"), lists as repr ("[1, 2]", "['a', 'b']"), and an
// object as "k=v,k2=v2" with sorted keys and each v printed by str().
std::vector<std::string> ToCommandLineArguments(const HyperparameterMap& raw);

// The toolkit's value of an SM_* variable (mapping.to_env_vars): a string as it is, null as
// "", anything else json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).
std::string ToEnvironmentValue(const nlohmann::json& value);

}  // namespace trainyard::core
