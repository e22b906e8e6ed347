// The scheduler's part in searches that suggest from results (bayesian, hyperband): a new job
// for each free slot, asked of core::SuggestNext when the slot frees. Every suggestion is a pure
// function of the seed kept in the sweep's spec and of the sweep's jobs, so a server that
// restarts suggests what it would have suggested without the restart, and so does another
// server sharing the store.
//
// Servers sharing one store (docs/scale-out.md): each search is driven by one of them, the
// holder of the search's lease in the store (MetadataStore::ClaimSearch), renewed with the jobs'
// leases and taken over by another server once it expires (KeepLeases). The driver suggests at
// its passes and ends the search. The server that records a job's end, whichever it is, makes
// the suggestion that end frees first (RecordEnd), so that the sweep never looks ended between
// two of its jobs. Every suggestion is added with a compare-and-set on the sweep's number of
// jobs (AddJobs with expected_jobs): a trial number is written once, whoever suggests it.

#include <algorithm>
#include <set>

#include "common/log.h"
#include "control/scheduler.h"
#include "control/sweep_search.h"
#include "core/job_status.h"

namespace trainyard::control {

Status Scheduler::RecoverSearches() {
  // Called by Recover, under mutex_: the searches this server drove before it stopped stay its
  // own; the others, and those of stopped servers, are taken over by KeepLeases once free.
  TY_ASSIGN_OR_RETURN(
      std::vector<std::string> held,
      metadata_.RenewSearchLeases(options_.owner_id,
                                  std::chrono::system_clock::now() + options_.lease_duration));
  searching_.insert(held.begin(), held.end());
  return Status::Ok();
}

void Scheduler::KeepSearchLeases(TimePoint now, TimePoint expires_at) {
  // Called by KeepLeases, under mutex_.
  auto renewed = metadata_.RenewSearchLeases(options_.owner_id, expires_at);
  if (!renewed.ok()) {
    // Tried again at the next check; until the lease expires the searches stay this server's.
    Logger("control").error("owner={} search leases could not be renewed: {}", options_.owner_id,
                            renewed.status().message());
    return;
  }
  const std::set<std::string> held(renewed->begin(), renewed->end());
  for (auto it = searching_.begin(); it != searching_.end();) {
    if (held.contains(*it)) {
      ++it;
      continue;
    }
    Logger("control").warn(
        "sweep={} search is no longer driven here (owner={}): its lease expired and another "
        "server took it over",
        *it, options_.owner_id);
    it = searching_.erase(it);
  }
  searching_.insert(held.begin(), held.end());
  // A draining server drives the searches it holds, and takes over no other.
  while (claiming_.load()) {
    auto taken = metadata_.TakeOverSearches(options_.owner_id, now, expires_at, 100);
    if (!taken.ok()) {
      Logger("control").error("owner={} searches whose lease expired could not be taken over: {}",
                              options_.owner_id, taken.status().message());
      return;
    }
    for (const std::string& sweep_id : *taken) {
      searching_.insert(sweep_id);
      // Most sweeps have no search to drive (a grid, a random search): the next pass ends theirs.
      auto request = RequestOf(sweep_id);
      if (request.ok() && SuggestsFromResults(request->search)) {
        Logger("control").info(
            "sweep={} search taken over by owner={}: the server that drove it stopped renewing "
            "its lease, or none did",
            sweep_id, options_.owner_id);
      }
    }
    if (taken->size() < 100) return;
  }
}

void Scheduler::EndSearchHere(const std::string& sweep_id) {
  auto ended = metadata_.EndSearch(sweep_id, options_.owner_id);
  if (!ended.ok() && ended.status().code() != StatusCode::kNotFound) {
    // Still driven here: ended at the next pass.
    Logger("control").error("sweep={} search could not be ended: {}", sweep_id,
                            ended.status().message());
    return;
  }
  searching_.erase(sweep_id);
}

void Scheduler::SuggestForSearches() {
  // Copied: a search that ends leaves searching_.
  const std::vector<std::string> sweeps(searching_.begin(), searching_.end());
  for (const std::string& sweep_id : sweeps) {
    bool done = false;
    Status suggested = SuggestForSearch(sweep_id, &done);
    if (!suggested.ok()) {
      Logger("control").error("sweep={} could not suggest its next job: {}", sweep_id,
                              suggested.message());
    }
    if (done) EndSearchHere(sweep_id);
  }
}

Status Scheduler::RecordEnd(const metadata::JobRecord& job) {
  std::unique_lock lock(mutex_);
  auto request = RequestOf(job.sweep_id);
  if (!request.ok() || !SuggestsFromResults(request->search)) {
    lock.unlock();
    return WriteState(job);
  }
  // The next job first: recorded the other way round, a search that runs one job at a time
  // would have every job ended until the next pass, and `sweep wait` or a sweep.completed
  // webhook would take that moment for its end. A kill between the two suggests nothing twice:
  // the new job is queued, so the sweep's slots are full when the end is recorded again. Made
  // by whichever server records the end, the search's driver or not: the compare-and-set on
  // the sweep's jobs writes each suggestion once.
  bool done = false;
  if (Status suggested = SuggestForSearch(job.sweep_id, &done, &job); !suggested.ok()) {
    Logger("control").error("sweep={} job={} could not suggest the next job: {}", job.sweep_id,
                            job.name, suggested.message());
  }
  // Ended by its driver; a search driven elsewhere ends at its driver's next pass.
  if (done && searching_.contains(job.sweep_id)) EndSearchHere(job.sweep_id);
  TY_RETURN_IF_ERROR(WriteState(job));
  lock.unlock();
  Wake();  // the suggested job starts at the next pass, now
  return Status::Ok();
}

Status Scheduler::SuggestForSearch(const std::string& sweep_id, bool* done,
                                   const metadata::JobRecord* ending) {
  auto sweep = metadata_.GetSweep(sweep_id);
  if (!sweep.ok()) {
    *done = sweep.status().code() == StatusCode::kNotFound;
    return sweep.status();
  }
  if (sweep->stop_requested) {
    *done = true;
    return Status::Ok();
  }
  auto request = RequestOf(sweep_id);
  if (!request.ok()) {
    // Its spec was read (GetSweep above) but cannot be parsed: it suggests nothing, ever.
    *done = true;
    return request.status().WithContext("its request cannot be read, so it suggests no more jobs");
  }
  if (!SuggestsFromResults(request->search)) {
    *done = true;  // a grid, a random search: every job was made with the sweep
    return Status::Ok();
  }
  // Another server may add the sweep's next jobs between the reads and the write: then the
  // write is refused, and the sweep read again.
  for (int attempt = 1;; ++attempt) {
    Status suggested = SuggestOnce(sweep_id, *request, done, ending);
    if (suggested.code() != StatusCode::kFailedPrecondition || attempt == 3) return suggested;
    Logger("control").info("sweep={} its next job was suggested by another server: read again",
                           sweep_id);
  }
}

Result<std::vector<metadata::JobRecord>> Scheduler::SweepJobs(const std::string& sweep_id) {
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
  return jobs;
}

Status Scheduler::SuggestOnce(const std::string& sweep_id, const SweepRequest& request, bool* done,
                              const metadata::JobRecord* ending) {
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
  int64_t active = count_of("Queued") + count_of("InProgress") + count_of("Stopping");
  if (total >= request.search.max_jobs) {
    *done = active == 0;
    return Status::Ok();
  }
  if (count_of("Queued") > 0 || active >= SearchSlots(request)) return Status::Ok();

  TY_ASSIGN_OR_RETURN(std::vector<metadata::JobRecord> jobs, SweepJobs(sweep_id));
  if (ending) {
    for (metadata::JobRecord& job : jobs) {
      if (job.name == ending->name) job = *ending;
    }
  }
  // Counted again from the jobs as read, which the compare-and-set below checks: another
  // server may have added or started some since the count.
  active = 0;
  for (const metadata::JobRecord& job : jobs) {
    if (job.queued) return Status::Ok();
    if (!core::IsTerminal(job.status)) ++active;
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
  TY_RETURN_IF_ERROR(metadata_.AddJobs(sweep_id, added, static_cast<int64_t>(jobs.size())));
  Logger("control").info("sweep={} suggested {} more job(s), the next {}", sweep_id, added.size(),
                         added.front().name);
  if (options_.on_events) options_.on_events();
  return Status::Ok();
}

}  // namespace trainyard::control
