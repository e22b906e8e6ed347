#include "wrapper/child_process.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace trainyard::wrapper {

namespace {

void CloseBoth(int fds[2]) {
  if (fds[0] >= 0) ::close(fds[0]);
  if (fds[1] >= 0) ::close(fds[1]);
}

// Only async-signal-safe calls between fork and exec.
[[noreturn]] void ExecChild(const SpawnRequest& request, char** argv, char** envp, int out[2],
                            int err[2], int status_pipe) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int signal_number : {SIGTERM, SIGINT, SIGCHLD, SIGPIPE, SIGHUP}) {
    ::signal(signal_number, SIG_DFL);
  }
  ::setpgid(0, 0);
  // If the wrapper dies without a chance to clean up, the job must not run on unsupervised.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  ::dup2(out[1], STDOUT_FILENO);
  ::dup2(err[1], STDERR_FILENO);
  ::close(out[0]);
  ::close(out[1]);
  ::close(err[0]);
  ::close(err[1]);
  int error = 0;
  if (!request.working_directory.empty() && ::chdir(request.working_directory.c_str()) != 0) {
    error = errno;
  } else {
    ::execvpe(argv[0], argv, envp);
    error = errno;
  }
  // Between fork and exec only async-signal-safe calls, so nothing to log with. Should this
  // write fail, the parent takes the start for a success, and exit code 127 tells the rest.
  ssize_t ignored = ::write(status_pipe, &error, sizeof error);
  (void)ignored;
  ::_exit(127);
}

}  // namespace

Result<SpawnedChild> SpawnInOwnProcessGroup(const SpawnRequest& request) {
  if (request.argv.empty()) return InvalidArgument("empty command");
  std::vector<char*> argv;
  for (const std::string& argument : request.argv)
    argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& entry : request.environment)
    envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);

  int out[2] = {-1, -1}, err[2] = {-1, -1}, status[2] = {-1, -1};
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0 ||
      ::pipe2(status, O_CLOEXEC) != 0) {
    Status failure = Internal(std::string("cannot create pipes: ") + std::strerror(errno));
    CloseBoth(out);
    CloseBoth(err);
    CloseBoth(status);
    return failure;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    Status failure = Internal(std::string("cannot fork: ") + std::strerror(errno));
    CloseBoth(out);
    CloseBoth(err);
    CloseBoth(status);
    return failure;
  }
  if (pid == 0) {
    ::close(status[0]);
    ExecChild(request, argv.data(), envp.data(), out, err, status[1]);
  }
  ::setpgid(pid, pid);  // also here, so no signal can reach the group before the child ran
  ::close(out[1]);
  ::close(err[1]);
  ::close(status[1]);

  int exec_errno = 0;
  ssize_t n;
  do {
    n = ::read(status[0], &exec_errno, sizeof exec_errno);
  } while (n < 0 && errno == EINTR);
  ::close(status[0]);
  if (n == sizeof exec_errno) {
    ::close(out[0]);
    ::close(err[0]);
    ::waitpid(pid, nullptr, 0);  // it has already exited with 127
    std::string message = "cannot run '" + request.argv[0] + "': " + std::strerror(exec_errno);
    if (exec_errno == ENOENT) return Status(StatusCode::kNotFound, message);
    if (exec_errno == EACCES) return Status(StatusCode::kPermissionDenied, message);
    // The job's own arguments or environment are too long for the kernel.
    if (exec_errno == E2BIG) return InvalidArgument(message);
    return Internal(message);
  }
  ::fcntl(out[0], F_SETFL, O_NONBLOCK);
  ::fcntl(err[0], F_SETFL, O_NONBLOCK);
  return SpawnedChild{pid, out[0], err[0]};
}

ssize_t ReadAvailable(int fd, std::string& buffer) {
  char chunk[65536];
  ssize_t n;
  do {
    n = ::read(fd, chunk, sizeof chunk);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? -1 : 0;
  buffer.assign(chunk, static_cast<size_t>(n));
  return n;
}

}  // namespace trainyard::wrapper
