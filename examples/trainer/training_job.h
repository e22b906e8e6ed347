// One training run as described by job.json: load channels, run SGD, report, write outputs.
#pragma once

#include <csignal>

#include "job_config.h"

namespace trainyard::example {

// SageMaker's convention for a job stopped by SIGTERM (128 + 15); its model/ is still uploaded.
inline constexpr int kStoppedExitCode = 143;

// Returns 0 when all iterations ran, kStoppedExitCode when stop_requested became non-zero (the
// step under way is finished and the model so far is written). Throws std::exception on any
// problem with the job's inputs or outputs, with a message meant for the person running it.
int RunTrainingJob(const JobConfig& config, const volatile std::sig_atomic_t& stop_requested);

}  // namespace trainyard::example
