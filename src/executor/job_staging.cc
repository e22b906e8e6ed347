#include "executor/job_staging.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "archive/archive.h"
#include "common/files.h"
#include "common/log.h"

namespace trainyard::executor {
namespace fs = std::filesystem;

namespace {

// Linux passes at most 128 KiB in one variable: the staging manifest stays well below.
constexpr size_t kManifestLimit = 96 * 1024;
// The outputs trainyard-wrap sends back (wrapper/staging.h).
constexpr char kStagedExitRecord[] = "trainyard-exit.json";
constexpr char kStagedModel[] = "model.tar.gz";
constexpr char kStagedOutput[] = "output.tar.gz";
constexpr char kStagedLog[] = "training.log";

}  // namespace

Result<StagingMode> ParseStagingMode(const std::string& text, const std::string& field) {
  if (text == "shared") return StagingMode::kShared;
  if (text == "object-store") return StagingMode::kObjectStore;
  return InvalidArgument(field + " '" + text + "': must be 'shared' or 'object-store'");
}

std::string StagingManifestUrl(const std::string& manifest) {
  nlohmann::json parsed = nlohmann::json::parse(manifest, nullptr, false);
  if (!parsed.is_object() || !parsed.value("outputs", nlohmann::json()).is_object()) return "";
  auto url = parsed["outputs"].find(kStagedExitRecord);
  return url != parsed["outputs"].end() && url->is_string() ? url->get<std::string>() : "";
}

std::string CheckpointStoreUrl(const JobSpec& spec) {
  auto urls = spec.secret_environment.find(kCheckpointUrlsVariable);
  if (urls == spec.secret_environment.end()) return "";
  nlohmann::json parsed = nlohmann::json::parse(urls->second, nullptr, false);
  if (!parsed.is_object() || !parsed.value("put", nlohmann::json()).is_string()) return "";
  return parsed["put"].get<std::string>();
}

std::chrono::seconds StagingUrlLifetime(const JobSpec& spec, std::chrono::seconds url_margin) {
  // Valid while the job may run: its max runtime and grace, and the margin for a queue.
  return std::min<std::chrono::seconds>(
      std::chrono::seconds(spec.definition.max_runtime_seconds) +
          std::chrono::ceil<std::chrono::seconds>(spec.stop_grace_period) + url_margin,
      std::chrono::hours(24 * 7));
}

Status KeepCheckpointBehindUrls(CheckpointPresigner& presigner, std::chrono::seconds url_margin,
                                JobSpec& spec) {
  if (spec.checkpoint.name.empty()) return Status::Ok();
  TY_ASSIGN_OR_RETURN(
      spec.secret_environment[kCheckpointUrlsVariable],
      presigner.PresignCheckpoint(spec.checkpoint, StagingUrlLifetime(spec, url_margin)));
  spec.checkpoint = {};
  return Status::Ok();
}

Result<std::string> StagedJob::PublishInput(const JobSpec& spec,
                                            std::chrono::seconds url_margin) const {
  std::vector<JobStaging::InputFile> inputs;
  const fs::path& root = root_.root();
  for (const fs::path& part : {root / "input", root / "code"}) {
    std::error_code error;
    if (!fs::exists(part, error)) continue;
    for (auto it = fs::recursive_directory_iterator(
             part, fs::directory_options::follow_directory_symlink, error);
         !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
      if (it->is_regular_file()) {  // follows a channel's links to the dataset's file
        inputs.push_back({fs::relative(it->path(), root).string(), it->path()});
      }
    }
    if (error) return Internal("cannot list '" + part.string() + "': " + error.message());
  }
  for (const auto& [channel, object] : spec.channel_objects) {
    inputs.push_back(
        {.path = (root_.channel_dir(channel) / object.filename).lexically_relative(root).string(),
         .stored = object});
  }
  TY_ASSIGN_OR_RETURN(
      std::string manifest,
      staging_.Publish(job_name_, inputs, StagingUrlLifetime(spec, url_margin), spec.checkpoint));
  if (manifest.size() > kManifestLimit) {
    return InvalidArgument("the job's input is " + std::to_string(inputs.size()) +
                           " files, too many for object-store staging (a manifest of " +
                           std::to_string(manifest.size()) + " bytes, at most " +
                           std::to_string(kManifestLimit) +
                           "): pack a channel of many files into one archive (the wrapper "
                           "unpacks it where the job runs)");
  }
  return manifest;
}

Status StagedJob::FetchExitRecord() const {
  TY_RETURN_IF_ERROR(staging_.Fetch(job_name_, kStagedExitRecord, root_.exit_file()));
  TY_ASSIGN_OR_RETURN(std::string text, ReadFile(root_.exit_file()));
  nlohmann::json record = nlohmann::json::parse(text, nullptr, false);
  if (!record.is_object()) return Status::Ok();
  if (record.value("failure", nlohmann::json()).is_string()) {
    TY_RETURN_IF_ERROR(WriteFileAtomic(root_.failure_file(), record["failure"].get<std::string>()));
  }
  if (record.value("state", nlohmann::json()).is_object()) {
    TY_RETURN_IF_ERROR(MakeDirectories(root_.wrapper_state_file().parent_path()));
    TY_RETURN_IF_ERROR(WriteFileAtomic(root_.wrapper_state_file(), record["state"].dump() + "\n"));
  }
  return Status::Ok();
}

void StagedJob::FetchOutputs() const {
  for (const auto& [archive_name, directory] :
       {std::pair<std::string, fs::path>{kStagedModel, root_.model_dir()},
        std::pair<std::string, fs::path>{kStagedOutput, root_.output_data_dir()}}) {
    const fs::path fetched = root_.root().parent_path() / ("staged-" + archive_name);
    Status got = staging_.Fetch(job_name_, archive_name, fetched);
    if (!got.ok()) {
      Logger("executor")
          .warn("job={} staged {} not fetched: {}", job_name_, archive_name, got.message());
      continue;
    }
    // Unpacked afresh (a restart may fetch again).
    std::error_code error;
    fs::remove_all(directory, error);
    Status unpacked = MakeDirectories(directory);
    if (unpacked.ok()) unpacked = archive::Unpack(fetched, directory).status();
    WarnIfFailed("executor", unpacked, "job={} staged {} not unpacked", job_name_, archive_name);
    fs::remove(fetched, error);
  }
  if (!fs::exists(root_.log_file())) {
    // The archive never came: the log, sent alone, may have.
    Status got = staging_.Fetch(job_name_, kStagedLog, root_.log_file());
    if (got.code() != StatusCode::kNotFound) {
      WarnIfFailed("executor", got, "job={} staged log not fetched", job_name_);
    }
  }
}

void StagedJob::Remove() const {
  WarnIfFailed("executor", staging_.Remove(job_name_), "job={} staging objects not removed",
               job_name_);
}

}  // namespace trainyard::executor
