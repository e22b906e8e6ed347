// BufferedProgressStore: the reports in memory and their writer. The methods that are the
// store's own are in buffered_progress_forwarding.cc.
#include "metadata/buffered_progress_store.h"

#include <algorithm>
#include <utility>

#include "common/log.h"

namespace trainyard::metadata {
namespace {

// The waits between two tries of a write that failed: doubling from the first to the last.
constexpr std::chrono::milliseconds kMinRetryDelay(10);
constexpr std::chrono::milliseconds kMaxRetryDelay(1000);

// A report that brings nothing but a progress snapshot: the next such report of the job
// supersedes it.
bool ProgressOnly(const ProgressUpdate& update) {
  return update.progress && update.metrics.empty() && update.log.empty();
}

// A failure that the same write may not meet again (the database was busy, down, or full).
bool WorthRetrying(const Status& status) {
  return status.code() != StatusCode::kNotFound && status.code() != StatusCode::kInvalidArgument;
}

}  // namespace

void LogUnstoredProgress(const std::string& logger, const std::string& job_name,
                         const ProgressUpdate& update, const ProgressRecorded& recorded) {
  if (recorded.repeated) {
    Logger(logger).info("job={} progress sequence={} was already recorded: nothing stored",
                        job_name, update.sequence);
  }
  if (recorded.dropped_metric_points > 0) {
    Logger(logger).warn(
        "job={} dropped {} metric points: the job has reached the limit of {} metric names",
        job_name, recorded.dropped_metric_points, update.max_metric_names);
  }
}

BufferedProgressStore::BufferedProgressStore(MetadataStorePtr store,
                                             BufferedProgressOptions options)
    : store_(std::move(store)), options_(std::move(options)) {
  writer_ = std::thread([this] { WriterLoop(); });
}

BufferedProgressStore::~BufferedProgressStore() {
  Stop();
}

void BufferedProgressStore::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (!WriteAll()) {
    // A clean stop must not lose what was acknowledged: the store gets a last chance.
    if (!WriteAll()) {
      std::lock_guard lock(mutex_);
      Logger("metadata")
          .error("{} progress reports of {} jobs could not be written before the stop and are lost",
                 pending_updates_, pending_.size());
      pending_.clear();
      pending_updates_ = 0;
    }
  }
  bool announce;
  {
    std::lock_guard lock(mutex_);
    announce = std::exchange(unannounced_, false);
  }
  if (announce && options_.on_written) options_.on_written();
}

Result<ProgressTaken> BufferedProgressStore::RecordProgressBehind(const std::string& job_name,
                                                                  const ProgressUpdate& update,
                                                                  bool last_report) {
  // Only a progress snapshot is answered before it is stored: the job's next report
  // supersedes it, so a crash loses no more than a snapshot. Metric points, log lines and the
  // last report are stored before the answer, as the store behind would store them.
  if (!last_report && ProgressOnly(update)) {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      std::vector<ProgressUpdate>& updates = pending_[job_name];
      ProgressTaken taken{.buffered = true};
      if (!updates.empty() && (updates.back().sequence == 0) == (update.sequence == 0)) {
        // The store would skip a numbered repeat, or write the newer snapshot over this one.
        if (update.sequence != 0 && update.sequence <= updates.back().sequence) {
          taken.buffered = false;
          taken.recorded.repeated = true;
        } else {
          updates.back() = update;
        }
        return taken;
      }
      if (pending_updates_ >= options_.max_pending_updates) {
        if (updates.empty()) pending_.erase(job_name);
        return Unavailable("the metadata store is not keeping up with progress reports (" +
                           std::to_string(pending_updates_) + " waiting): try again later");
      }
      updates.push_back(update);
      if (++pending_updates_ == 1) wake_.notify_one();
      return taken;
    }
  }
  TY_ASSIGN_OR_RETURN(ProgressRecorded recorded, RecordProgress(job_name, update));
  return ProgressTaken{.buffered = false, .recorded = std::move(recorded)};
}

Result<ProgressRecorded> BufferedProgressStore::RecordProgress(const std::string& job_name,
                                                               const ProgressUpdate& update) {
  // The job's earlier reports first, then this one.
  std::lock_guard write_lock(write_mutex_);
  std::vector<ProgressUpdate> earlier;
  {
    std::lock_guard lock(mutex_);
    if (auto it = pending_.find(job_name); it != pending_.end()) {
      earlier = std::move(it->second);
      pending_updates_ -= earlier.size();
      pending_.erase(it);
    }
  }
  if (!WriteUpdates(job_name, earlier)) {
    return Unavailable("the job's earlier progress reports could not be written yet");
  }
  return store_->RecordProgress(job_name, update);
}

Result<JobCallbackCheck> BufferedProgressStore::GetJobCallbackCheck(
    const std::string& job_name, const std::string& presented_sha256) {
  uint64_t generation;
  {
    std::lock_guard lock(mutex_);
    auto it = checks_.find(job_name);
    if (it != checks_.end() && Clock::now() < it->second.expires &&
        it->second.check.token_sha256 == presented_sha256) {
      return it->second.check;
    }
    generation = forget_generation_;
  }
  TY_ASSIGN_OR_RETURN(JobRecord job, store_->GetJob(job_name));
  JobCallbackCheck check = JobCallbackCheck::Of(job);
  // Only a running job is remembered: one that starts or runs again is read at once.
  std::lock_guard lock(mutex_);
  if (check.running() && generation == forget_generation_) {
    checks_[job_name] = {check, Clock::now() + options_.callback_check_ttl};
  } else {
    checks_.erase(job_name);
  }
  return check;
}

void BufferedProgressStore::Forget(const std::string& job_name) {
  std::lock_guard lock(mutex_);
  checks_.erase(job_name);
  ++forget_generation_;
}

void BufferedProgressStore::WriterLoop() {
  // The first report after a quiet spell goes at once.
  Clock::time_point last_round = Clock::time_point::min();
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || pending_updates_ > 0 || unannounced_; });
    if (stopping_) return;
    // After failures, back off: the database will not come back sooner for being asked.
    std::chrono::milliseconds delay = options_.flush_interval;
    if (failed_rounds_ > 0) {
      delay = std::max(delay, kMinRetryDelay);
      for (int i = 1; i < failed_rounds_ && delay < kMaxRetryDelay; ++i) delay *= 2;
      delay = std::min(delay, std::max(kMaxRetryDelay, options_.flush_interval));
    }
    if (wake_.wait_until(lock, last_round + delay, [this] { return stopping_; })) return;
    last_round = Clock::now();
    lock.unlock();
    const bool written = WriteAll();
    lock.lock();
    failed_rounds_ = written ? 0 : failed_rounds_ + 1;
    if (std::exchange(unannounced_, false) && options_.on_written) {
      lock.unlock();
      options_.on_written();
      lock.lock();
    }
  }
}

bool BufferedProgressStore::WriteAll() {
  std::lock_guard write_lock(write_mutex_);
  std::unordered_map<std::string, std::vector<ProgressUpdate>> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(pending_);
    pending_updates_ = 0;
  }
  bool all_written = true;
  for (auto& [job_name, updates] : batch) {
    if (!WriteUpdates(job_name, updates)) all_written = false;
  }
  return all_written;
}

void BufferedProgressStore::WriteJob(const std::string& job_name) {
  std::lock_guard write_lock(write_mutex_);
  std::vector<ProgressUpdate> updates;
  {
    std::lock_guard lock(mutex_);
    auto it = pending_.find(job_name);
    if (it == pending_.end()) return;
    updates = std::move(it->second);
    pending_updates_ -= updates.size();
    pending_.erase(it);
  }
  // What cannot be written now stays in memory for the writer: the read goes on without it.
  WriteUpdates(job_name, updates);
  // The writer's next round announces what was written here.
  wake_.notify_one();
}

bool BufferedProgressStore::WriteUpdates(const std::string& job_name,
                                         std::vector<ProgressUpdate>& updates) {
  for (size_t i = 0; i < updates.size(); ++i) {
    Result<ProgressRecorded> recorded = store_->RecordProgress(job_name, updates[i]);
    if (recorded.ok()) {
      LogUnstoredProgress("metadata", job_name, updates[i], *recorded);
      if (!recorded->repeated) {
        std::lock_guard lock(mutex_);
        unannounced_ = true;
      }
      continue;
    }
    if (!WorthRetrying(recorded.status())) {
      Logger("metadata")
          .error("job={} progress report sequence={} dropped: {}", job_name, updates[i].sequence,
                 recorded.status().message());
      continue;
    }
    // This report and the later ones go back in front of any that came meanwhile.
    std::lock_guard lock(mutex_);
    if (failed_rounds_ == 0) {
      Logger("metadata")
          .warn("job={} progress reports not written yet, tried again: {}", job_name,
                recorded.status().message());
    }
    std::vector<ProgressUpdate>& pending = pending_[job_name];
    pending.insert(pending.begin(), std::make_move_iterator(updates.begin() + i),
                   std::make_move_iterator(updates.end()));
    pending_updates_ += updates.size() - i;
    return false;
  }
  return true;
}

// --- reads and writes of a job: its reports in memory first ---

Result<JobRecord> BufferedProgressStore::GetJob(const std::string& name) {
  WriteJob(name);
  return store_->GetJob(name);
}

Result<JobPage> BufferedProgressStore::ListJobs(const JobFilter& filter) {
  bool pending;
  {
    std::lock_guard lock(mutex_);
    pending = pending_updates_ > 0;
  }
  // A queued job has reported nothing (the scheduler's claims list the queue at every pass).
  if (filter.status == "Queued") pending = false;
  if (pending) {
    WriteAll();
    wake_.notify_one();
  }
  return store_->ListJobs(filter);
}

Result<std::vector<Event>> BufferedProgressStore::UpdateJobState(const JobRecord& job,
                                                                 const std::vector<Event>& events) {
  WriteJob(job.name);
  auto appended = store_->UpdateJobState(job, events);
  Forget(job.name);
  return appended;
}

Result<ClaimResult> BufferedProgressStore::ClaimJob(const JobRecord& job,
                                                    const std::vector<Event>& events,
                                                    const ClaimLimits& limits) {
  WriteJob(job.name);
  auto claimed = store_->ClaimJob(job, events, limits);
  Forget(job.name);
  return claimed;
}

Result<std::vector<MetricPoint>> BufferedProgressStore::ListMetricPoints(
    const std::string& job_name, const std::string& metric_name) {
  WriteJob(job_name);
  return store_->ListMetricPoints(job_name, metric_name);
}

Result<std::vector<LogLine>> BufferedProgressStore::ListLogLines(const std::string& job_name,
                                                                 int64_t after_id, size_t limit) {
  WriteJob(job_name);
  return store_->ListLogLines(job_name, after_id, limit);
}

}  // namespace trainyard::metadata
