// Persistence: a job's DescribeTrainingJob document is its state. It is rewritten after every
// change (creation, each status change, the end), so that a server killed at any moment
// loses nothing but the follower's in-memory notes (metric values and log line times of jobs
// still running, which the next follower sees again). A write that fails is retried by the
// follower until it succeeds.
#include <algorithm>
#include <sstream>

#include "server/sagemaker/training_jobs.h"

namespace trainyard::server::sagemaker {
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
  // Followed again when the executor still knows it (a detached local job), else ended.
  std::vector<std::string> orphans;
  for (auto& entry : loaded) {
    if (core::IsTerminal(entry->job.status.status())) continue;
    if (options_.executor->Describe(entry->job.name).ok()) {
      entry->submitted = true;
    } else {
      orphans.push_back(entry->job.name);
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
  for (const std::string& name : orphans) {
    EndWithoutExecutor(name,
                       "InternalServerError: the trainyard server was restarted while this "
                       "training job ran, and its executor no longer knows the job");
  }
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
