// WrapperOptions: what trainyard-wrap was asked to do, from its arguments and environment.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "archive/archive.h"
#include "common/status.h"
#include "wrapper/staging.h"

namespace trainyard::wrapper {

// The channels whose archives stay as they arrived instead of being unpacked:
// TRAINYARD_KEEP_ARCHIVES (comma-separated channel names, or "*" for every channel) or --no-unpack
// (every channel). An environment variable because it is the one setting that reaches the job on
// every backend, real SageMaker's Environment included.
struct KeptArchives {
  bool every_channel = false;
  std::set<std::string> channels;

  bool Keeps(const std::string& channel) const {
    return every_channel || channels.contains(channel);
  }
};

struct WrapperOptions {
  std::filesystem::path ml_root = "/opt/ml";  // TRAINYARD_ML_ROOT
  std::vector<std::string> command;           // given on the command line
  std::string command_from_environment;       // TRAINYARD_COMMAND (split like a shell, no shell)
  std::string sagemaker_program;              // SAGEMAKER_PROGRAM
  bool hyperparameters_as_arguments = false;  // --hyperparameters-as-args
  KeptArchives kept_archives;                 // --no-unpack, TRAINYARD_KEEP_ARCHIVES
  archive::UnpackLimits unpack_limits;  // TRAINYARD_UNPACK_MAX_BYTES / _MAX_ENTRIES / _MAX_RATIO
  std::chrono::milliseconds grace_period{120'000};  // --grace-period, TRAINYARD_STOP_GRACE_SECONDS
  std::chrono::milliseconds progress_interval{5'000};  // TRAINYARD_PROGRESS_INTERVAL_SECONDS
  std::string callback_url;                            // TRAINYARD_CALLBACK_URL
  std::string job_token;                               // TRAINYARD_JOB_TOKEN (never logged)
  bool callback_through_proxy = false;  // http_proxy or all_proxy set: libcurl reports
  std::string job_name;                 // TRAINING_JOB_NAME, when the config lacks it
  // TRAINYARD_STAGING: the input is downloaded and the outputs uploaded through these URLs.
  std::optional<StagingManifest> staging;
  bool remove_root_after_staging = false;  // TRAINYARD_STAGING_REMOVE_ROOT
  TransferOptions transfer;                // retries and timeouts of the staging transfers
  // Where the checkpoint dir is kept between the job's runs, in shared-directory mode (object-store
  // staging: the manifest's checkpoint URLs instead): TRAINYARD_CHECKPOINT_STORE. Empty: not kept.
  std::filesystem::path checkpoint_store;
  // Restored from when checkpoint_store holds none: TRAINYARD_CHECKPOINT_RESTORE_FROM.
  std::filesystem::path checkpoint_restore_from;
  std::chrono::milliseconds checkpoint_interval{10'000};  // TRAINYARD_CHECKPOINT_INTERVAL_SECONDS
  // TRAINYARD_CHECKPOINT_URLS: the checkpoint behind presigned URLs of the caller's choosing (the
  // SageMaker endpoint's CheckpointConfig.S3Uri; the local executor's checkpoints in an s3://
  // store, with restore_from for a promoted trial); wins over the manifest's and the store.
  std::optional<StagedCheckpoint> checkpoint_urls;
  bool show_help = false;
};

// Parses `arguments` (argv without argv[0]) and `environment`. Usage:
//   trainyard-wrap [train] [OPTIONS] [--] [COMMAND [ARGS...]]
// The first argument that is not an option starts the command, so an image can use
// ENTRYPOINT ["trainyard-wrap"] with SageMaker's `train` or with ContainerArguments.
Result<WrapperOptions> ParseWrapperOptions(const std::vector<std::string>& arguments,
                                           const std::map<std::string, std::string>& environment);

// Parses TRAINYARD_KEEP_ARCHIVES: "training,pretrained", "*". Spaces around names and empty items
// are ignored; a name that cannot be a channel name is InvalidArgument naming it.
Result<KeptArchives> ParseKeptArchives(const std::string& text);

extern const char kWrapperUsage[];

}  // namespace trainyard::wrapper
