#include "wrapper/supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "common/files.h"

namespace trainyard::wrapper {
using Clock = std::chrono::steady_clock;
using nlohmann::json;

namespace {

constexpr size_t kMaxPendingLogLines = 5'000;
constexpr std::chrono::milliseconds kFirstProgressPoll{10};

bool HasContent(const std::filesystem::path& file) {
  struct stat info {};
  return ::stat(file.c_str(), &info) == 0 && info.st_size > 0;
}

sigset_t SupervisedSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int signal_number : {SIGTERM, SIGINT, SIGCHLD}) sigaddset(&set, signal_number);
  return set;
}

void WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a closed terminal must not stop the job
    data.remove_prefix(static_cast<size_t>(n));
  }
}

int MillisecondsUntil(Clock::time_point deadline, Clock::time_point now) {
  if (deadline <= now) return 0;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1;
  return static_cast<int>(std::min<int64_t>(ms, 60'000));
}

json MetricLine(const MetricPoint& point) {
  json line = {
      {"name", point.name}, {"value", point.value}, {"timestamp", FormatIso8601(point.time)}};
  if (point.step) line["step"] = *point.step;
  return line;
}

}  // namespace

int PendingStopSignal() {
  sigset_t pending;
  sigemptyset(&pending);
  sigpending(&pending);
  for (int signal_number : {SIGTERM, SIGINT}) {
    if (sigismember(&pending, signal_number)) return signal_number;
  }
  return 0;
}

void BlockSupervisedSignals() {
  sigset_t set = SupervisedSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

ProgressUpdate Supervisor::CollectUpdate(bool at_end) {
  auto now = std::chrono::system_clock::now();
  for (const contract::ProgressRecord& record : progress_reader_->ReadNew(at_end)) {
    snapshot_.Merge(record);
    progress_changed_ = true;
    for (const auto& [name, value] : record.metrics) {
      pending_metrics_.push_back({name, value, record.step, now});
    }
  }
  for (const MetricPoint& point : pending_metrics_) latest_metrics_[point.name] = point.value;

  if (!pending_metrics_.empty() && !options_.metrics_file.empty()) {
    std::string lines;
    for (const MetricPoint& point : pending_metrics_) lines += MetricLine(point).dump() + "\n";
    std::ofstream(options_.metrics_file, std::ios::app) << lines;
  }
  if (!options_.state_file.empty()) {
    json state = {{"updated_at", FormatIso8601(now)},
                  {"progress", snapshot_.ToJson()},
                  {"metrics", latest_metrics_},
                  {"skipped_progress_lines", progress_reader_->skipped_lines()}};
    // Rewritten every interval: a failed write (a full disk) leaves the last progress shown
    // until the next one succeeds, and nothing else reads this file.
    (void)WriteFileAtomic(options_.state_file, state.dump() + "\n", Durability::kAtomicOnly);
  }

  ProgressUpdate update;
  if (progress_changed_) update.progress = snapshot_.ToJson();
  progress_changed_ = false;
  update.metrics = std::move(pending_metrics_);
  update.log = std::move(pending_log_);
  update.dropped_log_lines = dropped_log_lines_;
  pending_metrics_.clear();
  pending_log_.clear();
  dropped_log_lines_ = 0;
  return update;
}

Result<ChildOutcome> Supervisor::Run(const SpawnRequest& request) {
  ChildOutcome outcome;
  MetricExtractor extractor(options_.metric_definitions, &outcome.warnings);
  // The line is in the log file already (written as read, below) and queued for the server
  // before any metric regex looks at it: matching never holds the log back.
  LineSplitter splitter([&](LogLine line) {
    const TimePoint time = line.time;
    std::string text;
    if (reporter_) {
      if (pending_log_.size() >= kMaxPendingLogLines) {
        pending_log_.erase(pending_log_.begin());
        ++dropped_log_lines_;
      }
      text = line.text;
      pending_log_.push_back(std::move(line));
    } else {
      text = std::move(line.text);
    }
    for (MetricPoint& point : extractor.Extract(text, time)) {
      pending_metrics_.push_back(std::move(point));
    }
  });
  contract::ProgressFileReader progress_reader(options_.progress_file);
  progress_reader_ = &progress_reader;

  sigset_t signals = SupervisedSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  int signal_fd = ::signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signal_fd < 0) return Internal(std::string("signalfd: ") + std::strerror(errno));

  auto spawned = SpawnInOwnProcessGroup(request);
  if (!spawned.ok()) {
    ::close(signal_fd);
    return spawned.status();
  }
  const pid_t child = spawned->pid;
  int stream_fds[2] = {spawned->stdout_fd, spawned->stderr_fd};
  const int echo_fds[2] = {options_.echo_stdout_fd, options_.echo_stderr_fd};

  bool child_done = false, killed = false;
  int wait_status = 0;
  auto now = Clock::now();
  auto next_tick = now + options_.progress_interval;
  // Until the command writes its first progress line, look for it often (a stat every 10 ms,
  // during the first interval only): reporting it at once shows a job is alive without waiting
  // out a whole interval.
  bool first_progress_reported = options_.progress_file.empty();
  const auto first_interval_end = next_tick;
  auto kill_deadline = Clock::time_point::max();
  auto drain_deadline = Clock::time_point::max();
  std::string chunk;

  auto reap = [&] {
    int status = 0;
    pid_t pid;
    // As PID 1 (or a subreaper) orphans become ours too; waitpid(-1) collects them as well.
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid != child) continue;
      child_done = true;
      wait_status = status;
      ::kill(-child, SIGKILL);  // what the command left running in its group ends with it
      drain_deadline = Clock::now() + options_.drain_timeout;
    }
  };

  while (true) {
    bool pipes_open = stream_fds[0] >= 0 || stream_fds[1] >= 0;
    if (child_done && (!pipes_open || Clock::now() >= drain_deadline)) break;

    now = Clock::now();
    auto wake_at = next_tick;
    if (!first_progress_reported && now < first_interval_end) {
      wake_at = std::min(wake_at, now + kFirstProgressPoll);
    }
    if (outcome.stop_requested && !killed && !child_done)
      wake_at = std::min(wake_at, kill_deadline);
    if (child_done) wake_at = std::min(wake_at, drain_deadline);
    pollfd fds[3] = {
        {stream_fds[0], POLLIN, 0}, {stream_fds[1], POLLIN, 0}, {signal_fd, POLLIN, 0}};
    int ready = ::poll(fds, 3, MillisecondsUntil(wake_at, now));
    if (ready < 0 && errno != EINTR) return Internal(std::string("poll: ") + std::strerror(errno));
    auto wall_now = std::chrono::system_clock::now();

    for (int i = 0; i < 2; ++i) {
      if (stream_fds[i] < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n;
      while ((n = ReadAvailable(stream_fds[i], chunk)) > 0) {
        WriteAll(echo_fds[i], chunk);
        if (options_.log_fd >= 0) WriteAll(options_.log_fd, chunk);
        splitter.Add(i == 0 ? Stream::kStdout : Stream::kStderr, chunk, wall_now);
      }
      if (n == 0) {
        ::close(stream_fds[i]);
        stream_fds[i] = -1;
      }
    }

    if (fds[2].revents & POLLIN) {
      signalfd_siginfo info;
      while (::read(signal_fd, &info, sizeof info) == sizeof info) {
        int signal_number = static_cast<int>(info.ssi_signo);
        if (signal_number == SIGCHLD) continue;  // reaped below
        if (!child_done) ::kill(-child, signal_number);
        if (!outcome.stop_requested) {
          outcome.stop_requested = true;
          kill_deadline = Clock::now() + options_.grace_period;
        }
      }
    }
    reap();

    now = Clock::now();
    if (outcome.stop_requested && !killed && !child_done && now >= kill_deadline) {
      ::kill(-child, SIGKILL);
      killed = true;
    }
    if (!first_progress_reported && now < first_interval_end &&
        HasContent(options_.progress_file)) {
      first_progress_reported = true;
      next_tick = now;
    }
    if (now >= next_tick) {
      ProgressUpdate update = CollectUpdate(/*at_end=*/false);
      if (reporter_) reporter_->Submit(std::move(update));
      next_tick = now + options_.progress_interval;
    }
  }

  for (int fd : stream_fds) {
    if (fd >= 0) ::close(fd);
  }
  ::close(signal_fd);
  splitter.Finish(std::chrono::system_clock::now());
  final_update_ = CollectUpdate(/*at_end=*/true);
  progress_reader_ = nullptr;

  if (WIFSIGNALED(wait_status)) {
    outcome.signal = WTERMSIG(wait_status);
    outcome.exit_code = 128 + outcome.signal;
  } else {
    outcome.exit_code = WEXITSTATUS(wait_status);
  }
  outcome.stderr_tail = splitter.StderrTail();
  return outcome;
}

}  // namespace trainyard::wrapper
