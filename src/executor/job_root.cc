#include "executor/job_root.h"

#include <string_view>

#include "archive/archive.h"
#include "common/files.h"
#include "common/log.h"
#include "core/sagemaker_limits.h"

namespace trainyard::executor {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr size_t kFailureReasonLimit = 1024;

}  // namespace

Status ValidateJobSpec(const JobSpec& spec) {
  const contract::JobDefinition& definition = spec.definition;
  TY_RETURN_IF_ERROR(core::ValidateTrainingJobName(definition.job_name));
  TY_RETURN_IF_ERROR(core::ValidateHyperparameters(definition.hyperparameters));
  TY_RETURN_IF_ERROR(core::ValidateEnvironment(definition.environment));
  TY_RETURN_IF_ERROR(core::ValidateMaxRuntimeSeconds(definition.max_runtime_seconds));
  // InputDataConfig itself is optional in CreateTrainingJob; when given it holds 1 to 20.
  if (!definition.channels.empty()) {
    TY_RETURN_IF_ERROR(core::ValidateChannelCount(definition.channels.size()));
  }
  for (const contract::ChannelConfig& channel : definition.channels) {
    TY_RETURN_IF_ERROR(core::ValidateChannelName(channel.name));
    auto source = spec.channel_sources.find(channel.name);
    if (source != spec.channel_sources.end() && !fs::exists(source->second)) {
      return NotFound("channel '" + channel.name + "': '" + source->second.string() +
                      "' does not exist");
    }
  }
  return Status::Ok();
}

Status PrepareJobRoot(const contract::MlRoot& root, const JobSpec& spec) {
  TY_RETURN_IF_ERROR(contract::WriteConfigFiles(root, spec.definition));
  for (const auto& [channel, source] : spec.channel_sources) {
    TY_RETURN_IF_ERROR(
        CopyInto(source, root.channel_dir(channel)).WithContext("channel '" + channel + "'"));
  }
  if (!spec.code_source.empty()) {
    // As the toolkit's download_and_extract: code already in place (an image's) is kept.
    std::error_code error;
    if (fs::is_directory(root.code_dir(), error) && !fs::is_empty(root.code_dir(), error)) {
      return Status::Ok();
    }
    TY_RETURN_IF_ERROR(MakeDirectories(root.code_dir()));
    TY_RETURN_IF_ERROR(archive::Unpack(spec.code_source, root.code_dir())
                           .status()
                           .WithContext("sagemaker_submit_directory"));
  }
  return Status::Ok();
}

void ReadWrapperState(const contract::MlRoot& root, json* progress,
                      std::map<std::string, double>* metrics) {
  auto text = ReadFile(root.wrapper_state_file());
  if (!text.ok()) return;
  json state = json::parse(*text, nullptr, false);
  if (!state.is_object()) return;
  if (state.contains("progress") && state["progress"].is_object()) *progress = state["progress"];
  if (state.contains("metrics") && state["metrics"].is_object()) {
    *metrics = state["metrics"].get<std::map<std::string, double>>();
  }
}

std::optional<int> ReadWrapperExitCode(const contract::MlRoot& root) {
  auto text = ReadFile(root.exit_file());
  if (!text.ok()) return std::nullopt;
  json result = json::parse(*text, nullptr, false);
  if (!result.is_object() || !result["exit_code"].is_number_integer()) return std::nullopt;
  return result["exit_code"].get<int>();
}

std::string FailureType(const contract::MlRoot& root) {
  auto text = ReadFile(root.exit_file());
  if (!text.ok()) return "AlgorithmError";
  json result = json::parse(*text, nullptr, false);
  if (!result.is_object() || !result["failure_type"].is_string()) return "AlgorithmError";
  std::string type = result["failure_type"].get<std::string>();
  // Only the labels the wrapper writes: anything else in the file is not trusted as a label.
  return type == "ClientError" || type == "InternalServerError" ? type : "AlgorithmError";
}

std::string FailureReason(const contract::MlRoot& root, int exit_code) {
  std::string type = FailureType(root);
  auto text = ReadFile(root.failure_file());
  if (text.ok() && !text->empty()) return type + ": " + text->substr(0, kFailureReasonLimit);
  return type + ": , exit code: " + std::to_string(exit_code);
}

bool IsArtifactTemporary(const std::string& name) {
  // mkstemp's "<name>.tmp-XXXXXX": six characters after the marker.
  size_t dash = name.rfind(".tmp-");
  if (dash != std::string::npos && dash > 0 && name.size() == dash + 5 + 6) return true;
  // CopyFileAtomic's "<name>.tmp.<pid>.<counter>": two numbers after the marker.
  size_t dot = name.rfind(".tmp.");
  if (dot == std::string::npos || dot == 0) return false;
  std::string_view rest = std::string_view(name).substr(dot + 5);
  size_t separator = rest.find('.');
  auto digits = [](std::string_view text) {
    return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
  };
  return separator != std::string_view::npos && digits(rest.substr(0, separator)) &&
         digits(rest.substr(separator + 1));
}

void PackArtifacts(const contract::MlRoot& root, const fs::path& destination) {
  // Best effort, as SageMaker keeps what it can: a part that fails is logged and left out.
  auto log_if_failed = [&](const Status& status) {
    if (!status.ok()) {
      Logger("executor")
          .error("artifacts={} incomplete: {}", destination.string(), status.message());
    }
  };
  log_if_failed(MakeDirectories(destination));
  std::error_code listing;
  for (const fs::directory_entry& entry : fs::directory_iterator(destination, listing)) {
    std::string name = entry.path().filename().string();
    if (!IsArtifactTemporary(name)) continue;
    std::error_code removing;
    fs::remove(entry.path(), removing);
    if (removing) {
      Logger("executor")
          .error("artifacts={} half-written '{}' could not be removed: {}", destination.string(),
                 name, removing.message());
    } else {
      Logger("executor")
          .info("artifacts={} removed '{}', left half-written by a killed packing",
                destination.string(), name);
    }
  }
  // Every file goes in whole or not at all (temporary file, then rename), so that a process
  // killed while packing leaves no half-written artifact for anyone to take as the real one.
  log_if_failed(archive::PackTarGz(root.model_dir(), destination / "model.tar.gz"));
  log_if_failed(archive::PackTarGz(root.output_data_dir(), destination / "output.tar.gz"));
  auto copy = [&](const fs::path& from, const std::string& name) {
    std::error_code error;
    if (fs::exists(from, error)) log_if_failed(CopyFileAtomic(from, destination / name));
  };
  copy(root.log_file(), "training.log");
  copy(root.job_json_file(), "job.json");
  copy(root.metrics_file(), "metrics.jsonl");
  std::error_code error;
  if (fs::is_directory(root.output_data_dir(), error)) {
    for (const fs::directory_entry& entry : fs::directory_iterator(root.output_data_dir(), error)) {
      std::string name = entry.path().filename().string();
      if (entry.is_regular_file() && name.starts_with("predictions")) copy(entry.path(), name);
    }
  }
}

void RemoveHalfWrittenStates(const fs::path& job_dir) {
  std::error_code error;
  const std::string prefix = std::string(kExecutorStateFileName) + ".tmp.";
  for (const fs::directory_entry& entry : fs::directory_iterator(job_dir, error)) {
    if (entry.path().filename().string().rfind(prefix, 0) != 0) continue;
    std::error_code removed;
    fs::remove(entry.path(), removed);
    if (removed) {
      Logger("executor")
          .error("file={} could not be removed: {}", entry.path().string(), removed.message());
    }
  }
}

void RemoveLeftover(const fs::path& path) {
  std::error_code error;
  fs::remove_all(path, error);
  if (error) {
    Logger("executor").error("path={} could not be removed: {}", path.string(), error.message());
  }
}

fs::path CheckpointStoreRoot(const fs::path& work_dir) {
  return work_dir / ".checkpoints";
}

void AddCheckpointVariables(const JobSpec& spec, const fs::path& store_root,
                            std::map<std::string, std::string>* environment) {
  if (spec.checkpoint.name.empty()) return;
  (*environment)["TRAINYARD_CHECKPOINT_STORE"] = (store_root / spec.checkpoint.name).string();
  if (!spec.checkpoint.restore_from.empty()) {
    (*environment)["TRAINYARD_CHECKPOINT_RESTORE_FROM"] =
        (store_root / spec.checkpoint.restore_from).string();
  }
}

Result<std::vector<fs::path>> RecordedJobStates(const fs::path& work_dir) {
  std::error_code error;
  fs::directory_iterator entries(work_dir, error);
  if (error && error != std::errc::no_such_file_or_directory) {
    return Internal("cannot list '" + work_dir.string() + "': " + error.message());
  }
  std::vector<fs::path> states;
  for (const fs::directory_entry& entry : entries) {
    if (!entry.is_directory(error)) continue;
    // Not a job's: the checkpoints (CheckpointStoreRoot), which outlive their jobs.
    if (entry.path().filename().string().starts_with(".")) continue;
    fs::path state_file = entry.path() / kExecutorStateFileName;
    if (!fs::is_regular_file(state_file, error)) {
      // A job is recorded at its first step, before any launch: without a record nothing ran.
      RemoveLeftover(entry.path());
      continue;
    }
    RemoveHalfWrittenStates(entry.path());
    states.push_back(std::move(state_file));
  }
  return states;
}

}  // namespace trainyard::executor
