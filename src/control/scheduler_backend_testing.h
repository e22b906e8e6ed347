// A backend for the tests of schedulers sharing one metadata store (scheduler_leases_test.cc,
// scheduler_search_replicas_test.cc): jobs that outlive the executor objects that follow them,
// as on Slurm or SageMaker, or that only their own server's executor knows, as on a local one.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/files.h"
#include "core/job_status.h"
#include "executor/executor.h"

namespace trainyard::control::shared_backend {

namespace fs = std::filesystem;
using core::SecondaryStatus;

inline TimePoint Now() {
  return std::chrono::system_clock::now();
}

// Where jobs run, as a backend every server reaches (Slurm, SageMaker): its jobs outlive the
// executor objects that follow them.
struct Backend {
  struct Job {
    executor::JobSpec spec;
    core::JobStatusTracker tracker{Now()};
    std::optional<int> exit_code;
    int submissions = 0;
    std::map<std::string, double> metrics;  // as the job reported them, through its executor
  };
  std::mutex mutex;
  std::map<std::string, Job> jobs;
  // Every name ever submitted, with how often (a job must run once).
  std::map<std::string, int> submitted;
  // Every name whose code started (Launch), with how often.
  std::map<std::string, int> launched;
};

// One server's executor on a Backend. `reachable`: the backend is shared (another server's
// executor may adopt its jobs); otherwise it plays a local executor (its own backend).
class BackendExecutor : public executor::Executor {
 public:
  // `shared_artifacts`: where every server reads the artifacts (SharedArtifactDir), as on Slurm;
  // empty: each server's own work dir.
  BackendExecutor(Backend& backend, bool reachable, fs::path shared_artifacts = {})
      : backend_(backend), reachable_(reachable), shared_artifacts_(std::move(shared_artifacts)) {}
  std::string name() const override { return "shared"; }
  executor::TrainerKind AcceptedTrainer() const override { return executor::TrainerKind::kCommand; }
  bool RemembersJobsAcrossRestarts() const override { return true; }
  bool ReachableFromAnyServer() const override { return reachable_; }
  fs::path SharedArtifactDir(const std::string& job_name) const override {
    return shared_artifacts_.empty() ? fs::path() : shared_artifacts_ / job_name;
  }
  Status Adopt(const std::string& job_name, const fs::path& artifact_dir) override {
    if (!reachable_) return Executor::Adopt(job_name, artifact_dir);
    std::lock_guard lock(backend_.mutex);
    auto it = backend_.jobs.find(job_name);
    if (it == backend_.jobs.end()) return NotFound("job '" + job_name + "' was never launched");
    it->second.spec.artifact_dir = artifact_dir;
    followed_.insert(job_name);
    return Status::Ok();
  }
  Status Submit(const executor::JobSpec& spec) override {
    std::lock_guard lock(backend_.mutex);
    const std::string& name = spec.definition.job_name;
    if (backend_.jobs.count(name)) return AlreadyExists(name);
    backend_.jobs.emplace(name, Backend::Job{.spec = spec});
    backend_.submitted[name] += 1;
    followed_.insert(name);
    return Status::Ok();
  }
  Result<executor::JobDescription> Describe(const std::string& name) override {
    std::lock_guard lock(backend_.mutex);
    auto it = backend_.jobs.find(name);
    if (it == backend_.jobs.end() || !followed_.count(name)) {
      return NotFound("job '" + name + "' not found");
    }
    executor::JobDescription description{name, it->second.tracker};
    description.exit_code = it->second.exit_code;
    description.metrics = it->second.metrics;
    return description;
  }
  Status Stop(const std::string& name) override {
    std::lock_guard lock(backend_.mutex);
    auto it = backend_.jobs.find(name);
    if (it == backend_.jobs.end() || !followed_.count(name)) return NotFound(name);
    stopped_.push_back(name);
    return it->second.tracker.Transition(SecondaryStatus::kStopping, Now());
  }
  std::vector<std::string> stopped() {
    std::lock_guard lock(backend_.mutex);
    return stopped_;
  }
  size_t followed() {
    std::lock_guard lock(backend_.mutex);
    return followed_.size();
  }

 private:
  Backend& backend_;
  bool reachable_;
  fs::path shared_artifacts_;
  std::set<std::string> followed_;
  std::vector<std::string> stopped_;
};

// Starts a submitted job's code, as a local executor does: only when its spec's before_launch
// lets it.
inline Status Launch(Backend& backend, const std::string& name) {
  std::function<Status()> before_launch;
  {
    std::lock_guard lock(backend.mutex);
    before_launch = backend.jobs.at(name).spec.before_launch;
  }
  if (before_launch) TY_RETURN_IF_ERROR(before_launch());
  std::lock_guard lock(backend.mutex);
  backend.launched[name] += 1;
  return Status::Ok();
}

// Moves a backend job on; Training first starts its code (Launch) unless it was started;
// Completed writes its model into its (current) artifact dir.
inline void Move(Backend& backend, const std::string& name, SecondaryStatus status) {
  if (status == SecondaryStatus::kTraining) {
    bool started = false;
    {
      std::lock_guard lock(backend.mutex);
      started = backend.launched.count(name) > 0;
    }
    if (!started) ASSERT_TRUE(Launch(backend, name).ok()) << name;
  }
  std::lock_guard lock(backend.mutex);
  Backend::Job& job = backend.jobs.at(name);
  ASSERT_TRUE(job.tracker.Transition(status, Now()).ok());
  if (status == SecondaryStatus::kCompleted) {
    job.exit_code = 0;
    ASSERT_TRUE(MakeDirectories(job.spec.artifact_dir).ok());
    std::ofstream(job.spec.artifact_dir / "model.tar.gz") << "model of " << name;
  }
}

}  // namespace trainyard::control::shared_backend
