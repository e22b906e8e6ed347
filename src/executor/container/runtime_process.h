// Running the container runtime's CLI (podman, docker) as a child of this process: short
// commands (`stop`, `inspect`, `rm`, `ps`, `info`), some followed while they run, the others run
// to their end and their output read back. (A job's `run --detach` is no child of ours: it is
// started past a launch claim, detached_process.h.)
// Thread-safe (no shared state); each child is reaped by whoever started it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace trainyard::executor {

// Starts argv[0] (a path) with exactly `environment`, stdin from /dev/null and stdout and stderr
// appended to `output_file`, in its own process group (a Ctrl-C meant for us does not reach
// it). Internal with errno's text when it cannot start.
Result<pid_t> SpawnRuntime(const std::vector<std::string>& argv,
                           const std::vector<std::string>& environment,
                           const std::filesystem::path& output_file);

// Reaps `pid` if it has exited, or waits up to `timeout` for it to (polling, 10 ms steps).
// The exit code (128+N for signal N), or nullopt while it still runs.
std::optional<int> WaitForChild(pid_t pid, std::chrono::milliseconds timeout);

struct CommandOutput {
  int exit_code = -1;
  std::string output;  // stdout and stderr together, at most the call's output_limit
};

inline constexpr size_t kCommandOutputLimit = 64 * 1024;

// Runs argv to its end and returns its exit code and output (what passes `output_limit` is
// read and dropped). DeadlineExceeded (after killing it) when it runs past `timeout`; Internal
// when it cannot start.
Result<CommandOutput> RunCommand(const std::vector<std::string>& argv,
                                 const std::vector<std::string>& environment,
                                 std::chrono::milliseconds timeout,
                                 size_t output_limit = kCommandOutputLimit);

}  // namespace trainyard::executor
