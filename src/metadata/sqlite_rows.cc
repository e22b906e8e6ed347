#include "metadata/sqlite_rows.h"

#include <limits>

namespace trainyard::metadata {

using nlohmann::json;

namespace {

// A stored value that core cannot read back (written by something else, or damaged) is the
// store's failure: Internal, naming the record and field.
template <typename T>
Result<T> ReadTyped(Result<T> value, const std::string& what) {
  if (!value.ok()) {
    return Internal(what + ": stored value is not readable: " + value.status().message());
  }
  return value;
}

}  // namespace

DatasetRecord ReadDataset(const Statement& row) {
  DatasetRecord dataset;
  dataset.id = row.Text(0);
  dataset.name = row.Text(1);
  dataset.kind = row.Text(2);
  dataset.filename = row.Text(3);
  dataset.object_key = row.Text(4);
  dataset.size = static_cast<uint64_t>(row.Int(5));
  dataset.sha256_hex = row.Text(6);
  dataset.content_type = row.Text(7);
  dataset.created_at = FromMillis(row.Int(8));
  return dataset;
}

Result<SweepRecord> ReadSweep(const Statement& row) {
  SweepRecord sweep;
  sweep.id = row.Text(0);
  sweep.name = row.Text(1);
  TY_ASSIGN_OR_RETURN(sweep.spec, ParseJson(row.Text(2), "sweep '" + sweep.id + "' spec"));
  if (!row.IsNull(3)) sweep.idempotency_key = row.Text(3);
  sweep.stop_requested = row.Int(4) != 0;
  sweep.created_at = FromMillis(row.Int(5));
  return sweep;
}

Result<JobRecord> ReadJob(const Statement& row) {
  JobRecord job;
  job.name = row.Text(0);
  std::string what = "job '" + job.name + "' ";
  job.sweep_id = row.Text(1);
  job.queue_position = row.Int(2);
  job.index = row.Int(3);
  job.executor = row.Text(4);
  TY_ASSIGN_OR_RETURN(json hyperparameters, ParseJson(row.Text(5), what + "hyperparameters"));
  if (!hyperparameters.is_object()) return Internal(what + "hyperparameters: not an object");
  for (const auto& [key, value] : hyperparameters.items()) {
    if (!value.is_string()) return Internal(what + "hyperparameter '" + key + "' not a string");
    job.hyperparameters[key] = value.get<std::string>();
  }
  job.queued = row.Int(6) != 0;
  job.executor_job_name = row.Text(7);
  job.attempt = static_cast<int>(row.Int(8));
  TY_ASSIGN_OR_RETURN(job.status, ReadTyped(core::ParseJobStatus(row.Text(9)), what + "status"));
  TY_ASSIGN_OR_RETURN(job.secondary_status, ReadTyped(core::ParseSecondaryStatus(row.Text(10)),
                                                      what + "secondary_status"));
  TY_ASSIGN_OR_RETURN(json transitions, ParseJson(row.Text(11), what + "transitions"));
  TY_ASSIGN_OR_RETURN(job.transitions,
                      ReadTyped(core::TransitionsFromJson(transitions), what + "transitions"));
  job.failure_reason = row.Text(12);
  if (!row.IsNull(13)) job.exit_code = static_cast<int>(row.Int(13));
  job.token_sha256 = row.Text(14);
  if (!row.IsNull(15)) job.started_at = FromMillis(row.Int(15));
  if (!row.IsNull(16)) job.ended_at = FromMillis(row.Int(16));
  TY_ASSIGN_OR_RETURN(job.progress, ParseJson(row.Text(17), what + "progress"));
  TY_ASSIGN_OR_RETURN(job.metrics, ParseMetricMap(row.Text(18), what + "metrics"));
  job.created_at = FromMillis(row.Int(19));
  job.updated_at = FromMillis(row.Int(20));
  return job;
}

Result<Event> ReadEvent(const Statement& row) {
  Event event;
  event.id = row.Int(0);
  event.type = row.Text(1);
  event.sweep_id = row.Text(2);
  event.job_name = row.Text(3);
  TY_ASSIGN_OR_RETURN(event.data,
                      ParseJson(row.Text(4), "event " + std::to_string(event.id) + " data"));
  event.time = FromMillis(row.Int(5));
  return event;
}

std::string DumpJson(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<json> ParseJson(const std::string& text, std::string_view what) {
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    return Internal(std::string(what) + ": stored value is not valid JSON");
  }
  return value;
}

std::string DumpStringMap(const std::map<std::string, std::string>& map) {
  return DumpJson(json(map));
}

std::string DumpMetricMap(const std::map<std::string, double>& map) {
  return DumpJson(json(map));
}

Result<std::map<std::string, double>> ParseMetricMap(const std::string& text,
                                                     std::string_view what) {
  TY_ASSIGN_OR_RETURN(json value, ParseJson(text, what));
  if (!value.is_object()) return Internal(std::string(what) + ": not an object");
  std::map<std::string, double> map;
  for (const auto& [key, number] : value.items()) {
    if (number.is_null()) {
      map[key] = std::numeric_limits<double>::quiet_NaN();
    } else if (number.is_number()) {
      map[key] = number.get<double>();
    } else {
      return Internal(std::string(what) + ": metric '" + key + "' is not a number");
    }
  }
  return map;
}

double ReadMetricValue(const Statement& row, int column) {
  if (row.IsNull(column)) return std::numeric_limits<double>::quiet_NaN();
  return row.Double(column);
}

json MetricPointJson(const MetricPoint& point) {
  json entry = {{"name", point.name}, {"value", point.value}};
  if (point.step) entry["step"] = *point.step;
  entry["timestamp"] = FormatIso8601(point.timestamp);
  return entry;
}

}  // namespace trainyard::metadata
