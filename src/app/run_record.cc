#include "app/run_record.h"

#include "common/files.h"
#include "core/job_naming.h"

namespace trainyard::app {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr char kRecordFileName[] = "run.json";
constexpr int kRecordVersion = 1;

}  // namespace

RunRecord MakeRunRecord(const RunOptions& options,
                        const std::vector<core::HyperparameterMap>& combinations) {
  RunRecord record{options, {}};
  // A resume may start from another directory: every path it reads must stand on its own.
  for (auto& [channel, path] : record.options.channels) path = fs::absolute(path);
  record.options.out_dir = fs::absolute(options.out_dir);
  record.options.wrapper_path = fs::absolute(options.wrapper_path);
  record.options.sweep = {};
  for (size_t i = 0; i < combinations.size(); ++i) {
    record.jobs.push_back(
        {core::MakeJobName(options.sweep_name, i, combinations.size()), combinations[i]});
  }
  return record;
}

json RunRecordJson(const RunRecord& record) {
  const RunOptions& options = record.options;
  json jobs = json::array();
  for (const RecordedJob& job : record.jobs) {
    jobs.push_back({{"name", job.name}, {"hyperparameters", job.hyperparameters}});
  }
  json channels = json::object();
  for (const auto& [channel, path] : options.channels) channels[channel] = path.string();
  json metrics = json::array();
  for (const contract::MetricDefinition& metric : options.metric_definitions) {
    metrics.push_back({{"name", metric.name}, {"regex", metric.regex}});
  }
  json recorded = {{"version", kRecordVersion},
                   {"sweep_name", options.sweep_name},
                   {"jobs", std::move(jobs)},
                   {"channels", std::move(channels)},
                   {"command", options.command},
                   {"environment", options.environment},
                   {"metric_definitions", std::move(metrics)},
                   {"parallel", options.parallel},
                   {"max_runtime_seconds", options.max_runtime_seconds},
                   {"stop_grace_period_ms", options.stop_grace_period.count()},
                   {"keep_work", options.keep_job_roots},
                   {"wrapper", options.wrapper_path.string()},
                   {"executor", options.executor}};
  if (options.executor == "slurm") {
    // How Slurm was reached, so that --resume reaches it again: paths, never a token.
    const SlurmSettings& slurm = options.slurm;
    recorded["slurm"] = {{"partition", slurm.partition},
                         {"account", slurm.account},
                         {"qos", slurm.qos},
                         {"sbatch_args", slurm.sbatch_args},
                         {"bin_dir", slurm.bin_dir.string()},
                         {"transport", slurm.transport},
                         {"rest_url", slurm.rest_url},
                         {"rest_user", slurm.rest_user},
                         {"rest_token_file", slurm.rest_token_file.string()},
                         {"jwt_key_file", slurm.jwt_key_file.string()},
                         {"jwt_lifespan_seconds", slurm.jwt_lifespan_seconds}};
  }
  if (options.objective) {
    recorded["objective"] = {{"metric", options.objective->metric},
                             {"goal", core::ObjectiveGoalName(options.objective->goal)}};
  }
  return recorded;
}

Result<RunRecord> RunRecordFromJson(const json& recorded, const fs::path& out_dir) {
  if (!recorded.is_object()) return InvalidArgument("a run record is a JSON object");
  // Which field is being read, for the message of a json::exception.
  std::string field = "version";
  try {
    if (recorded.at(field).get<int>() != kRecordVersion) {
      return InvalidArgument("field 'version': " + recorded[field].dump() +
                             " is not a version this trainyard reads (1)");
    }
    RunRecord record;
    RunOptions& options = record.options;
    options.out_dir = out_dir;
    field = "sweep_name";
    options.sweep_name = recorded.at(field).get<std::string>();
    field = "jobs";
    for (const json& job : recorded.at(field)) {
      record.jobs.push_back({job.at("name").get<std::string>(),
                             job.at("hyperparameters").get<core::HyperparameterMap>()});
    }
    field = "channels";
    for (const auto& [channel, path] : recorded.at(field).items()) {
      options.channels[channel] = path.get<std::string>();
    }
    field = "command";
    options.command = recorded.at(field).get<std::vector<std::string>>();
    field = "environment";
    options.environment = recorded.at(field).get<std::map<std::string, std::string>>();
    field = "metric_definitions";
    for (const json& metric : recorded.at(field)) {
      options.metric_definitions.push_back(
          {metric.at("name").get<std::string>(), metric.at("regex").get<std::string>()});
    }
    field = "parallel";
    options.parallel = recorded.at(field).get<size_t>();
    field = "max_runtime_seconds";
    options.max_runtime_seconds = recorded.at(field).get<int64_t>();
    field = "stop_grace_period_ms";
    options.stop_grace_period = std::chrono::milliseconds(recorded.at(field).get<int64_t>());
    field = "keep_work";
    options.keep_job_roots = recorded.at(field).get<bool>();
    field = "wrapper";
    options.wrapper_path = recorded.at(field).get<std::string>();
    field = "executor";  // absent from the records of runs before Slurm: local
    options.executor = recorded.value(field, std::string("local"));
    field = "slurm";
    if (recorded.contains(field)) {
      const json& slurm = recorded[field];
      SlurmSettings& settings = options.slurm;
      settings.enabled = true;
      settings.partition = slurm.at("partition").get<std::string>();
      settings.account = slurm.at("account").get<std::string>();
      settings.qos = slurm.at("qos").get<std::string>();
      settings.sbatch_args = slurm.at("sbatch_args").get<std::vector<std::string>>();
      settings.bin_dir = slurm.at("bin_dir").get<std::string>();
      // Absent from the records of runs before the REST transport: Slurm's commands.
      settings.transport = slurm.value("transport", settings.transport);
      settings.rest_url = slurm.value("rest_url", "");
      settings.rest_user = slurm.value("rest_user", "");
      settings.rest_token_file = slurm.value("rest_token_file", "");
      settings.jwt_key_file = slurm.value("jwt_key_file", "");
      settings.jwt_lifespan_seconds =
          slurm.value("jwt_lifespan_seconds", settings.jwt_lifespan_seconds);
    }
    field = "objective";
    if (recorded.contains(field)) {
      TY_ASSIGN_OR_RETURN(core::ObjectiveGoal goal,
                          core::ParseObjectiveGoal(recorded[field].at("goal").get<std::string>()));
      options.objective = core::Objective{recorded[field].at("metric").get<std::string>(), goal};
    }
    return record;
  } catch (const json::exception& error) {
    return InvalidArgument("field '" + field + "': " + error.what());
  }
}

Status WriteRunRecord(const RunRecord& record) {
  return WriteFileAtomic(record.options.out_dir / kRecordFileName,
                         RunRecordJson(record).dump(2) + "\n");
}

Result<RunRecord> ReadRunRecord(const fs::path& out_dir) {
  fs::path file = out_dir / kRecordFileName;
  std::error_code error;
  if (!fs::exists(file, error)) {
    return NotFound("'" + out_dir.string() + "' holds no run to resume: it has no " +
                    kRecordFileName + " (written when `trainyard run` starts)");
  }
  TY_ASSIGN_OR_RETURN(std::string text, ReadFile(file));
  auto record = RunRecordFromJson(json::parse(text, nullptr, false), out_dir);
  if (!record.ok()) return record.status().WithContext("'" + file.string() + "'");
  return record;
}

Result<FileLock> AcquireRunLock(const fs::path& out_dir) {
  return FileLock::Acquire(
      out_dir / kRecordFileName, /*create=*/false,
      "'" + out_dir.string() + "' is being run by another `trainyard run` process right now");
}

}  // namespace trainyard::app
