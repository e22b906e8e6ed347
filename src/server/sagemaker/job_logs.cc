// When each line of a training job's log was first seen: training.log has no timestamps, so a
// watcher looks at the live log of every running job that this server runs each poll_interval
// (LogIndex: a few checkpoints per job), and once the job has ended keeps the notes beside its
// stored log as log-times.json. Lines it never saw (written after its last look, or while no
// server ran) take the job's end time. The notes of a running job live in memory only: after a
// restart its earlier lines take the time of the restart's first look.
//
// The watcher also records each new line in the store with the time it first saw it, so that
// another server sharing the store serves a running job's log (and, from the same lines, its
// times once it has ended, before its log-times.json is stored). A restarted watcher counts the
// lines the store holds and records only those after them.
#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>

#include "common/log.h"
#include "server/sagemaker/training_jobs.h"

namespace trainyard::server::sagemaker {
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// At most this much of a live log is read at one look; the rest waits for the next.
constexpr uint64_t kMaxReadPerLook = 4 << 20;
// Log lines per store call.
constexpr size_t kLinesPerRecord = 1000;

// What `file` holds from byte `offset` up to its last complete line (at most kMaxReadPerLook
// bytes of it): "" when the file is missing, shorter than `offset` or holds no new full line.
std::string ReadCompleteLines(const fs::path& file, uint64_t offset) {
  std::error_code error;
  uintmax_t size = fs::file_size(file, error);
  if (error || size <= offset) return "";
  std::ifstream in(file, std::ios::binary);
  if (!in) return "";
  in.seekg(static_cast<std::streamoff>(offset));
  std::string chunk(static_cast<size_t>(std::min<uint64_t>(size - offset, kMaxReadPerLook)), '\0');
  in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
  chunk.resize(static_cast<size_t>(in.gcount()));
  size_t last_newline = chunk.rfind('\n');
  chunk.resize(last_newline == std::string::npos ? 0 : last_newline + 1);
  return chunk;
}

}  // namespace

bool TrainingJobs::RunsHere(const metadata::JobRecord& record) const {
  return record.owner.empty() || record.owner == options_.owner_id;
}

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
    for (metadata::JobRecord& record : page->jobs) {
      // A queued job has no log yet, and another server's jobs are that server's to watch:
      // their logs are on its disk.
      if (!record.queued && RunsHere(record)) running[record.name] = std::move(record);
    }
  }
  std::map<std::string, LogIndex> seen;
  {
    std::lock_guard lock(mutex_);
    seen = live_logs_;
  }
  for (const auto& [name, record] : running) {
    LogIndex& index = seen[name];
    index.Observe(LiveLogFile(record), now_ms);
    StoreNewLines(record, now_ms);
  }
  for (auto it = stored_lines_.begin(); it != stored_lines_.end();) {
    it = running.count(it->first) ? std::next(it) : stored_lines_.erase(it);
  }
  // The jobs that ended since the last look: their notes go beside their stored log.
  std::map<std::string, LogIndex> ended;
  for (auto it = seen.begin(); it != seen.end();) {
    if (running.count(it->first)) {
      ++it;
      continue;
    }
    auto record = options_.metadata->GetJob(it->first);
    if (record.ok() && !RunsHere(*record)) {
      // Taken over by another server (this one's lease ran out): its notes are that server's.
      it = seen.erase(it);
      continue;
    }
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
  if (!core::IsTerminal(record.status)) {
    if (live || RunsHere(record)) return live.value_or(LogIndex());
    // Another server runs it: the times it recorded with the lines.
    auto stored = StoredLogOf(record.name);
    if (!stored.ok()) {
      Logger("sagemaker")
          .warn("job={} log lines cannot be read: {}", record.name, stored.status().message());
      return LogIndex();
    }
    return std::move(stored->index);
  }
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
    // Not stored yet (the server that ran the job stores it at its watcher's next look), or a
    // job that ran between two looks of the watcher (or while no server ran): the lines that
    // server recorded as it saw them, and the others as first seen at the job's end.
    if (got.code() != StatusCode::kNotFound) {
      Logger("sagemaker")
          .warn("job={} log-times.json cannot be read: {}", record.name, got.message());
    }
    auto stored = StoredLogOf(record.name);
    if (stored.ok()) {
      index = std::move(stored->index);
    } else {
      Logger("sagemaker")
          .warn("job={} log lines cannot be read: {}", record.name, stored.status().message());
    }
    NoteStoredLines(record, index);
  }
  std::lock_guard lock(mutex_);
  ended_logs_[record.name] = index;
  return index;
}

void TrainingJobs::StoreNewLines(const metadata::JobRecord& record, int64_t now_ms) {
  StoredLines& stored = stored_lines_[record.name];
  uint64_t to_skip = 0;
  if (!stored.located) {
    // First look since this server started: the store may hold the lines an earlier run of it
    // recorded. Ids are 1..N: N is found by asking whether a line follows a given id.
    auto follows = [&](uint64_t id) -> Result<bool> {
      TY_ASSIGN_OR_RETURN(
          auto lines, options_.metadata->ListLogLines(record.name, static_cast<int64_t>(id), 1));
      return !lines.empty();
    };
    uint64_t high = 0;
    for (Result<bool> more = follows(high); !more.ok() || *more; more = follows(high)) {
      if (!more.ok()) {
        Logger("sagemaker")
            .warn("job={} log lines cannot be counted: {}", record.name, more.status().message());
        return;
      }
      high = high == 0 ? 1024 : high * 2;
    }
    uint64_t low = 0;  // the count is the least id after which no line follows, in [low, high]
    while (low < high) {
      uint64_t middle = low + (high - low) / 2;
      Result<bool> more = follows(middle);
      if (!more.ok()) {
        Logger("sagemaker")
            .warn("job={} log lines cannot be counted: {}", record.name, more.status().message());
        return;
      }
      if (*more) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    stored = {low, 0, true};
    to_skip = low;
  }
  const std::string text = ReadCompleteLines(LiveLogFile(record), stored.offset);
  std::vector<metadata::LogLine> lines;
  std::vector<uint64_t> ends;  // the offset after each of `lines`
  uint64_t offset = stored.offset;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);  // the text ends with one
    offset += end + 1 - start;
    if (to_skip > 0) {
      --to_skip;
      stored.offset = offset;  // recorded by this server's earlier run
    } else {
      lines.push_back({0, "stdout", options_.secret_mask.Apply(text.substr(start, end - start)),
                       TimePoint(std::chrono::milliseconds(now_ms))});
      ends.push_back(offset);
    }
    start = end + 1;
  }
  for (size_t first = 0; first < lines.size(); first += kLinesPerRecord) {
    const size_t count = std::min(kLinesPerRecord, lines.size() - first);
    metadata::ProgressUpdate update;
    update.log.assign(lines.begin() + static_cast<std::ptrdiff_t>(first),
                      lines.begin() + static_cast<std::ptrdiff_t>(first + count));
    auto recorded = options_.metadata->RecordProgress(record.name, update);
    if (!recorded.ok()) {
      // Tried again from the same place at the next look.
      Logger("sagemaker")
          .warn("job={} log lines not recorded: {}", record.name, recorded.status().message());
      return;
    }
    stored.lines += count;
    stored.offset = ends[first + count - 1];
  }
}

Result<TrainingJobs::StoredLog> TrainingJobs::StoredLogOf(const std::string& job) {
  StoredLog log;
  int64_t after = 0;
  while (true) {
    TY_ASSIGN_OR_RETURN(std::vector<metadata::LogLine> lines,
                        options_.metadata->ListLogLines(job, after, kLinesPerRecord));
    for (const metadata::LogLine& line : lines) {
      log.text += line.line;
      log.text += '\n';
      log.index.NoteLines(static_cast<uint64_t>(line.id), EpochMilliseconds(line.timestamp));
      after = line.id;
    }
    if (lines.size() < kLinesPerRecord) return log;
  }
}

}  // namespace trainyard::server::sagemaker
