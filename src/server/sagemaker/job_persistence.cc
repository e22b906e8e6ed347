// Persistence: a job's DescribeTrainingJob document is its state. It is rewritten after every
// change (creation, each status change, the end), so that a server killed at any moment
// loses nothing but the follower's in-memory notes (metric values and log line times of jobs
// still running, which the next follower sees again). A write that fails is retried by the
// follower until it succeeds.
#include <algorithm>
#include <sstream>

#include "common/log.h"
#include "server/sagemaker/training_jobs.h"

namespace trainyard::server::sagemaker {
using core::SecondaryStatus;
using nlohmann::json;

void TrainingJobs::Persist(const std::string& name) {
  std::lock_guard persist_lock(persist_mutex_);
  std::string document;
  {
    std::lock_guard lock(mutex_);
    Entry& entry = *jobs_.at(name);
    document = DescribeDocument(entry.job, arn_context())
                   .dump(2, ' ', false, json::error_handler_t::replace);
  }
  std::istringstream source(document);
  auto put = options_.objects->Put(JobStoreKey(name, "description.json"), source, document.size(),
                                   {.content_type = "application/json"});
  std::lock_guard lock(mutex_);
  jobs_.at(name)->dirty = !put.ok();
}

Result<std::unique_ptr<TrainingJobs::Entry>> TrainingJobs::Load(const std::string& key) {
  std::ostringstream sink;
  TY_RETURN_IF_ERROR(options_.objects->Get(key, sink));
  json document = json::parse(sink.str(), nullptr, false);
  TY_ASSIGN_OR_RETURN(TrainingJob job, TrainingJobFromDocument(document));
  auto entry = std::make_unique<Entry>();
  entry->job = std::move(job);
  if (core::IsTerminal(entry->job.status.status())) {
    std::ostringstream times;
    if (options_.objects->Get(JobStoreKey(entry->job.name, "log-times.json"), times).ok()) {
      entry->log = LogIndex::FromJson(json::parse(times.str(), nullptr, false));
    }
  }
  return entry;
}

Status TrainingJobs::Start() {
  if (started_) return Status::Ok();
  std::vector<std::unique_ptr<Entry>> loaded;
  std::string after;
  while (true) {
    auto page = options_.objects->List(kJobsPrefix, after);
    if (!page.ok()) return page.status().WithContext("loading the SageMaker training jobs");
    for (const storage::ObjectInfo& info : page->objects) {
      const std::string suffix = "/description.json";
      if (info.key.size() <= suffix.size() ||
          info.key.compare(info.key.size() - suffix.size(), suffix.size(), suffix) != 0) {
        continue;
      }
      // An unreadable document is skipped: one bad job must not keep the endpoint down.
      auto entry = Load(info.key);
      if (entry.ok()) loaded.push_back(std::move(entry).value());
    }
    if (!page->truncated || page->objects.empty()) break;
    after = page->objects.back().key;
  }
  std::sort(loaded.begin(), loaded.end(), [](const auto& a, const auto& b) {
    return a->job.status.creation_time() < b->job.status.creation_time();
  });
  // Each job that had not ended carries on from where it stood (sagemaker_api.h: Start).
  const bool executor_remembers = options_.executor->RemembersJobsAcrossRestarts();
  std::vector<std::string> orphans, unstarted, ended;
  for (auto& entry : loaded) {
    const std::string& name = entry->job.name;
    if (core::IsTerminal(entry->job.status.status())) {
      ended.push_back(name);
      continue;
    }
    auto known = options_.executor->Describe(name);
    if (known.ok() || known.status().code() != StatusCode::kNotFound) {
      // Known, or not answering yet: the follower asks again at every poll.
      if (!known.ok()) {
        Logger("sagemaker")
            .warn("job={} executor={} not described at start, asked again: {}", name,
                  options_.executor->name(), known.status().ToString());
      }
      entry->submitted = true;
    } else if (executor_remembers) {
      // A stop asked for before the kill: the job ends Stopped without being staged.
      entry->cancel_staging = entry->job.status.secondary_status() == SecondaryStatus::kStopping;
      unstarted.push_back(name);
    } else {
      orphans.push_back(name);
    }
  }
  {
    std::lock_guard lock(mutex_);
    for (auto& entry : loaded) {
      entry->order = next_order_++;
      std::string name = entry->job.name;
      jobs_[name] = std::move(entry);
    }
    stopping_ = false;
  }
  // Killed between an ended job's last record and the removal of its files.
  for (const std::string& name : ended) Cleanup(name);
  for (const std::string& name : orphans) {
    EndWithoutExecutor(name,
                       "InternalServerError: the trainyard server was restarted while this "
                       "training job ran, and its executor no longer knows the job");
  }
  for (const std::string& name : unstarted) StartStaging(name);
  started_ = true;
  follower_ = std::thread([this] { FollowLoop(); });
  return Status::Ok();
}

void TrainingJobs::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    for (auto& [name, entry] : jobs_) {
      if (!entry->submitted) entry->cancel_staging = true;
    }
  }
  wake_.notify_all();
  if (follower_.joinable()) follower_.join();
  std::map<std::string, std::thread> staging;
  {
    std::lock_guard lock(threads_mutex_);
    staging.swap(staging_threads_);
    finished_staging_.clear();
  }
  for (auto& [name, thread] : staging) thread.join();
}

}  // namespace trainyard::server::sagemaker
