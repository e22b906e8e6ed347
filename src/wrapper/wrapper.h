// RunWrapper: trainyard-wrap from start to end (see kWrapperUsage and docs/wrapper.md).
#pragma once

#include <map>
#include <string>

#include "wrapper/options.h"

namespace trainyard::wrapper {

// Exit codes of the wrapper itself, when the command never ran.
inline constexpr int kExitSetupFailed = 2;
inline constexpr int kExitCommandNotFound = 127;

// Prepares the job (config, channels, job.json, environment), runs the command under the
// supervisor, writes output/failure on a non-zero exit unless the command wrote one, writes
// output/trainyard-exit.json (MlRoot::exit_file) on every way out, and returns the exit code to
// exit with. `environment` is the wrapper's own environment.
int RunWrapper(const WrapperOptions& options,
               const std::map<std::string, std::string>& environment);

}  // namespace trainyard::wrapper
