// MlRoot: the paths of SageMaker's training-container tree (/opt/ml) under any root directory.
//
// SageMaker mounts the tree at /opt/ml; trainyard lays the same tree out under a per-job root
// for the local and container executors, and tests use temp dirs. Pure path arithmetic: no I/O.
#pragma once

#include <filesystem>
#include <string>

namespace trainyard::contract {

class MlRoot {
 public:
  explicit MlRoot(std::filesystem::path root) : root_(std::move(root)) {}

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path input_dir() const { return root_ / "input"; }
  std::filesystem::path input_config_dir() const { return input_dir() / "config"; }
  std::filesystem::path hyperparameters_file() const {
    return input_config_dir() / "hyperparameters.json";
  }
  std::filesystem::path input_data_config_file() const {
    return input_config_dir() / "inputdataconfig.json";
  }
  std::filesystem::path resource_config_file() const {
    return input_config_dir() / "resourceconfig.json";
  }
  std::filesystem::path training_job_config_file() const {
    return input_config_dir() / "trainingjobconfig.json";
  }
  std::filesystem::path metric_definitions_file() const {
    return input_config_dir() / "metric-definition-regex.json";
  }
  std::filesystem::path input_data_dir() const { return input_dir() / "data"; }
  std::filesystem::path channel_dir(const std::string& channel) const {
    return input_data_dir() / channel;
  }
  std::filesystem::path model_dir() const { return root_ / "model"; }
  std::filesystem::path output_dir() const { return root_ / "output"; }
  std::filesystem::path output_data_dir() const { return output_dir() / "data"; }
  std::filesystem::path output_intermediate_dir() const { return output_dir() / "intermediate"; }
  std::filesystem::path failure_file() const { return output_dir() / "failure"; }
  std::filesystem::path checkpoint_dir() const { return root_ / "checkpoints"; }
  std::filesystem::path code_dir() const { return root_ / "code"; }

  // trainyard's additions to the tree. job.json sits at the root, beside SageMaker's folders,
  // so that it is easy to find and never packed into model.tar.gz or output.tar.gz.
  std::filesystem::path job_json_file() const { return root_ / "job.json"; }
  // JSON Lines the ML code appends its progress to (docs/job-json.md).
  std::filesystem::path progress_file() const { return output_dir() / "progress.jsonl"; }
  // What the wrapper knows of the running job (progress, metrics), rewritten atomically; the
  // local executor reads it where no callback server exists.
  std::filesystem::path wrapper_state_file() const { return output_dir() / "trainyard-state.json"; }
  // Every metric point the wrapper saw (progress file and MetricDefinitions), JSON Lines.
  std::filesystem::path metrics_file() const { return output_dir() / "trainyard-metrics.jsonl"; }
  // The job's stdout and stderr, inside output/data so that it also lands in output.tar.gz.
  std::filesystem::path log_file() const { return output_data_dir() / "training.log"; }
  // The wrapper's own result, written atomically just before it exits: {"exit_code": N,
  // "signal": "SIGKILL" (only when the command died of a signal), "ended_at": ISO 8601}. Its
  // absence after the wrapper is gone means the wrapper itself was killed.
  std::filesystem::path exit_file() const { return output_dir() / "trainyard-exit.json"; }

 private:
  std::filesystem::path root_;
};

}  // namespace trainyard::contract
