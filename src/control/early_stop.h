// What the scheduler's early stopping (scheduler_early_stopping.cc, docs/search.md) reads from
// and writes to a job's record: the learning curve the median rule judges, and the stop reason
// at the job's end.
#pragma once

#include <vector>

#include "core/early_stopping.h"
#include "metadata/metadata_store.h"

namespace trainyard::control {

// The job's points of the objective's metric (ListMetricPoints of that metric, in the order they
// were recorded) as the rule reads them: each at its step, or, for a point reported without one
// (a metric_definitions regex on the log), at its place among the job's points (1, 2, ...).
// `ended`: the job has ended.
core::LearningCurve CurveOf(const std::string& job_name,
                            const std::vector<metadata::MetricPoint>& points, bool ended);

// At a job's end: a job that ended Stopped after trainyard stopped it shows its stop reason as
// its last transition's message; one that ended otherwise (it completed before the stop reached
// it, or failed) keeps no stop reason.
void SettleStopReason(metadata::JobRecord& job);

}  // namespace trainyard::control
