// The parts of trainyard's job.json (schema trainyard.job/v1) that the example trainer uses.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace trainyard::example {

struct Hyperparameters {
  double learning_rate = 0.1;
  int batch_size = 32;
  int iterations = 200;  // number of SGD steps, not epochs
  std::uint64_t seed = 1;
  // Milliseconds each step waits, as a bigger model's step would take: lets a demonstration (or
  // a test) stop, requeue or resume a job while it runs. 0: no wait.
  int step_delay_ms = 0;
};

struct Channel {
  std::string name;
  std::filesystem::path dir;
  std::vector<std::filesystem::path> files;  // absolute, sorted so file order never varies
};

struct JobConfig {
  std::string job_name;
  Hyperparameters hyperparameters;
  std::optional<Channel> training;
  std::optional<Channel> evaluation;
  std::optional<Channel> pretrained;
  std::filesystem::path model_dir;
  std::filesystem::path output_dir;     // empty: no predictions.csv
  std::filesystem::path progress_file;  // empty: no progress lines
  std::filesystem::path failure_file;   // empty: errors go to stderr only
  // Where the trainer keeps checkpoint.json (its iteration and weights), which trainyard keeps
  // between runs of the job; empty: no checkpoints.
  std::filesystem::path checkpoint_dir;
};

// Hyperparameters arrive typed, but a wrapper may pass 32, 32.0 or "32" alike; all are accepted.
// Throws std::invalid_argument naming the hyperparameter when one is malformed or out of range.
Hyperparameters ParseHyperparameters(const nlohmann::json& hyperparameters);

// Throws std::runtime_error (or std::invalid_argument for hyperparameters) on a malformed job.
JobConfig ParseJobConfig(const nlohmann::json& job);

// Reads and parses the file; throws std::runtime_error if it is unreadable or not JSON.
nlohmann::json ReadJsonFile(const std::filesystem::path& path);

}  // namespace trainyard::example
