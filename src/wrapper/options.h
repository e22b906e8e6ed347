// WrapperOptions: what trainyard-wrap was asked to do, from its arguments and environment.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "archive/archive.h"
#include "common/status.h"

namespace trainyard::wrapper {

struct WrapperOptions {
  std::filesystem::path ml_root = "/opt/ml";  // TRAINYARD_ML_ROOT
  std::vector<std::string> command;           // given on the command line
  std::string command_from_environment;       // TRAINYARD_COMMAND (split like a shell, no shell)
  std::string sagemaker_program;              // SAGEMAKER_PROGRAM
  bool hyperparameters_as_arguments = false;  // --hyperparameters-as-args
  bool unpack_archives = true;                // --no-unpack
  archive::UnpackLimits unpack_limits;        // TRAINYARD_UNPACK_MAX_BYTES / _MAX_ENTRIES
  std::chrono::milliseconds grace_period{120'000};  // --grace-period, TRAINYARD_STOP_GRACE_SECONDS
  std::chrono::milliseconds progress_interval{5'000};  // TRAINYARD_PROGRESS_INTERVAL_SECONDS
  std::string callback_url;                            // TRAINYARD_CALLBACK_URL
  std::string job_token;                               // TRAINYARD_JOB_TOKEN (never logged)
  std::string job_name;  // TRAINING_JOB_NAME, when the config lacks it
  bool show_help = false;
};

// Parses `arguments` (argv without argv[0]) and `environment`. Usage:
//   trainyard-wrap [train] [OPTIONS] [--] [COMMAND [ARGS...]]
// The first argument that is not an option starts the command, so an image can use
// ENTRYPOINT ["trainyard-wrap"] with SageMaker's `train` or with ContainerArguments.
Result<WrapperOptions> ParseWrapperOptions(const std::vector<std::string>& arguments,
                                           const std::map<std::string, std::string>& environment);

extern const char kWrapperUsage[];

}  // namespace trainyard::wrapper
