// The scheduler's part in searches that suggest from results (bayesian, hyperband): a new job
// for each free slot, asked of core::SuggestNext when the slot frees. Every suggestion is a pure
// function of the seed kept in the sweep's spec and of the sweep's jobs, so a server that
// restarts suggests what it would have suggested without the restart.
#include <algorithm>

#include "common/log.h"
#include "control/scheduler.h"
#include "control/sweep_search.h"

namespace trainyard::control {

Status Scheduler::RecoverSearches() {
  // Called by Recover, under mutex_.
  TY_ASSIGN_OR_RETURN(std::vector<metadata::SweepRecord> sweeps, metadata_.ListSweeps());
  for (const metadata::SweepRecord& sweep : sweeps) {
    if (sweep.stop_requested) continue;
    const auto& strategy = sweep.spec.find("strategy");
    if (strategy == sweep.spec.end() || !strategy->is_string()) continue;
    auto request = RequestOf(sweep.id);
    if (!request.ok()) {
      Logger("control").error("sweep={} suggests no more jobs: its request cannot be read: {}",
                              sweep.id, request.status().message());
      continue;
    }
    if (SuggestsFromResults(request->search)) searching_.insert(sweep.id);
  }
  return Status::Ok();
}

void Scheduler::SuggestForSearches() {
  for (auto it = searching_.begin(); it != searching_.end();) {
    bool done = false;
    Status suggested = SuggestForSearch(*it, &done);
    if (!suggested.ok()) {
      Logger("control").error("sweep={} could not suggest its next job: {}", *it,
                              suggested.message());
    }
    it = done ? searching_.erase(it) : std::next(it);
  }
}

Status Scheduler::RecordEnd(const metadata::JobRecord& job) {
  std::unique_lock lock(mutex_);
  if (!searching_.contains(job.sweep_id)) {
    lock.unlock();
    return WriteState(job);
  }
  // The next job first: recorded the other way round, a search that runs one job at a time
  // would have every job ended until the next pass, and `sweep wait` or a sweep.completed
  // webhook would take that moment for its end. A kill between the two suggests nothing twice:
  // the new job is queued, so the sweep's slots are full when the end is recorded again.
  bool done = false;
  if (Status suggested = SuggestForSearch(job.sweep_id, &done, &job); !suggested.ok()) {
    Logger("control").error("sweep={} job={} could not suggest the next job: {}", job.sweep_id,
                            job.name, suggested.message());
  }
  if (done) searching_.erase(job.sweep_id);
  TY_RETURN_IF_ERROR(WriteState(job));
  lock.unlock();
  Wake();  // the suggested job starts at the next pass, now
  return Status::Ok();
}

Status Scheduler::SuggestForSearch(const std::string& sweep_id, bool* done,
                                   const metadata::JobRecord* ending) {
  TY_ASSIGN_OR_RETURN(metadata::SweepRecord sweep, metadata_.GetSweep(sweep_id));
  if (sweep.stop_requested) {
    *done = true;
    return Status::Ok();
  }
  TY_ASSIGN_OR_RETURN(SweepRequest request, RequestOf(sweep_id));
  // Counted first: most passes find the search's slots full, or a job still queued.
  TY_ASSIGN_OR_RETURN(auto counts, metadata_.CountJobsByStatus(sweep_id));
  if (ending) {
    TY_ASSIGN_OR_RETURN(metadata::JobRecord stored, metadata_.GetJob(ending->name));
    counts[core::ToString(stored.status)]--;
    counts[core::ToString(ending->status)]++;
  }
  int64_t total = 0;
  for (const auto& [status, count] : counts) total += count;
  const auto count_of = [&](const char* status) {
    auto found = counts.find(status);
    return found == counts.end() ? int64_t{0} : found->second;
  };
  const int64_t active = count_of("Queued") + count_of("InProgress") + count_of("Stopping");
  if (total >= request.search.max_jobs) {
    *done = active == 0;
    return Status::Ok();
  }
  if (count_of("Queued") > 0 || active >= SearchSlots(request)) return Status::Ok();

  std::vector<metadata::JobRecord> jobs;
  metadata::JobFilter filter;
  filter.sweep_id = sweep_id;
  filter.limit = 1000;
  while (true) {
    TY_ASSIGN_OR_RETURN(metadata::JobPage page, metadata_.ListJobs(filter));
    jobs.insert(jobs.end(), page.jobs.begin(), page.jobs.end());
    if (!page.truncated || page.jobs.empty()) break;
    filter.after_queue_position = page.jobs.back().queue_position;
  }
  std::sort(
      jobs.begin(), jobs.end(),
      [](const metadata::JobRecord& a, const metadata::JobRecord& b) { return a.index < b.index; });
  if (ending) {
    for (metadata::JobRecord& job : jobs) {
      if (job.name == ending->name) job = *ending;
    }
  }
  std::vector<core::Trial> trials = TrialsOf(jobs, request.objective);
  std::vector<metadata::JobRecord> added;
  for (int64_t slots = SearchSlots(request) - active; slots > 0; --slots) {
    TY_ASSIGN_OR_RETURN(std::optional<core::Suggestion> suggestion, SuggestAfter(request, trials));
    if (!suggestion) break;
    trials.push_back({suggestion->hyperparameters, std::nullopt, false});
    added.push_back(NewQueuedJob(
        request, sweep_id, trials.size() - 1, static_cast<size_t>(request.search.max_jobs),
        std::move(suggestion->hyperparameters), std::chrono::system_clock::now()));
  }
  if (added.empty()) {
    *done = active == 0;  // nothing more to suggest: the search ends with its last job
    return Status::Ok();
  }
  TY_RETURN_IF_ERROR(metadata_.AddJobs(sweep_id, added));
  Logger("control").info("sweep={} suggested {} more job(s), the next {}", sweep_id, added.size(),
                         added.front().name);
  if (options_.on_events) options_.on_events();
  return Status::Ok();
}

}  // namespace trainyard::control
