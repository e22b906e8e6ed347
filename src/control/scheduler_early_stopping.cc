// The scheduler's part in early stopping (docs/search.md, "Early stopping"): the median stopping
// rule (core/early_stopping.h) over the objective's intermediate values, judged for a running
// job each time its record changes (a progress callback, a status), so that a job reporting
// nothing new costs nothing. The decision is recorded on the job (stop_reason) before the
// executor is asked to stop it: a restart in between stops it again, with the same reason.
#include <algorithm>

#include "common/log.h"
#include "control/early_stop.h"
#include "control/scheduler.h"
#include "core/job_status.h"

namespace trainyard::control {

core::LearningCurve CurveOf(const std::string& job_name,
                            const std::vector<metadata::MetricPoint>& points, bool ended) {
  core::LearningCurve curve;
  curve.job = job_name;
  curve.ended = ended;
  curve.points.reserve(points.size());
  int64_t place = 0;
  for (const metadata::MetricPoint& point : points) {
    ++place;
    curve.points.push_back({point.step.value_or(place), point.value});
  }
  return curve;
}

void SettleStopReason(metadata::JobRecord& job) {
  if (job.stop_reason.empty()) return;
  if (job.status != core::JobStatus::kStopped) {
    job.stop_reason.clear();
    return;
  }
  if (!job.transitions.empty()) job.transitions.back().message = job.stop_reason;
}

Result<std::vector<core::LearningCurve>> Scheduler::CurvesOf(const std::string& sweep_id,
                                                             const std::string& metric) {
  std::map<std::string, core::LearningCurve>& ended = ended_curves_[sweep_id];
  std::vector<core::LearningCurve> curves;
  TY_ASSIGN_OR_RETURN(std::vector<metadata::JobRecord> jobs, SweepJobs(sweep_id));
  for (const metadata::JobRecord& job : jobs) {
    // Completed jobs and running ones; a job that failed or was stopped did not show how far
    // the objective gets.
    const bool completed = job.status == core::JobStatus::kCompleted;
    if (job.queued || (core::IsTerminal(job.status) && !completed)) continue;
    auto cached = ended.find(job.name);
    if (cached != ended.end()) {
      curves.push_back(cached->second);
      continue;
    }
    TY_ASSIGN_OR_RETURN(std::vector<metadata::MetricPoint> points,
                        metadata_.ListMetricPoints(job.name, metric));
    curves.push_back(CurveOf(job.name, points, completed));
    if (completed) ended[job.name] = curves.back();
  }
  return curves;
}

void Scheduler::StopJobsEarly() {
  // Called by Pass, under mutex_. The running jobs of sweeps with early stopping, by sweep.
  std::map<std::string, std::vector<std::string>> by_sweep;
  for (const auto& [name, running] : running_) {
    auto request = RequestOf(running.sweep_id);
    if (!request.ok() || request->search.early_stopping != core::EarlyStopping::kAuto ||
        !request->objective) {
      continue;
    }
    by_sweep[running.sweep_id].push_back(name);
  }
  std::erase_if(judged_at_, [&](const auto& entry) { return !running_.contains(entry.first); });
  std::erase_if(ended_curves_, [&](const auto& entry) { return !by_sweep.contains(entry.first); });

  for (const auto& [sweep_id, names] : by_sweep) {
    const core::Objective objective = *RequestOf(sweep_id)->objective;
    std::vector<metadata::JobRecord> changed;
    for (const std::string& name : names) {
      auto job = metadata_.GetJob(name);
      if (!job.ok()) {
        Logger("control").error("job={} cannot be read for early stopping: {}", name,
                                job.status().message());
        continue;
      }
      if (!job->stop_reason.empty()) {
        // Decided before a restart that came before the stop was recorded: stopped again.
        if (job->status != core::JobStatus::kStopping && !core::IsTerminal(job->status)) {
          Status stopped = StopJobLocked(name, job->stop_reason);
          if (!stopped.ok()) {
            Logger("control").error("job={} sweep={} could not be stopped early: {}", name,
                                    sweep_id, stopped.message());
          }
        }
        continue;
      }
      if (job->status != core::JobStatus::kInProgress) continue;
      auto judged = judged_at_.find(name);
      if (judged != judged_at_.end() && judged->second == job->updated_at) continue;
      judged_at_[name] = job->updated_at;
      changed.push_back(std::move(job).value());
    }
    if (changed.empty()) continue;
    auto curves = CurvesOf(sweep_id, objective.metric);
    if (!curves.ok()) {
      Logger("control").error("sweep={} curves cannot be read for early stopping: {}", sweep_id,
                              curves.status().message());
      continue;
    }
    for (metadata::JobRecord& job : changed) {
      auto curve = std::find_if(curves->begin(), curves->end(),
                                [&](const core::LearningCurve& c) { return c.job == job.name; });
      if (curve == curves->end()) continue;
      std::optional<core::StopDecision> decision =
          core::MedianStoppingRule(*curve, *curves, objective.goal);
      if (!decision) continue;
      // Intent first: the reason is on the record before the executor is asked.
      job.stop_reason = options_.secret_mask.Apply(core::DescribeStop(*decision, objective));
      Logger("control").info("job={} sweep={} stopped early: {}", job.name, sweep_id,
                             job.stop_reason);
      if (Status written = WriteState(job, job.stop_reason); !written.ok()) {
        Logger("control").error("job={} sweep={} early stop not recorded, so not made: {}",
                                job.name, sweep_id, written.message());
        judged_at_.erase(job.name);  // judged again at the next pass
        continue;
      }
      if (Status stopped = StopJobLocked(job.name, job.stop_reason); !stopped.ok()) {
        Logger("control").error("job={} sweep={} could not be stopped early: {}", job.name,
                                sweep_id, stopped.message());
      }
    }
  }
}

}  // namespace trainyard::control
