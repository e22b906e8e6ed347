#include "core/sagemaker_limits.h"

#include <optional>
#include <string_view>

#include "common/utf8.h"

namespace trainyard::core {
namespace {

bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

std::string Quoted(std::string_view text) {
  return "'" + Abbreviate(text) + "'";
}

std::string TooLong(std::string_view what, size_t length, size_t limit) {
  return std::string(what) + " is " + std::to_string(length) + " characters, the limit is " +
         std::to_string(limit);
}

// A Java regex "." stops at these (java.util.regex.Pattern, without DOTALL).
bool HasLineTerminator(std::string_view text) {
  for (size_t pos = 0; pos < text.size();) {
    std::optional<char32_t> c = NextCodePoint(text, &pos);
    if (c && (*c == '\n' || *c == '\r' || *c == 0x85 || *c == 0x2028 || *c == 0x2029)) {
      return true;
    }
  }
  return false;
}

// The length in characters, or an error naming `subject` and `what` (e.g. "name", "value").
Result<size_t> Length(std::string_view text, const std::string& subject, std::string_view what) {
  std::optional<size_t> length = CodePointCount(text);
  if (!length) return InvalidArgument(subject + ": " + std::string(what) + " is not valid UTF-8");
  return *length;
}

}  // namespace

Status ValidateTrainingJobName(const std::string& name) {
  if (name.empty())
    return InvalidArgument("training job name is empty: it needs 1 to 63 characters");
  const std::string subject = "training job name " + Quoted(name);
  if (name.size() > kMaxTrainingJobNameLength) {
    // Only ASCII passes the pattern, so bytes are characters here.
    return InvalidArgument(subject + ": " + TooLong("it", name.size(), kMaxTrainingJobNameLength));
  }
  // ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}, matched whole: letters, digits and hyphens, with a
  // letter or digit at each end.
  bool valid = IsAsciiAlnum(name.front()) && IsAsciiAlnum(name.back());
  for (char c : name) valid = valid && (IsAsciiAlnum(c) || c == '-');
  if (!valid) {
    return InvalidArgument(subject +
                           ": must match ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62} (letters, digits and "
                           "hyphens, starting and ending with a letter or digit)");
  }
  return Status::Ok();
}

Status ValidateHyperparameterCount(size_t count) {
  if (count > kMaxHyperparameters) {
    return InvalidArgument("hyperparameters: " + std::to_string(count) + " entries, the limit is " +
                           std::to_string(kMaxHyperparameters));
  }
  return Status::Ok();
}

Status ValidateHyperparameter(const std::string& key, const std::string& value) {
  const std::string subject = "hyperparameter " + Quoted(key);
  if (key.empty()) return InvalidArgument("hyperparameter '': the name is empty");
  TY_ASSIGN_OR_RETURN(size_t key_length, Length(key, subject, "the name"));
  if (key_length > kMaxHyperparameterKeyLength) {
    return InvalidArgument(subject + ": " +
                           TooLong("the name", key_length, kMaxHyperparameterKeyLength));
  }
  if (HasLineTerminator(key)) {
    return InvalidArgument(subject +
                           ": the name holds a line break, which SageMaker's pattern "
                           ".* does not match");
  }
  TY_ASSIGN_OR_RETURN(size_t value_length, Length(value, subject, "the value"));
  if (value_length > kMaxHyperparameterValueLength) {
    return InvalidArgument(subject + ": " +
                           TooLong("value", value_length, kMaxHyperparameterValueLength));
  }
  if (HasLineTerminator(value)) {
    return InvalidArgument(subject +
                           ": the value holds a line break, which SageMaker's pattern "
                           ".* does not match (JSON values can be written on one line)");
  }
  return Status::Ok();
}

Status ValidateHyperparameters(const HyperparameterMap& hyperparameters) {
  TY_RETURN_IF_ERROR(ValidateHyperparameterCount(hyperparameters.size()));
  for (const auto& [key, value] : hyperparameters) {
    TY_RETURN_IF_ERROR(ValidateHyperparameter(key, value));
  }
  return Status::Ok();
}

Status ValidateChannelName(const std::string& name) {
  if (name.empty()) return InvalidArgument("channel name is empty: it needs 1 to 64 characters");
  const std::string subject = "channel " + Quoted(name);
  for (char c : name) {
    if (!IsAsciiAlnum(c) && c != '.' && c != '-' && c != '_') {
      return InvalidArgument(subject +
                             ": the name must match [A-Za-z0-9\\.\\-_]+ (letters, digits, '.', "
                             "'-' and '_')");
    }
  }
  if (name.size() > kMaxChannelNameLength) {
    return InvalidArgument(subject + ": " +
                           TooLong("the name", name.size(), kMaxChannelNameLength));
  }
  // SageMaker's pattern allows them, but /opt/ml/input/data/<name> would then be a directory
  // above the channel's.
  if (name == "." || name == "..") {
    return InvalidArgument(subject + ": '.' and '..' cannot name a channel's directory");
  }
  return Status::Ok();
}

Status ValidateChannelCount(size_t count) {
  if (count < kMinChannels || count > kMaxChannels) {
    return InvalidArgument("channels: " + std::to_string(count) +
                           " given, a training job takes 1 to " + std::to_string(kMaxChannels));
  }
  return Status::Ok();
}

Status ValidateEnvironment(const std::map<std::string, std::string>& environment) {
  if (environment.size() > kMaxEnvironmentEntries) {
    return InvalidArgument("environment: " + std::to_string(environment.size()) +
                           " variables, the limit is " + std::to_string(kMaxEnvironmentEntries));
  }
  for (const auto& [key, value] : environment) {
    const std::string subject = "environment variable " + Quoted(key);
    bool valid = !key.empty() && !(key.front() >= '0' && key.front() <= '9');
    for (char c : key) valid = valid && (IsAsciiAlnum(c) || c == '_');
    if (!valid) {
      return InvalidArgument(subject +
                             ": the name must match [a-zA-Z_][a-zA-Z0-9_]* (letters, digits and "
                             "'_', not starting with a digit)");
    }
    if (key.size() > kMaxEnvironmentKeyLength) {
      return InvalidArgument(subject + ": " +
                             TooLong("the name", key.size(), kMaxEnvironmentKeyLength));
    }
    TY_ASSIGN_OR_RETURN(size_t value_length, Length(value, subject, "the value"));
    if (value_length > kMaxEnvironmentValueLength) {
      return InvalidArgument(subject + ": " +
                             TooLong("value", value_length, kMaxEnvironmentValueLength));
    }
  }
  return Status::Ok();
}

bool IsReservedEnvironmentVariable(const std::string& name) {
  return name.starts_with("TRAINYARD_") && name != "TRAINYARD_KEEP_ARCHIVES";
}

Status ValidateMaxRuntimeSeconds(int64_t seconds) {
  if (seconds < 1) {
    return InvalidArgument("max runtime: " + std::to_string(seconds) +
                           " seconds, it must be at least 1");
  }
  if (seconds > kMaxMaxRuntimeSeconds) {
    return InvalidArgument("max runtime: " + std::to_string(seconds) + " seconds, the limit is " +
                           std::to_string(kMaxMaxRuntimeSeconds) + " (28 days)");
  }
  return Status::Ok();
}

}  // namespace trainyard::core
