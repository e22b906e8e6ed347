// How SqliteMetadataStore's records map to table rows: the column list each SELECT uses and
// the readers that turn a row (in that column order) back into a record, plus the JSON text
// encodings of json fields and maps. A job's status, secondary status and transitions are typed
// in JobRecord and text in the row (the API's spellings, SecondaryStatusTransitions' JSON):
// ReadJob converts them on the way in, the job writes in sqlite_job_methods.cc on the way out.
//
// Thread-safety: the readers only read the Statement they are given (see sqlite_handle.h).
// Failures: a stored JSON text that does not parse, or a status or transition that core cannot
// read, is Internal, naming the record and field.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/status.h"
#include "metadata/metadata_store.h"
#include "metadata/sqlite_handle.h"

namespace trainyard::metadata {

inline constexpr char kDatasetColumns[] =
    "id, name, kind, filename, object_key, size, sha256_hex, content_type, created_at_ms";
inline constexpr char kSweepColumns[] =
    "id, name, spec, idempotency_key, stop_requested, created_at_ms";
inline constexpr char kJobColumns[] =
    "name, sweep_id, queue_position, job_index, executor, hyperparameters, queued, "
    "executor_job_name, attempt, status, secondary_status, transitions, failure_reason, "
    "exit_code, token_sha256, started_at_ms, ended_at_ms, progress, metrics, created_at_ms, "
    "updated_at_ms";
inline constexpr char kEventColumns[] = "id, type, sweep_id, job_name, data, time_ms";

DatasetRecord ReadDataset(const Statement& row);
Result<SweepRecord> ReadSweep(const Statement& row);
Result<JobRecord> ReadJob(const Statement& row);
Result<Event> ReadEvent(const Statement& row);

// Compact JSON text; invalid UTF-8 in strings is replaced rather than failing the write.
std::string DumpJson(const nlohmann::json& value);
// `what` names the record and field for the error ("job 'x' progress").
Result<nlohmann::json> ParseJson(const std::string& text, std::string_view what);

std::string DumpStringMap(const std::map<std::string, std::string>& map);
// NaN and infinities have no JSON form: they are stored as null and read back as NaN.
std::string DumpMetricMap(const std::map<std::string, double>& map);
Result<std::map<std::string, double>> ParseMetricMap(const std::string& text,
                                                     std::string_view what);

// A metric value from a REAL column: SQLite stores NaN as NULL.
double ReadMetricValue(const Statement& row, int column);

// Encodes one metric point as in the API: {"name", "value", "step" (when set), "timestamp"}.
nlohmann::json MetricPointJson(const MetricPoint& point);

}  // namespace trainyard::metadata
