#include "app/client_sweep_wait.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <thread>

#include "app/client_format.h"

namespace trainyard::app {

namespace {

using Clock = std::chrono::steady_clock;

bool IsTerminal(std::FILE* stream) {
  const int fd = ::fileno(stream);
  return fd >= 0 && ::isatty(fd);
}

// A restarting server refuses connections or answers 503; a busy one may not answer in time.
bool WorthAskingAgain(const Status& status) {
  return status.code() == StatusCode::kUnavailable ||
         status.code() == StatusCode::kDeadlineExceeded;
}

bool Ended(const nlohmann::json& sweep) {
  std::optional<int64_t> jobs = SweepJobCount(sweep);
  return jobs && EndedJobCount(sweep.value("counts", nlohmann::json())) >= *jobs;
}

// "sw-1: 2/4 ended (1 Completed, 1 Failed, 2 InProgress)".
std::string CountsLine(const std::string& sweep_id, const nlohmann::json& sweep) {
  const nlohmann::json counts = sweep.value("counts", nlohmann::json());
  std::optional<int64_t> jobs = SweepJobCount(sweep);
  return sweep_id + ": " + std::to_string(EndedJobCount(counts)) + "/" +
         (jobs ? std::to_string(*jobs) : "?") + " ended (" + CountsText(counts) + ")";
}

// Shows where the sweep stands on `err`: redrawn in place on a terminal (with the overall
// progress), else one line each time the counts change, so that a log stays short.
class WaitProgress {
 public:
  WaitProgress(std::FILE* err, std::string sweep_id)
      : err_(err), terminal_(IsTerminal(err)), sweep_id_(std::move(sweep_id)) {}

  void Show(const nlohmann::json& sweep) {
    const std::string line = CountsLine(sweep_id_, sweep);
    if (terminal_) {
      const double progress = sweep.value("progress", 0.0);
      std::fprintf(err_, "\r\033[K%s  %s", line.c_str(), ProgressBarText(progress, 20).c_str());
      live_line_ = true;
    } else if (line != last_line_) {
      std::fprintf(err_, "%s\n", line.c_str());
    }
    last_line_ = line;
    std::fflush(err_);
  }

  // A message on a line of its own (the live line, if any, is ended first).
  void Note(const std::string& message) {
    EndLiveLine();
    std::fprintf(err_, "%s\n", message.c_str());
    std::fflush(err_);
  }

  void EndLiveLine() {
    if (!live_line_) return;
    std::fputc('\n', err_);
    live_line_ = false;
  }

 private:
  std::FILE* err_;
  bool terminal_;
  std::string sweep_id_;
  std::string last_line_;
  bool live_line_ = false;
};

}  // namespace

int64_t StoppedEarlyCount(const nlohmann::json& sweep) {
  const auto field = sweep.find("stopped_early");
  return field != sweep.end() && field->is_number_integer() ? field->get<int64_t>() : 0;
}

bool SweepSucceeded(const nlohmann::json& sweep) {
  const nlohmann::json counts = sweep.value("counts", nlohmann::json());
  const int64_t completed = counts.value("Completed", int64_t{0});
  // Only stops that early stopping made count as a success, and never more than were Stopped.
  const int64_t stopped_early =
      std::min(StoppedEarlyCount(sweep), counts.value("Stopped", int64_t{0}));
  return completed + stopped_early == SweepJobCount(sweep);
}

Result<int> WaitForSweep(const ClientContext& context, const std::string& sweep_id,
                         std::chrono::milliseconds timeout) {
  const Clock::time_point deadline =
      timeout.count() > 0 ? Clock::now() + timeout : Clock::time_point::max();
  const auto time_left = [&deadline] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  };
  const std::string path = "/api/v1/sweeps/" + client::ApiClient::Escape(sweep_id);
  WaitProgress progress(context.err, sweep_id);
  nlohmann::json sweep;  // the last answer; null until the server has given one
  bool server_lost = false;
  while (true) {
    // A call never outlasts the wait's own deadline.
    client::ApiClientOptions options = context.api.options();
    options.timeout = std::clamp(time_left(), std::chrono::milliseconds(100), options.timeout);
    client::ApiClient api(options);
    Result<nlohmann::json> answer = api.Get(path);
    if (answer.ok()) {
      if (server_lost) progress.Note("the trainyard server answers again");
      server_lost = false;
      sweep = std::move(answer).value();
      progress.Show(sweep);
      if (Ended(sweep)) break;
    } else if (sweep.is_null() || !WorthAskingAgain(answer.status())) {
      progress.EndLiveLine();
      return answer.status();
    } else if (!server_lost) {
      server_lost = true;
      progress.Note(answer.status().message() + "; asking again until it answers");
    }
    if (Clock::now() >= deadline) {
      progress.EndLiveLine();
      if (context.json_output) context.PrintJson(sweep);
      char seconds[32];
      std::snprintf(seconds, sizeof seconds, "%gs", std::chrono::duration<double>(timeout).count());
      return Status(StatusCode::kDeadlineExceeded,
                    "sweep '" + sweep_id + "' has not ended within --timeout " + seconds + " (" +
                        CountsText(sweep.value("counts", nlohmann::json())) + ")");
    }
    const auto pause = std::min(context.state.sweep_poll_interval, time_left());
    std::this_thread::sleep_for(std::max(pause, std::chrono::milliseconds(0)));
  }
  progress.EndLiveLine();
  const nlohmann::json counts = sweep.value("counts", nlohmann::json());
  const int64_t stopped_early = StoppedEarlyCount(sweep);
  if (context.json_output) {
    context.PrintJson(sweep);
  } else {
    context.Print("sweep " + sweep_id + " ended: " + CountsText(counts) +
                  (stopped_early > 0 ? " (" + std::to_string(stopped_early) + " stopped early)"
                                     : std::string()) +
                  "\n");
  }
  return SweepSucceeded(sweep) ? kSweepCompletedExitCode : kSweepFailedExitCode;
}

}  // namespace trainyard::app
