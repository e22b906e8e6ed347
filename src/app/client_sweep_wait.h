// Following a sweep until every job has ended, for `trainyard sweep wait` and
// `trainyard sweep create --wait`: a script's way to wait for a sweep, as `aws sagemaker wait`
// and `kubectl wait` are. Internal to the client commands.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "app/client_command_runners.h"
#include "common/status.h"

namespace trainyard::app {

// The exit codes of a wait (README.md, docs/search.md): 0 when the sweep did what it was asked
// (every job Completed, or was Stopped by the search's early stopping, which judged it worse
// than the others: the search worked), 1 when a job Failed or was stopped otherwise (by hand,
// `sweep stop`, its max runtime). A wait whose --timeout passed is a DeadlineExceeded status
// (exit 9).
inline constexpr int kSweepCompletedExitCode = 0;
inline constexpr int kSweepFailedExitCode = 1;

// The sweep document's `stopped_early` (jobs that early stopping ended), 0 when absent (a server
// from before it).
int64_t StoppedEarlyCount(const nlohmann::json& sweep);

// Whether an ended sweep succeeded, as the exit codes above say.
bool SweepSucceeded(const nlohmann::json& sweep);

// Polls GET /api/v1/sweeps/{id} every `state.sweep_poll_interval` until its jobs have all
// ended or `timeout` (zero: none) passes. Progress goes to `context.err`: one live line on a
// terminal, else a line whenever the counts change. At the end it prints the final sweep (its
// JSON with --output json, else one line) on `context.out`, and returns the exit code above.
// Once the server has answered, a server that cannot be reached (restarting) or does not answer
// in time is asked again until the timeout; any other error (NotFound, Unauthenticated) is
// returned at once, as is an unreachable server on the first call.
Result<int> WaitForSweep(const ClientContext& context, const std::string& sweep_id,
                         std::chrono::milliseconds timeout);

}  // namespace trainyard::app
