#include "app/progress_display.h"

#include <algorithm>
#include <cmath>

namespace trainyard::app {

namespace {

std::string StatusWord(const executor::JobDescription& description) {
  const core::JobStatusTracker& status = description.status;
  if (core::IsTerminal(status.status())) {
    if (status.secondary_status() == core::SecondaryStatus::kMaxRuntimeExceeded) {
      return "Stopped (MaxRuntimeExceeded)";
    }
    return core::ToString(status.status());
  }
  return core::ToString(status.secondary_status());
}

std::string MetricsText(const std::map<std::string, double>& metrics) {
  std::string text;
  for (const auto& [name, value] : metrics) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, " %s=%.4g", name.c_str(), value);
    text += buffer;
  }
  return text;
}

}  // namespace

std::string ProgressDisplay::ProgressBar(double fraction, int width) {
  fraction = std::clamp(fraction, 0.0, 1.0);
  int filled = static_cast<int>(std::lround(fraction * width));
  char percent[8];
  std::snprintf(percent, sizeof percent, "%4d%%", static_cast<int>(std::lround(fraction * 100)));
  return "[" + std::string(filled, '#') + std::string(width - filled, '.') + "]" + percent;
}

std::string ProgressDisplay::JobLine(const DisplayedJob& job) {
  const executor::JobDescription& description = *job.description;
  const nlohmann::json& progress = description.progress;
  double fraction = 0.0;
  if (progress.is_object() && progress.contains("progress") && progress["progress"].is_number()) {
    fraction = progress["progress"].get<double>();
  }
  if (description.status.status() == core::JobStatus::kCompleted) fraction = 1.0;
  char elapsed[32];
  std::snprintf(elapsed, sizeof elapsed, " %.0fs", job.elapsed_seconds);
  return job.job_name + "  " + ProgressBar(fraction, 20) + "  " + StatusWord(description) +
         MetricsText(description.metrics) + elapsed;
}

void ProgressDisplay::Update(const std::vector<DisplayedJob>& jobs, const std::string& note) {
  size_t queued = 0, running = 0, completed = 0, failed = 0, stopped = 0;
  for (const DisplayedJob& job : jobs) {
    if (!job.description) {
      ++queued;
      continue;
    }
    switch (job.description->status.status()) {
      case core::JobStatus::kCompleted: ++completed; break;
      case core::JobStatus::kFailed: ++failed; break;
      case core::JobStatus::kStopped: ++stopped; break;
      default: ++running;
    }
  }
  char summary[160];
  std::snprintf(summary, sizeof summary,
                "%zu jobs: %zu completed, %zu failed, %zu stopped, %zu running, %zu queued",
                jobs.size(), completed, failed, stopped, running, queued);

  if (!interactive_) {
    for (const DisplayedJob& job : jobs) {
      if (!job.description) continue;
      std::string word = StatusWord(*job.description);
      std::string& last = last_status_[job.job_name];
      if (word == last) continue;
      last = word;
      bool terminal = core::IsTerminal(job.description->status.status());
      std::fprintf(out_, "%s  %s%s\n", job.job_name.c_str(), word.c_str(),
                   terminal ? MetricsText(job.description->metrics).c_str() : "");
    }
    std::fflush(out_);
    return;
  }

  std::string frame;
  if (lines_drawn_ > 0) frame += "\x1b[" + std::to_string(lines_drawn_) + "F";  // back to the top
  int lines = 0;
  auto add = [&](const std::string& line) {
    frame += "\x1b[2K" + line + "\n";
    ++lines;
  };
  add(summary + (note.empty() ? "" : "  " + note));
  for (const DisplayedJob& job : jobs) {
    if (job.description && !core::IsTerminal(job.description->status.status())) add(JobLine(job));
  }
  for (int i = lines; i < lines_drawn_; ++i) frame += "\x1b[2K\n";  // wipe what shrank
  int total = std::max(lines, lines_drawn_);
  if (total > lines) frame += "\x1b[" + std::to_string(total - lines) + "F";
  lines_drawn_ = lines;
  std::fputs(frame.c_str(), out_);
  std::fflush(out_);
}

void ProgressDisplay::Close() {
  lines_drawn_ = 0;
}

}  // namespace trainyard::app
