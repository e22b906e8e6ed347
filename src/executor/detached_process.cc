#include "executor/detached_process.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <thread>

#include "common/files.h"

namespace trainyard::executor {

namespace {

constexpr std::chrono::milliseconds kPollSlice{100};

void CloseAll(std::initializer_list<int> fds) {
  for (int fd : fds) {
    if (fd >= 0) ::close(fd);
  }
}

// Reads exactly `size` bytes unless the pipe ends first; the number read.
size_t ReadFully(int fd, void* data, size_t size) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::read(fd, static_cast<char*>(data) + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

// Writes the decimal digits of `pid` to `fd`, without allocating.
void WriteDecimal(int fd, pid_t pid) {
  char digits[24];
  char* end = digits + sizeof digits;
  char* begin = end;
  do {
    *--begin = static_cast<char>('0' + pid % 10);
    pid /= 10;
  } while (pid > 0 && begin > digits);
  ssize_t ignored = ::write(fd, begin, static_cast<size_t>(end - begin));
  (void)ignored;  // an empty claim reads as "launched, pid unknown": still never run twice
}

constexpr size_t kChildStackBytes = 64 * 1024;

// What the child needs, prepared by the parent: the child may not allocate.
struct ChildLaunch {
  char** argv;
  char** envp;
  int null_fd;
  int console_fd;
  int report_fd;
  int max_fd;
  const char* launch_claim;  // nullptr: none
};

// The child, between clone and exec. It shares our memory (CLONE_VM), so only system calls:
// nothing that allocates, locks or writes memory of ours. Every descriptor is moved above 9
// first, so that none of them is overwritten by the dup2s onto 0-3.
[[noreturn]] void ExecDetached(const ChildLaunch& launch) {
  // Our handlers must never run here: back to the defaults (the ignored stay ignored, as
  // across any exec) before anything is unblocked.
  for (int signal_number = 1; signal_number < NSIG; ++signal_number) {
    struct sigaction action {};
    if (::sigaction(signal_number, nullptr, &action) != 0) continue;
    if (action.sa_handler == SIG_DFL || action.sa_handler == SIG_IGN) continue;
    action = {};
    action.sa_handler = SIG_DFL;
    ::sigaction(signal_number, &action, nullptr);
  }
  // Its own session, so its own process group: Stop signals -pid, and nothing sent to ours
  // (a Ctrl-C, a terminal hangup) reaches it.
  ::setsid();
  int report = ::fcntl(launch.report_fd, F_DUPFD, 10);
  int in = ::fcntl(launch.null_fd, F_DUPFD, 10);
  int out = ::fcntl(launch.console_fd, F_DUPFD, 10);
  ::dup2(in, STDIN_FILENO);
  ::dup2(out, STDOUT_FILENO);
  ::dup2(out, STDERR_FILENO);
  ::dup2(report, 3);
  ::fcntl(3, F_SETFD, FD_CLOEXEC);
  // Nothing of ours (the server's sockets, its database) may stay open in a process that
  // outlives us.
#ifdef SYS_close_range
  if (::syscall(SYS_close_range, 4u, ~0u, 0u) != 0)
#endif
  {
    for (int fd = 4; fd < launch.max_fd; ++fd) ::close(fd);
  }
  if (launch.launch_claim != nullptr) {
    // The commit point of the launch: past it the command runs, and nobody may start it again.
    int claim = ::open(launch.launch_claim, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (claim < 0) {
      int error = errno == EEXIST ? ECANCELED : errno;
      // Nothing to log with here. Should this write fail, the parent takes the start for a
      // success of a process that exits 127 at once, having run nothing: still never twice.
      ssize_t ignored = ::write(3, &error, sizeof error);
      (void)ignored;
      ::_exit(127);
    }
    WriteDecimal(claim, ::getpid());
    ::close(claim);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(launch.argv[0], launch.argv, launch.envp);
  int error = errno;
  // Nothing to log with here. Should this
  // write fail, the parent takes the start for a success, and exit code 127 tells the rest.
  ssize_t ignored = ::write(3, &error, sizeof error);
  (void)ignored;
  ::_exit(127);
}

int RunChild(void* launch) {
  ExecDetached(*static_cast<const ChildLaunch*>(launch));
}

}  // namespace

Result<uint64_t> ProcessStartTime(pid_t pid) {
  if (pid <= 0) return NotFound("no process");
  auto text = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (!text.ok()) return NotFound("process " + std::to_string(pid) + " is gone");
  // "PID (COMM) STATE ...": COMM may hold spaces and parentheses, so fields count from the last
  // ')'; STATE is field 3 and the start time field 22.
  size_t close = text->rfind(')');
  if (close == std::string::npos) return Internal("unreadable /proc/" + std::to_string(pid));
  std::istringstream fields(text->substr(close + 1));
  std::string state, field;
  fields >> state;
  for (int number = 4; number < 22 && fields >> field; ++number) {
  }
  uint64_t start_time = 0;
  if (!(fields >> start_time)) return Internal("unreadable /proc/" + std::to_string(pid));
  if (state == "Z" || state == "X") return NotFound("process " + std::to_string(pid) + " ended");
  return start_time;
}

ProcessIdentity IdentifyByEnvironment(pid_t pid, const std::string& entry) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    auto start_time = ProcessStartTime(pid);
    if (!start_time.ok()) break;
    auto environment = ReadFile("/proc/" + std::to_string(pid) + "/environ");
    if (environment.ok() && environment->find(entry + '\0') != std::string::npos) {
      return {pid, *start_time};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return {pid, 0};
}

bool IsRunning(const ProcessIdentity& process) {
  auto start_time = ProcessStartTime(process.pid);
  return start_time.ok() && *start_time == process.start_time;
}

bool SignalProcessGroup(const ProcessIdentity& process, int signal_number) {
  if (!IsRunning(process)) return false;
  return ::kill(-process.pid, signal_number) == 0;
}

Result<ProcessIdentity> SpawnDetached(const std::vector<std::string>& argv,
                                      const std::vector<std::string>& environment,
                                      const std::filesystem::path& console_file,
                                      const std::filesystem::path& launch_claim) {
  if (argv.empty()) return InvalidArgument("empty command");
  std::vector<char*> argv_pointers, envp;
  for (const std::string& argument : argv)
    argv_pointers.push_back(const_cast<char*>(argument.c_str()));
  argv_pointers.push_back(nullptr);
  for (const std::string& entry : environment) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);
  rlimit files{};
  int max_fd = ::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY
                   ? static_cast<int>(std::min<rlim_t>(files.rlim_cur, 1 << 20))
                   : 65536;

  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int console_fd = ::open(console_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int exec_pipe[2] = {-1, -1};
  if (null_fd < 0 || console_fd < 0 || ::pipe2(exec_pipe, O_CLOEXEC) != 0) {
    Status failure =
        Internal("cannot prepare '" + console_file.string() + "': " + std::strerror(errno));
    CloseAll({null_fd, console_fd, exec_pipe[0], exec_pipe[1]});
    return failure;
  }
  // Started as vfork does (CLONE_VM | CLONE_VFORK, on a stack of its own), not forked: copying
  // the page tables of a large, threaded server for every job cost more than the job's own
  // start. This thread waits until the child has exec'd or exited; every signal stays blocked
  // here meanwhile, so that none of our handlers runs on the shared memory (the child resets
  // them before it unblocks).
  std::vector<char> stack(kChildStackBytes);
  ChildLaunch launch{argv_pointers.data(),
                     envp.data(),
                     null_fd,
                     console_fd,
                     exec_pipe[1],
                     max_fd,
                     launch_claim.empty() ? nullptr : launch_claim.c_str()};
  sigset_t all, previous;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &previous);
  pid_t child =
      ::clone(RunChild, stack.data() + stack.size(), CLONE_VM | CLONE_VFORK | SIGCHLD, &launch);
  int clone_error = errno;
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  CloseAll({null_fd, console_fd, exec_pipe[1]});
  if (child < 0) {
    ::close(exec_pipe[0]);
    return Internal(std::string("cannot start a process: ") + std::strerror(clone_error));
  }
  int exec_error = 0;
  size_t got = ReadFully(exec_pipe[0], &exec_error, sizeof exec_error);  // EOF once it has exec'd
  ::close(exec_pipe[0]);
  if (got == sizeof exec_error) {
    while (::waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
    }
    if (exec_error == ECANCELED) {
      return Cancelled("'" + launch_claim.string() + "' exists: the launch was fenced off");
    }
    return Internal("cannot start '" + argv[0] + "': " + std::strerror(exec_error));
  }
  ProcessIdentity process{child, 0, true};
  // A start time of 0 (it ended already) matches no live process: it reads as ended.
  auto start_time = ProcessStartTime(process.pid);
  if (start_time.ok()) process.start_time = *start_time;
  return process;
}

Result<std::optional<pid_t>> FenceLaunch(const std::filesystem::path& launch_claim) {
  int claim = ::open(launch_claim.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (claim >= 0) {
    ::close(claim);
    return std::optional<pid_t>();
  }
  if (errno != EEXIST) {
    return Internal("cannot create '" + launch_claim.string() + "': " + std::strerror(errno));
  }
  // The child writes its pid right after creating the file: an empty file is a child between
  // the two calls.
  for (int attempt = 0; attempt < 50; ++attempt) {
    TY_ASSIGN_OR_RETURN(std::string text, ReadFile(launch_claim));
    if (!text.empty()) {
      try {
        return std::optional<pid_t>(static_cast<pid_t>(std::stol(text)));
      } catch (const std::exception&) {
        return Internal("'" + launch_claim.string() + "' holds no pid");
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::optional<pid_t>(-1);  // launched, pid unknown: it reads as ended
}

ProcessWaiter::ProcessWaiter(ProcessIdentity process) : process_(process) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, process_.pid, 0));
  if (fd < 0 && errno == ESRCH) {
    ended_ = true;
    return;
  }
  pidfd_ = fd;  // -1 (no pidfd_open before Linux 5.3): polled instead
  // Checked after opening: the pidfd then refers to the process we started, not a reuse.
  if (!IsRunning(process_)) End();
}

void ProcessWaiter::End() {
  ended_ = true;
  // Our own child stays a zombie until reaped; the pidfd names exactly it, so no other child's
  // status is taken. Someone else's process is reaped by its parent (ECHILD here).
  if (process_.our_child && pidfd_ >= 0) {
    siginfo_t info{};
    while (::waitid(P_PIDFD, static_cast<id_t>(pidfd_), &info, WEXITED | WNOHANG) < 0 &&
           errno == EINTR) {
    }
  }
}

ProcessWaiter::~ProcessWaiter() {
  if (pidfd_ >= 0) ::close(pidfd_);
}

bool ProcessWaiter::WaitForExit(std::chrono::milliseconds timeout) {
  if (ended_) return true;
  timeout = std::clamp(timeout, std::chrono::milliseconds(0), kPollSlice);
  if (pidfd_ >= 0) {
    pollfd fd{pidfd_, POLLIN, 0};
    int ready = ::poll(&fd, 1, static_cast<int>(timeout.count()));
    if (ready > 0 && (fd.revents & (POLLIN | POLLHUP | POLLERR))) End();
  } else {
    std::this_thread::sleep_for(timeout);
    if (!IsRunning(process_)) End();
  }
  return ended_;
}

}  // namespace trainyard::executor
