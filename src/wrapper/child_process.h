// Starting the ML command: fork + execvp (never a shell), in its own process group, with its
// stdout and stderr on pipes.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "common/status.h"

namespace trainyard::wrapper {

struct SpawnRequest {
  std::vector<std::string> argv;
  std::vector<std::string> environment;  // "KEY=VALUE"
  std::string working_directory;         // empty: the caller's
};

struct SpawnedChild {
  pid_t pid = -1;  // also the process group id
  int stdout_fd = -1;
  int stderr_fd = -1;
};

// Starts the command. The child gets a clean signal state (default handlers, nothing blocked),
// whatever the caller blocked for its own signalfd. Fails with NotFound (exit 127 semantics) or
// PermissionDenied when exec fails, reported through a close-on-exec pipe so the message is
// the real errno, not a guess.
Result<SpawnedChild> SpawnInOwnProcessGroup(const SpawnRequest& request);

// Reads what is available on `fd` into `buffer`; returns bytes read, 0 at EOF, -1 on EAGAIN.
ssize_t ReadAvailable(int fd, std::string& buffer);

}  // namespace trainyard::wrapper
