#include "executor/container/runtime_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <thread>

namespace trainyard::executor {
namespace {

int DecodeWaitStatus(int wait_status) {
  return WIFSIGNALED(wait_status) ? 128 + WTERMSIG(wait_status) : WEXITSTATUS(wait_status);
}

// posix_spawn with its own process group, no signal blocked, and the given stdin/stdout setup.
Result<pid_t> Spawn(const std::vector<std::string>& argv,
                    const std::vector<std::string>& environment,
                    posix_spawn_file_actions_t* files) {
  std::vector<std::string> arguments = argv, entries = environment;
  std::vector<char*> argv_pointers, envp;
  for (std::string& argument : arguments) argv_pointers.push_back(argument.data());
  argv_pointers.push_back(nullptr);
  for (std::string& entry : entries) envp.push_back(entry.data());
  envp.push_back(nullptr);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attributes, 0);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  pid_t pid = -1;
  int error =
      posix_spawn(&pid, argv_pointers[0], files, &attributes, argv_pointers.data(), envp.data());
  posix_spawnattr_destroy(&attributes);
  if (error != 0) return Internal("cannot start '" + argv[0] + "': " + std::strerror(error));
  return pid;
}

}  // namespace

Result<pid_t> SpawnRuntime(const std::vector<std::string>& argv,
                           const std::vector<std::string>& environment,
                           const std::filesystem::path& output_file) {
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  std::string output = output_file.string();
  posix_spawn_file_actions_addopen(&files, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, output.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&files, STDOUT_FILENO, STDERR_FILENO);
  Result<pid_t> pid = Spawn(argv, environment, &files);
  posix_spawn_file_actions_destroy(&files);
  return pid;
}

std::optional<int> WaitForChild(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int wait_status = 0;
    pid_t done = ::waitpid(pid, &wait_status, WNOHANG);
    if (done == pid) return DecodeWaitStatus(wait_status);
    if (done < 0 && errno != EINTR) return -1;  // not our child (any more): nothing to wait for
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

Result<CommandOutput> RunCommand(const std::vector<std::string>& argv,
                                 const std::vector<std::string>& environment,
                                 std::chrono::milliseconds timeout, size_t output_limit) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return Internal(std::string("pipe: ") + strerror(errno));
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&files, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&files, pipe_fds[1], STDERR_FILENO);
  Result<pid_t> spawned = Spawn(argv, environment, &files);
  posix_spawn_file_actions_destroy(&files);
  ::close(pipe_fds[1]);
  if (!spawned.ok()) {
    ::close(pipe_fds[0]);
    return spawned.status();
  }
  pid_t pid = *spawned;
  CommandOutput result;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd fd{pipe_fds[0], POLLIN, 0};
    int ready = ::poll(&fd, 1, static_cast<int>(std::min<int64_t>(left.count(), 100)));
    if (ready <= 0) continue;
    char buffer[4096];
    ssize_t got = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;  // every writer closed its end
    if (result.output.size() < output_limit) result.output.append(buffer, static_cast<size_t>(got));
  }
  ::close(pipe_fds[0]);
  if (timed_out) {
    ::kill(-pid, SIGKILL);
    // Only reaps it: the error returned below is what the caller needs to know.
    (void)WaitForChild(pid, std::chrono::seconds(5));
    return Status(StatusCode::kDeadlineExceeded, "'" + argv[0] + "' did not finish within " +
                                                     std::to_string(timeout.count()) + " ms");
  }
  std::optional<int> code = WaitForChild(pid, timeout);
  if (!code) {
    ::kill(-pid, SIGKILL);
    code = WaitForChild(pid, std::chrono::seconds(5));
  }
  result.exit_code = code.value_or(-1);
  return result;
}

}  // namespace trainyard::executor
