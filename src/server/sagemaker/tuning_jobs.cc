// A tuning job's SageMaker documents, derived from its records at each call. A search queues
// its next training job before the end of the one before is recorded (docs/search.md), so a
// tuning job whose training jobs have all ended has ended: no state of its own is kept beyond
// the sweep, and a restart shows what it showed before.
#include "server/sagemaker/tuning_jobs.h"

#include <algorithm>
#include <cctype>

#include "common/ascii.h"
#include "server/sagemaker/job_records.h"
#include "server/sagemaker/list_operations.h"
#include "server/sagemaker/tuning_request.h"

namespace trainyard::server::sagemaker {
namespace {
using core::JobStatus;
using nlohmann::json;

const json& Config(const TuningJob& tuning) {
  static const json kEmpty = json::object();
  auto found = tuning.request.find("HyperParameterTuningJobConfig");
  return found == tuning.request.end() ? kEmpty : *found;
}

const json& Objective(const TuningJob& tuning) {
  static const json kNull;
  auto found = Config(tuning).find("HyperParameterTuningJobObjective");
  return found == Config(tuning).end() ? kNull : *found;
}

// The latest time a job's record shows: its creation, and each transition's start and end.
TimePoint LastChangeOf(const metadata::JobRecord& job) {
  TimePoint last = job.created_at;
  for (const core::StatusTransition& transition : job.transitions) {
    last = std::max({last, transition.start_time, transition.end_time.value_or(last)});
  }
  return last;
}

json StatusCounters(const TuningJob& tuning) {
  json counters = {{"Completed", 0},
                   {"InProgress", 0},
                   {"RetryableError", 0},
                   {"NonRetryableError", 0},
                   {"Stopped", 0}};
  for (const metadata::JobRecord& job : tuning.jobs) {
    switch (job.status) {
      case JobStatus::kCompleted:
        counters["Completed"] = counters["Completed"].get<int>() + 1;
        break;
      case JobStatus::kFailed:
        counters["NonRetryableError"] = counters["NonRetryableError"].get<int>() + 1;
        break;
      case JobStatus::kStopped: counters["Stopped"] = counters["Stopped"].get<int>() + 1; break;
      default: counters["InProgress"] = counters["InProgress"].get<int>() + 1;
    }
  }
  return counters;
}

std::string ObjectiveStatusOf(const TuningJob& tuning, const metadata::JobRecord& job) {
  if (ObjectiveValueOf(tuning, job)) return "Succeeded";
  return core::IsTerminal(job.status) ? "Failed" : "Pending";
}

json ObjectiveCounters(const TuningJob& tuning) {
  json counters = {{"Succeeded", 0}, {"Pending", 0}, {"Failed", 0}};
  for (const metadata::JobRecord& job : tuning.jobs) {
    std::string status = ObjectiveStatusOf(tuning, job);
    counters[status] = counters[status].get<int>() + 1;
  }
  return counters;
}

// The training job with the best final objective value (the first of equals).
const metadata::JobRecord* BestJob(const TuningJob& tuning) {
  const bool minimize = Objective(tuning).value("Type", std::string()) == "Minimize";
  const metadata::JobRecord* best = nullptr;
  double best_value = 0;
  for (const metadata::JobRecord& job : tuning.jobs) {
    std::optional<double> value = ObjectiveValueOf(tuning, job);
    if (!value) continue;
    if (!best || (minimize ? *value < best_value : *value > best_value)) {
      best = &job;
      best_value = *value;
    }
  }
  return best;
}

}  // namespace

std::string TuningJob::name() const {
  return request.value(kTuningJobNameMember, sweep.name);
}

std::optional<double> ObjectiveValueOf(const TuningJob& tuning, const metadata::JobRecord& job) {
  const json& objective = Objective(tuning);
  if (!objective.is_object() || job.status != JobStatus::kCompleted) return std::nullopt;
  auto metric = job.metrics.find(objective.value("MetricName", std::string()));
  if (metric == job.metrics.end()) return std::nullopt;
  return metric->second;
}

TuningState StateOf(const TuningJob& tuning) {
  TuningState state;
  state.last_modified = tuning.sweep.created_at;
  bool active = tuning.jobs.empty();
  bool completed = false;
  std::optional<TimePoint> end;
  for (const metadata::JobRecord& job : tuning.jobs) {
    state.last_modified = std::max(state.last_modified, LastChangeOf(job));
    if (!core::IsTerminal(job.status)) active = true;
    if (job.status == JobStatus::kCompleted) completed = true;
    if (job.ended_at) end = std::max(end.value_or(*job.ended_at), *job.ended_at);
  }
  if (tuning.sweep.stop_requested) {
    state.status = active ? "Stopping" : "Stopped";
  } else if (active) {
    state.status = "InProgress";
  } else if (completed) {
    state.status = "Completed";
  } else {
    state.status = "Failed";
    state.failure_reason = "No training job completed: all " + std::to_string(tuning.jobs.size()) +
                           " training jobs of the tuning job failed or were stopped.";
  }
  if (!active) state.end_time = end.value_or(state.last_modified);
  return state;
}

json TrainingJobSummaryOf(const TuningJob& tuning, const metadata::JobRecord& job,
                          const ArnContext& context) {
  json summary = {
      {"TrainingJobName", job.name},
      {"TrainingJobArn", TrainingJobArn(context, job.name)},
      {"TuningJobName", tuning.name()},
      {"CreationTime", EpochSeconds(job.created_at)},
      {"TrainingJobStatus", core::ToString(job.status)},
      {"TunedHyperParameters", TunedHyperparameters(tuning.request, job.hyperparameters)},
      {"ObjectiveStatus", ObjectiveStatusOf(tuning, job)}};
  if (auto described = TrainingJobOf(job, json::object()); described.ok()) {
    if (auto start = TrainingStartTime(*described)) {
      summary["TrainingStartTime"] = EpochSeconds(*start);
    }
    if (auto end = TrainingEndTime(*described)) summary["TrainingEndTime"] = EpochSeconds(*end);
  }
  if (!job.failure_reason.empty()) summary["FailureReason"] = job.failure_reason.substr(0, 1024);
  if (std::optional<double> value = ObjectiveValueOf(tuning, job)) {
    const json& objective = Objective(tuning);
    summary["FinalHyperParameterTuningJobObjectiveMetric"] = {
        {"Type", objective.value("Type", std::string("Maximize"))},
        {"MetricName", objective.value("MetricName", std::string())},
        {"Value", *value}};
  }
  return summary;
}

json DescribeTuningDocument(const TuningJob& tuning, const ArnContext& context,
                            const std::vector<TuningJob>& parents) {
  TuningState state = StateOf(tuning);
  json config = Config(tuning);
  if (!config.contains("TrainingJobEarlyStoppingType")) {
    config["TrainingJobEarlyStoppingType"] = "Off";
  }
  json document = {{"HyperParameterTuningJobName", tuning.name()},
                   {"HyperParameterTuningJobArn",
                    TuningJobArn(context.region, context.account_id, tuning.name())},
                   {"HyperParameterTuningJobConfig", std::move(config)},
                   {"HyperParameterTuningJobStatus", state.status},
                   {"CreationTime", EpochSeconds(tuning.sweep.created_at)},
                   {"LastModifiedTime", EpochSeconds(state.last_modified)},
                   {"TrainingJobStatusCounters", StatusCounters(tuning)},
                   {"ObjectiveStatusCounters", ObjectiveCounters(tuning)}};
  if (tuning.request.contains("TrainingJobDefinition")) {
    document["TrainingJobDefinition"] = tuning.request["TrainingJobDefinition"];
  }
  if (tuning.request.contains("WarmStartConfig")) {
    document["WarmStartConfig"] = tuning.request["WarmStartConfig"];
  }
  if (state.end_time) document["HyperParameterTuningEndTime"] = EpochSeconds(*state.end_time);
  if (!state.failure_reason.empty()) document["FailureReason"] = state.failure_reason;
  const metadata::JobRecord* best = BestJob(tuning);
  if (best) document["BestTrainingJob"] = TrainingJobSummaryOf(tuning, *best, context);
  if (tuning.request.contains("WarmStartConfig")) {
    // The parents share its objective (checked at create): the best of all, the first of equals.
    const bool minimize = Objective(tuning).value("Type", std::string()) == "Minimize";
    const TuningJob* overall_tuning = best ? &tuning : nullptr;
    const metadata::JobRecord* overall = best;
    for (const TuningJob& parent : parents) {
      const metadata::JobRecord* candidate = BestJob(parent);
      if (!candidate) continue;
      const double value = *ObjectiveValueOf(parent, *candidate);
      if (overall) {
        const double so_far = *ObjectiveValueOf(*overall_tuning, *overall);
        if (minimize ? value >= so_far : value <= so_far) continue;
      }
      overall_tuning = &parent;
      overall = candidate;
    }
    if (overall) {
      document["OverallBestTrainingJob"] = TrainingJobSummaryOf(*overall_tuning, *overall, context);
    }
  }
  return document;
}

JsonReply ListTuningJobs(const std::vector<TuningJob>& tunings, const json& request,
                         const ArnContext& context) {
  struct Row {
    const TuningJob* tuning;
    TuningState state;
  };
  const std::string name_contains = AsciiLower(request.value("NameContains", std::string()));
  const std::string status = request.value("StatusEquals", std::string());
  std::vector<Row> rows;
  for (const TuningJob& tuning : tunings) {
    Row row{&tuning, StateOf(tuning)};
    if (!InWindow(request, "CreationTime", tuning.sweep.created_at)) continue;
    if (!InWindow(request, "LastModifiedTime", row.state.last_modified)) continue;
    if (!name_contains.empty() &&
        AsciiLower(tuning.name()).find(name_contains) == std::string::npos) {
      continue;
    }
    if (!status.empty() && row.state.status != status) continue;
    rows.push_back(std::move(row));
  }
  const std::string sort_by = request.value("SortBy", std::string("Name"));
  auto less = [&](const Row& a, const Row& b) {
    if (sort_by == "Status") return a.state.status < b.state.status;
    if (sort_by == "CreationTime") return a.tuning->sweep.created_at < b.tuning->sweep.created_at;
    return a.tuning->name() < b.tuning->name();
  };
  if (request.value("SortOrder", std::string("Ascending")) == "Descending") {
    std::stable_sort(rows.begin(), rows.end(),
                     [&](const Row& a, const Row& b) { return less(b, a); });
  } else {
    std::stable_sort(rows.begin(), rows.end(), less);
  }
  auto page = PageBounds(rows.size(), request, "ListHyperParameterTuningJobs");
  if (!page) return ValidationException("Invalid pagination token given: NextToken.");
  json summaries = json::array();
  for (size_t i = page->first; i < page->second; ++i) {
    const TuningJob& tuning = *rows[i].tuning;
    const json& config = Config(tuning);
    json summary = {{"HyperParameterTuningJobName", tuning.name()},
                    {"HyperParameterTuningJobArn",
                     TuningJobArn(context.region, context.account_id, tuning.name())},
                    {"HyperParameterTuningJobStatus", rows[i].state.status},
                    {"Strategy", config.value("Strategy", std::string())},
                    {"CreationTime", EpochSeconds(tuning.sweep.created_at)},
                    {"LastModifiedTime", EpochSeconds(rows[i].state.last_modified)},
                    {"TrainingJobStatusCounters", StatusCounters(tuning)},
                    {"ObjectiveStatusCounters", ObjectiveCounters(tuning)}};
    if (config.contains("ResourceLimits")) summary["ResourceLimits"] = config["ResourceLimits"];
    if (rows[i].state.end_time) {
      summary["HyperParameterTuningEndTime"] = EpochSeconds(*rows[i].state.end_time);
    }
    summaries.push_back(std::move(summary));
  }
  json answer = {{"HyperParameterTuningJobSummaries", std::move(summaries)}};
  if (page->second < rows.size()) {
    answer["NextToken"] = EncodePageToken("ListHyperParameterTuningJobs", page->second);
  }
  return JsonReply::Ok(std::move(answer));
}

JsonReply ListTuningTrainingJobs(const TuningJob& tuning, const json& request,
                                 const ArnContext& context) {
  const std::string status = request.value("StatusEquals", std::string());
  const std::string sort_by = request.value("SortBy", std::string("Name"));
  std::vector<const metadata::JobRecord*> jobs;
  for (const metadata::JobRecord& job : tuning.jobs) {
    if (!status.empty() && core::ToString(job.status) != status) continue;
    if (sort_by == "FinalObjectiveMetricValue" && !ObjectiveValueOf(tuning, job)) continue;
    jobs.push_back(&job);
  }
  auto less = [&](const metadata::JobRecord* a, const metadata::JobRecord* b) {
    if (sort_by == "CreationTime") return a->created_at < b->created_at;
    if (sort_by == "Status") {
      return std::string(core::ToString(a->status)) < std::string(core::ToString(b->status));
    }
    if (sort_by == "FinalObjectiveMetricValue") {
      return *ObjectiveValueOf(tuning, *a) < *ObjectiveValueOf(tuning, *b);
    }
    return a->name < b->name;
  };
  if (request.value("SortOrder", std::string("Ascending")) == "Descending") {
    std::stable_sort(jobs.begin(), jobs.end(),
                     [&](const auto* a, const auto* b) { return less(b, a); });
  } else {
    std::stable_sort(jobs.begin(), jobs.end(), less);
  }
  auto page = PageBounds(jobs.size(), request, "ListTrainingJobsForHyperParameterTuningJob");
  if (!page) return ValidationException("Invalid pagination token given: NextToken.");
  json summaries = json::array();
  for (size_t i = page->first; i < page->second; ++i) {
    summaries.push_back(TrainingJobSummaryOf(tuning, *jobs[i], context));
  }
  json answer = {{"TrainingJobSummaries", std::move(summaries)}};
  if (page->second < jobs.size()) {
    answer["NextToken"] =
        EncodePageToken("ListTrainingJobsForHyperParameterTuningJob", page->second);
  }
  return JsonReply::Ok(std::move(answer));
}

}  // namespace trainyard::server::sagemaker
