// DetachedProcess: a process this one starts but does not own. It runs in its own session, so it
// does not die with us (an orphan goes to init, which reaps it); while we live it is our child,
// reaped by its ProcessWaiter. A later process can find it again from its pid and start time.
//
// The start time (field 22 of /proc/PID/stat, in clock ticks since boot) tells a pid that was
// reused apart from the process we started: every call that looks at or signals the process
// checks it first. Linux only. Thread-safe (no shared state).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace trainyard::executor {

struct ProcessIdentity {
  pid_t pid = -1;
  uint64_t start_time = 0;  // /proc/PID/stat field 22
  bool our_child = false;   // started by this process (SpawnDetached), not found again
};

// The start time of the live process `pid`; NotFound when there is none or it is a zombie
// (exited, not yet reaped: it runs no more).
Result<uint64_t> ProcessStartTime(pid_t pid);

// Whether the very process `process` names still runs (not a reused pid, not a zombie).
bool IsRunning(const ProcessIdentity& process);

// The process `pid` if its environment holds `entry` ("NAME=value", naming the job it was
// started for); a pid that ended, or was reused by another process, gives an identity that
// reads as ended (start time 0). Retried for up to a second: a child that wrote its launch
// claim may not have exec'd yet.
ProcessIdentity IdentifyByEnvironment(pid_t pid, const std::string& entry);

// Sends `signal_number` to the process group `process` leads, after checking the start time;
// false when the process is gone (nothing is sent then).
bool SignalProcessGroup(const ProcessIdentity& process, int signal_number);

// Starts argv[0] (a path) with exactly `environment`, stdin from /dev/null and stdout and stderr
// to `console_file` (truncated), in a new session with no signal blocked and no descriptor
// inherited. Returns once it has exec'd; Internal (with errno's text) when it could not start.
//
// With a `launch_claim` path, the child creates that file exclusively (O_EXCL) and writes its
// pid into it just before it execs, and gives up (Cancelled) when the file already exists: see
// FenceLaunch, the other side of that race.
Result<ProcessIdentity> SpawnDetached(const std::vector<std::string>& argv,
                                      const std::vector<std::string>& environment,
                                      const std::filesystem::path& console_file,
                                      const std::filesystem::path& launch_claim = {});

// Settles whether a SpawnDetached with this `launch_claim` ever went (or will go) past its
// claim, when the process that called it may have died mid-launch: the child it forked lives on
// in its own session and may still be on its way to exec. Exactly one of the two creates the
// claim. nullopt: this call created it, so no child ever will exec — the launch is fenced off.
// A pid: the child created it and ran (or runs) the command; the pid is what the child wrote
// (waited for up to a second while the file is still empty). Internal on I/O errors.
Result<std::optional<pid_t>> FenceLaunch(const std::filesystem::path& launch_claim);

// How often a job's thread looks at its detached process (its end, a stop to deliver).
inline constexpr std::chrono::milliseconds kDetachedPollInterval{100};
// The exit code of a job's process that left no exit file (and, in a container, no exit code):
// only SIGKILL (ours, or the OOM killer's) stops it without its writing one.
inline constexpr int kKilledExitCode = 128 + SIGKILL;

// Waits for a process to end, and reaps it when it is our child. Uses a pidfd (pidfd_open,
// Linux 5.3) when the kernel has one, otherwise polls IsRunning every 100 ms. Not thread-safe: one
// per waiter.
class ProcessWaiter {
 public:
  explicit ProcessWaiter(ProcessIdentity process);
  ~ProcessWaiter();
  ProcessWaiter(const ProcessWaiter&) = delete;
  ProcessWaiter& operator=(const ProcessWaiter&) = delete;

  // True once the process has ended (or was never there); otherwise waits up to `timeout`
  // (at most 100 ms, so that callers can check other things between waits) and says again.
  bool WaitForExit(std::chrono::milliseconds timeout);

 private:
  void End();

  ProcessIdentity process_;
  int pidfd_ = -1;
  bool ended_ = false;
};

}  // namespace trainyard::executor
