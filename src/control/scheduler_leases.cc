// The scheduler's leases, for servers sharing one metadata store: each renews the leases of the
// jobs it runs and the searches it drives, and takes over those of a server that stopped
// renewing (scheduler.h).
#include <filesystem>
#include <set>

#include "common/log.h"
#include "control/scheduler.h"
#include "control/scheduler_internal.h"

namespace trainyard::control {

namespace fs = std::filesystem;
using metadata::JobRecord;

namespace {

// Whether the job's code may have started: its owner let this attempt launch (RecordLaunch, in
// the same store as the takeover, so that of the two exactly one came first).
bool CodeMayHaveRun(const JobRecord& job) {
  return job.launched_attempt == job.attempt;
}

}  // namespace

void Scheduler::KeepLeases() {
  // Called by Pass, under mutex_.
  const auto now_steady = std::chrono::steady_clock::now();
  if (now_steady < next_lease_check_) return;
  next_lease_check_ = now_steady + options_.lease_duration / 3;
  const TimePoint now = std::chrono::system_clock::now();
  const TimePoint expires_at = now + options_.lease_duration;
  auto renewed = metadata_.RenewLeases(options_.owner_id, expires_at);
  if (!renewed.ok()) {
    // Tried again at the next check; until the lease expires the jobs stay this server's.
    Logger("control").error("owner={} leases could not be renewed: {}", options_.owner_id,
                            renewed.status().message());
  } else {
    const std::set<std::string> held(renewed->begin(), renewed->end());
    for (auto it = running_.begin(); it != running_.end();) {
      if (held.count(it->first)) {
        ++it;
        continue;
      }
      Logger("control").warn(
          "job={} is no longer this server's (owner={}): its lease expired and another server "
          "took it over, or its end was recorded elsewhere; no longer followed here",
          it->first, options_.owner_id);
      it = running_.erase(it);
    }
  }
  KeepSearchLeases(now, expires_at);
  // A draining server takes on no new work, not even another server's jobs.
  while (claiming_.load()) {
    auto taken = metadata_.TakeOverJobs(options_.owner_id, now, expires_at, 100);
    if (!taken.ok()) {
      Logger("control").error("owner={} expired leases could not be taken over: {}",
                              options_.owner_id, taken.status().message());
      return;
    }
    for (JobRecord& job : *taken) {
      // Followed here already (recovered at the start with no owner recorded): now leased too.
      if (running_.count(job.name) || finishing_.count(job.name)) continue;
      const std::string name = job.name;
      if (Status took = TakeOver(std::move(job)); !took.ok()) {
        Logger("control").error("job={} taken over, but could not be settled: {}", name,
                                took.message());
      }
    }
    if (taken->size() < 100) return;
  }
}

Status Scheduler::TakeOver(JobRecord job) {
  Logger("control").warn(
      "job={} taken over by owner={}: the server that ran it stopped renewing its lease", job.name,
      options_.owner_id);
  auto executor = executors_.find(job.executor);
  if (executor == executors_.end()) {
    const std::string message =
        "InternalServerError: the server that ran the job stopped, and its executor '" +
        job.executor + "' is not configured on the server that took it over";
    return EndWithoutRunning(std::move(job), core::SecondaryStatus::kFailed, message);
  }
  if (executor->second->ReachableFromAnyServer()) {
    Running& running = running_[job.name];
    running = {executor->second, job.sweep_id, job.transitions.size(), /*adopted=*/false};
    if (!AdoptTakenOver(job.name, running) || running.adopted) return Status::Ok();
    running_.erase(job.name);  // ended, or queued again
    return Status::Ok();
  }
  // This server's own executor may know it: the same data dir under another owner id (a new
  // host name, a store moved from another installation). Then it is followed here as before.
  if (auto known = executor->second->Describe(job.executor_job_name); known.ok()) {
    running_[job.name] = {executor->second, job.sweep_id, job.transitions.size()};
    Logger("control").info("job={} taken over: its executor here knows it", job.name);
    return Status::Ok();
  }
  // Its executor lived on the stopped server's machine, and so did the job's code.
  if (!CodeMayHaveRun(job) && job.status != core::JobStatus::kStopping) {
    job.attempt += 1;
    job.executor_job_name = AttemptName(job.name, job.attempt);
    ResetForQueue(job, "Queued again: the server that started it stopped before its code ran");
    return WriteState(job, "queued again: the server that started it stopped before its code ran");
  }
  if (job.status == core::JobStatus::kStopping) {
    return EndWithoutRunning(std::move(job), core::SecondaryStatus::kStopped,
                             "Stopped: the server that ran the job stopped");
  }
  const std::string message =
      "InternalServerError: the trainyard server that ran the job stopped renewing its lease, "
      "and its " +
      job.executor +
      " executor cannot be reached from another server; retry the sweep's failed jobs to run it "
      "again";
  return EndWithoutRunning(std::move(job), core::SecondaryStatus::kFailed, message);
}

bool Scheduler::AdoptTakenOver(const std::string& job_name, Running& running) {
  auto job = metadata_.GetJob(job_name);
  if (!job.ok()) {
    Logger("control").error("job={} taken over, but cannot be read: {}", job_name,
                            job.status().message());
    return false;
  }
  if (core::IsTerminal(job->status)) return true;  // ended meanwhile: nothing to follow
  const fs::path artifacts = ArtifactDir(job->executor, job->executor_job_name);
  Status adopted = running.executor->Adopt(job->executor_job_name, artifacts);
  if (adopted.ok()) {
    auto description = running.executor->Describe(job->executor_job_name);
    std::error_code error;
    // Outputs packed where every server reads them (SharedArtifactDir) are stored from here.
    const bool shared = !running.executor->SharedArtifactDir(job->executor_job_name).empty();
    if (!shared && description.ok() && core::IsTerminal(description->status.status()) &&
        !fs::exists(artifacts, error)) {
      // Its code ended while the stopped server followed it, which packed its outputs on its
      // own machine: they cannot be stored from here.
      Status ended = EndWithoutRunning(
          std::move(job).value(), core::SecondaryStatus::kFailed,
          "InternalServerError: the job's code ended, but the trainyard server that ran it "
          "stopped before storing its outputs, which it had packed on its own machine; retry "
          "the sweep's failed jobs to run it again");
      if (!ended.ok()) {
        Logger("control").error("job={} its end could not be recorded: {}", job_name,
                                ended.message());
        return false;
      }
      return true;
    }
    running.adopted = true;
    Logger("control").info("job={} taken over: followed by owner={}", job_name, options_.owner_id);
    return true;
  }
  if (adopted.code() == StatusCode::kNotFound) {
    // Its executor never launched it (or fenced the launch off): it runs here, once.
    Status queued = RequeueUnstarted(std::move(job).value());
    if (!queued.ok()) {
      Logger("control").error("job={} could not be queued again: {}", job_name, queued.message());
      return false;
    }
    return true;
  }
  Logger("control").warn("job={} taken over, but its executor cannot follow it yet: {}", job_name,
                         adopted.message());
  return false;
}

}  // namespace trainyard::control
