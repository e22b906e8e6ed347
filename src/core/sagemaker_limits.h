// SageMaker's limits on a CreateTrainingJob request, checked before a job is accepted so that a
// job that runs here would also be accepted by SageMaker.
//
// Source: botocore's service model (Debian python3-botocore 1.29.27,
// botocore/data/sagemaker/2017-07-24/service-2.json), shapes TrainingJobName, HyperParameters,
// HyperParameterKey/Value, InputDataConfig, ChannelName, TrainingEnvironmentMap/Key/Value and
// StoppingCondition. Lengths count characters (Unicode code points), not bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "common/status.h"
#include "core/hyperparameters.h"

namespace trainyard::core {

// TrainingJobName: min 1, max 63, pattern ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}.
inline constexpr size_t kMaxTrainingJobNameLength = 63;
// HyperParameters: max 100 entries; HyperParameterKey max 256, HyperParameterValue max 2500.
// (The request's documentation still says 256 for values; the model's constraint is 2500.)
inline constexpr size_t kMaxHyperparameters = 100;
inline constexpr size_t kMaxHyperparameterKeyLength = 256;
inline constexpr size_t kMaxHyperparameterValueLength = 2500;
// InputDataConfig: 1 to 20 channels; ChannelName: 1 to 64, pattern [A-Za-z0-9\.\-_]+.
inline constexpr size_t kMinChannels = 1;
inline constexpr size_t kMaxChannels = 20;
inline constexpr size_t kMaxChannelNameLength = 64;
// TrainingEnvironmentMap: max 48 entries; key max 512, pattern [a-zA-Z_][a-zA-Z0-9_]*;
// value max 512, pattern [\S\s]* (anything, line breaks included).
inline constexpr size_t kMaxEnvironmentEntries = 48;
inline constexpr size_t kMaxEnvironmentKeyLength = 512;
inline constexpr size_t kMaxEnvironmentValueLength = 512;
// MaxRuntimeInSeconds: min 1 in the model; "The default value is 1 day. The maximum value is
// 28 days." in its documentation.
inline constexpr int64_t kDefaultMaxRuntimeSeconds = 86400;
inline constexpr int64_t kMaxMaxRuntimeSeconds = 28 * 86400;  // 2,419,200

Status ValidateTrainingJobName(const std::string& name);

// The count, then every entry (ValidateHyperparameter).
Status ValidateHyperparameters(const HyperparameterMap& hyperparameters);
Status ValidateHyperparameterCount(size_t count);
// One entry. Beyond the lengths: the model's pattern for keys and values is ".*", and a Java
// regex "." matches no line terminator, so a line break (\n, \r, U+0085, U+2028, U+2029) is
// refused; the environment's values, whose pattern is [\S\s]*, may hold one. An empty key
// passes the model (no minimum) but is refused: the toolkit would make it an empty argument.
// Text that is not UTF-8 is refused because no JSON file or request could carry it.
Status ValidateHyperparameter(const std::string& key, const std::string& value);

Status ValidateChannelName(const std::string& name);
Status ValidateChannelCount(size_t count);

Status ValidateEnvironment(const std::map<std::string, std::string>& environment);

// TRAINYARD_* variables are trainyard's to set, not a job's: true for each of them but
// TRAINYARD_KEEP_ARCHIVES, the job's own choice of the channels trainyard-wrap leaves packed
// (docs/job-json.md). The REST API and the SageMaker-compatible endpoint refuse a job
// environment that sets one, saying kReservedEnvironmentMessage.
bool IsReservedEnvironmentVariable(const std::string& name);
inline constexpr char kReservedEnvironmentMessage[] =
    "TRAINYARD_* variables are set by trainyard (except TRAINYARD_KEEP_ARCHIVES)";

Status ValidateMaxRuntimeSeconds(int64_t seconds);

}  // namespace trainyard::core
