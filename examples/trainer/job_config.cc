#include "job_config.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <stdexcept>

namespace trainyard::example {
namespace {

std::optional<double> NumericValue(const nlohmann::json& value) {
  if (value.is_number()) return value.get<double>();
  if (!value.is_string()) return std::nullopt;
  const auto& text = value.get_ref<const std::string&>();
  double number = 0;
  const char* end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, number);
  if (text.empty() || result.ec != std::errc() || result.ptr != end) return std::nullopt;
  return number;
}

[[noreturn]] void RejectHyperparameter(const std::string& name, const std::string& requirement,
                                       const nlohmann::json& value) {
  throw std::invalid_argument("hyperparameter '" + name + "' must be " + requirement + ", got " +
                              value.dump());
}

double PositiveNumber(const nlohmann::json& hyperparameters, const std::string& name,
                      double default_value) {
  if (!hyperparameters.contains(name)) return default_value;
  const auto& value = hyperparameters[name];
  const auto number = NumericValue(value);
  if (!number || !std::isfinite(*number) || *number <= 0) {
    RejectHyperparameter(name, "a number > 0", value);
  }
  return *number;
}

long long IntegerAtLeast(const nlohmann::json& hyperparameters, const std::string& name,
                         long long minimum, long long default_value) {
  if (!hyperparameters.contains(name)) return default_value;
  const auto& value = hyperparameters[name];
  const auto number = NumericValue(value);
  const std::string requirement = "an integer >= " + std::to_string(minimum);
  // 2^53: above it a double no longer holds every integer, so "is it whole" stops meaning much.
  if (!number || std::trunc(*number) != *number || *number < static_cast<double>(minimum) ||
      *number > 9007199254740992.0) {
    RejectHyperparameter(name, requirement, value);
  }
  return static_cast<long long>(*number);
}

int IntAtLeast(const nlohmann::json& hyperparameters, const std::string& name, int minimum,
               int default_value) {
  const long long number = IntegerAtLeast(hyperparameters, name, minimum, default_value);
  if (number > std::numeric_limits<int>::max()) {
    RejectHyperparameter(name, "at most " + std::to_string(std::numeric_limits<int>::max()),
                         hyperparameters[name]);
  }
  return static_cast<int>(number);
}

std::filesystem::path OptionalPath(const nlohmann::json& job, const std::string& key) {
  if (!job.contains(key) || job[key].is_null()) return {};
  if (!job[key].is_string()) throw std::runtime_error("job.json: \"" + key + "\" must be a string");
  return job[key].get<std::string>();
}

std::optional<Channel> ParseChannel(const nlohmann::json& channels, const std::string& name) {
  if (!channels.is_object() || !channels.contains(name)) return std::nullopt;
  const auto& spec = channels[name];
  if (!spec.is_object() || !spec.contains("dir") || !spec["dir"].is_string()) {
    throw std::runtime_error("job.json: channel '" + name + "' must be an object with a \"dir\"");
  }
  Channel channel{name, spec["dir"].get<std::string>(), {}};
  if (spec.contains("files") && spec["files"].is_array()) {
    for (const auto& file : spec["files"]) {
      if (!file.is_string()) {
        throw std::runtime_error("job.json: channel '" + name + "' files must be strings");
      }
      channel.files.push_back(channel.dir / file.get<std::string>());
    }
  } else if (std::filesystem::is_directory(channel.dir)) {
    // A hand-written job.json may leave out "files"; then the directory itself is the listing.
    for (const auto& entry : std::filesystem::recursive_directory_iterator(channel.dir)) {
      if (entry.is_regular_file()) channel.files.push_back(entry.path());
    }
  }
  std::sort(channel.files.begin(), channel.files.end());
  return channel;
}

}  // namespace

Hyperparameters ParseHyperparameters(const nlohmann::json& hyperparameters) {
  if (hyperparameters.is_null()) return {};
  if (!hyperparameters.is_object()) {
    throw std::runtime_error("job.json: \"hyperparameters\" must be an object");
  }
  const Hyperparameters defaults;
  Hyperparameters parsed;
  parsed.learning_rate = PositiveNumber(hyperparameters, "learning_rate", defaults.learning_rate);
  parsed.batch_size = IntAtLeast(hyperparameters, "batch_size", 1, defaults.batch_size);
  parsed.iterations = IntAtLeast(hyperparameters, "iterations", 1, defaults.iterations);
  parsed.step_delay_ms = IntAtLeast(hyperparameters, "step_delay_ms", 0, defaults.step_delay_ms);
  parsed.seed = static_cast<std::uint64_t>(
      IntegerAtLeast(hyperparameters, "seed", 0, static_cast<long long>(defaults.seed)));
  return parsed;
}

JobConfig ParseJobConfig(const nlohmann::json& job) {
  if (!job.is_object()) throw std::runtime_error("job.json must contain a JSON object");
  JobConfig config;
  config.job_name = job.value("job_name", "");
  config.hyperparameters = ParseHyperparameters(
      job.contains("hyperparameters") ? job["hyperparameters"] : nlohmann::json());
  const auto channels = job.contains("channels") ? job["channels"] : nlohmann::json::object();
  config.training = ParseChannel(channels, "training");
  config.evaluation = ParseChannel(channels, "evaluation");
  config.pretrained = ParseChannel(channels, "pretrained");
  config.model_dir = OptionalPath(job, "model_dir");
  if (config.model_dir.empty()) throw std::runtime_error("job.json: \"model_dir\" is required");
  config.output_dir = OptionalPath(job, "output_dir");
  config.progress_file = OptionalPath(job, "progress_file");
  config.failure_file = OptionalPath(job, "failure_file");
  config.checkpoint_dir = OptionalPath(job, "checkpoint_dir");
  return config;
}

nlohmann::json ReadJsonFile(const std::filesystem::path& path) {
  std::ifstream input(path);
  if (!input) throw std::runtime_error("cannot open " + path.string());
  try {
    return nlohmann::json::parse(input);
  } catch (const nlohmann::json::parse_error& error) {
    throw std::runtime_error(path.string() + " is not valid JSON: " + error.what());
  }
}

}  // namespace trainyard::example
