// When each line of a training job's log was first seen: training.log has no timestamps, so a
// watcher looks at the live log of every running job each poll_interval (LogIndex: a few
// checkpoints per job), and once the job has ended keeps the notes beside its stored log as
// log-times.json. Lines it never saw (written after its last look, or while no server ran)
// take the job's end time. The notes of a running job live in memory only: after a restart its
// earlier lines take the time of the restart's first look.
#include <algorithm>
#include <optional>
#include <sstream>

#include "common/log.h"
#include "server/sagemaker/training_jobs.h"

namespace trainyard::server::sagemaker {
using nlohmann::json;

void TrainingJobs::WatchLogs() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    ObserveLogs();
    lock.lock();
    if (stopping_) break;
    wake_.wait_for(lock, options_.poll_interval);
  }
}

void TrainingJobs::ObserveLogs() {
  const int64_t now_ms = EpochMilliseconds(Now());
  std::map<std::string, metadata::JobRecord> running;
  for (const char* status : {"InProgress", "Stopping"}) {
    metadata::JobFilter filter;
    filter.status = status;
    filter.limit = 1000;
    auto page = options_.metadata->ListJobs(filter);
    if (!page.ok()) {
      Logger("sagemaker")
          .warn("running jobs cannot be listed for their logs: {}", page.status().message());
      return;
    }
    for (metadata::JobRecord& record : page->jobs) running[record.name] = std::move(record);
  }
  std::map<std::string, LogIndex> seen;
  {
    std::lock_guard lock(mutex_);
    seen = live_logs_;
  }
  for (const auto& [name, record] : running) {
    LogIndex& index = seen[name];
    index.Observe(LiveLogFile(record), now_ms);
  }
  // The jobs that ended since the last look: their notes go beside their stored log.
  std::map<std::string, LogIndex> ended;
  for (auto it = seen.begin(); it != seen.end();) {
    if (running.count(it->first)) {
      ++it;
      continue;
    }
    auto record = options_.metadata->GetJob(it->first);
    if (record.ok() && !core::IsTerminal(record->status)) {
      ++it;  // queued again, or between two lists: looked at next time
      continue;
    }
    if (record.ok()) {
      NoteStoredLines(*record, it->second);
      std::string times = it->second.ToJson().dump();
      std::istringstream source(times);
      WarnIfFailed("sagemaker",
                   options_.objects
                       ->Put(JobStoreKey(it->first, "log-times.json"), source, times.size(),
                             {.content_type = "application/json"})
                       .status(),
                   "job={} log-times.json not stored", it->first);
      ended[it->first] = it->second;
    }
    it = seen.erase(it);
  }
  std::lock_guard lock(mutex_);
  live_logs_ = std::move(seen);
  for (auto& [name, index] : ended) ended_logs_[name] = std::move(index);
}

void TrainingJobs::NoteStoredLines(const metadata::JobRecord& record, LogIndex& index) {
  std::ostringstream log;
  Status got = options_.objects->Get(JobStoreKey(record.name, "training.log"), log);
  if (!got.ok()) {
    // A job that ended before its code ran has no log.
    if (got.code() != StatusCode::kNotFound) {
      Logger("sagemaker")
          .warn("job={} training.log cannot be read: {}", record.name, got.message());
    }
    return;
  }
  const std::string text = log.str();
  index.NoteLines(static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n')),
                  EpochMilliseconds(record.ended_at.value_or(Now())));
}

LogIndex TrainingJobs::IndexOf(const metadata::JobRecord& record) {
  std::optional<LogIndex> live;
  {
    std::lock_guard lock(mutex_);
    auto watched = live_logs_.find(record.name);
    if (watched != live_logs_.end()) {
      live = watched->second;
    } else if (auto ended = ended_logs_.find(record.name); ended != ended_logs_.end()) {
      return ended->second;
    }
  }
  if (!core::IsTerminal(record.status)) return live.value_or(LogIndex());
  if (live) {
    // Ended since the watcher's last look: the lines it did not see take the job's end time,
    // as the watcher's next look will note them.
    NoteStoredLines(record, *live);
    return *live;
  }
  std::ostringstream times;
  Status got = options_.objects->Get(JobStoreKey(record.name, "log-times.json"), times);
  LogIndex index;
  if (got.ok()) {
    index = LogIndex::FromJson(json::parse(times.str(), nullptr, false));
  } else {
    // A job that ran between two looks of the watcher (or while no server ran): its lines were
    // all first seen at its end.
    if (got.code() != StatusCode::kNotFound) {
      Logger("sagemaker")
          .warn("job={} log-times.json cannot be read: {}", record.name, got.message());
    }
    NoteStoredLines(record, index);
  }
  std::lock_guard lock(mutex_);
  ended_logs_[record.name] = index;
  return index;
}

}  // namespace trainyard::server::sagemaker
