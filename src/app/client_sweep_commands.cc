// `trainyard sweep ...`.
#include <cmath>

#include "app/client_command_runners.h"
#include "app/client_format.h"
#include "app/client_sweep_spec.h"

namespace trainyard::app {

namespace {

using client::ApiClient;

std::string SweepPath(const std::string& id) {
  return "/api/v1/sweeps/" + ApiClient::Escape(id);
}

// The number of jobs a sweep answer describes, whichever of its fields says it.
std::optional<int64_t> JobCount(const nlohmann::json& sweep) {
  if (sweep.contains("jobs") && sweep["jobs"].is_array()) return sweep["jobs"].size();
  for (const char* key : {"job_count", "jobs"}) {
    if (sweep.contains(key) && sweep[key].is_number_integer()) return sweep[key].get<int64_t>();
  }
  if (sweep.contains("counts") && sweep["counts"].is_object()) {
    int64_t total = 0;
    for (const auto& [status, count] : sweep["counts"].items()) {
      if (count.is_number_integer()) total += count.get<int64_t>();
    }
    return total;
  }
  return std::nullopt;
}

std::string ProgressText(const nlohmann::json& sweep) {
  if (!sweep.contains("progress") || !sweep["progress"].is_number()) return "-";
  return std::to_string(static_cast<int>(std::lround(sweep["progress"].get<double>() * 100))) + "%";
}

// best_job is a job name, or an object with the name and the objective's value.
std::string BestJobText(const nlohmann::json& sweep) {
  if (!sweep.contains("best_job") || sweep["best_job"].is_null()) return "-";
  const nlohmann::json& best = sweep["best_job"];
  if (best.is_string()) return best.get<std::string>();
  if (!best.is_object()) return best.dump();
  std::string text = Cell(best, "name");
  if (best.contains("metrics") && best["metrics"].is_object() && !best["metrics"].empty()) {
    text += "  " + MetricsText(best["metrics"]);
  } else if (best.contains("metric") && best.contains("value")) {
    text += "  " + Cell(best, "metric") + "=" + Cell(best, "value");
  }
  return text;
}

Status Create(const ClientContext& context) {
  TY_ASSIGN_OR_RETURN(nlohmann::json body, BuildSweepBody(context.state.sweep));
  std::map<std::string, std::string> headers;
  if (body.contains("idempotency_key") && body["idempotency_key"].is_string()) {
    headers["Idempotency-Key"] = body["idempotency_key"].get<std::string>();
  }
  TY_ASSIGN_OR_RETURN(nlohmann::json sweep, context.api.Post("/api/v1/sweeps", body, headers));
  if (context.json_output) {
    context.PrintJson(sweep);
    return Status::Ok();
  }
  std::optional<int64_t> jobs = JobCount(sweep);
  context.Print(Cell(sweep, "id") + "  " + (jobs ? std::to_string(*jobs) : "?") +
                (jobs == 1 ? " job" : " jobs") + "  (sweep '" + Cell(sweep, "name") + "')\n");
  return Status::Ok();
}

Status List(const ClientContext& context) {
  TY_ASSIGN_OR_RETURN(nlohmann::json answer, context.api.Get("/api/v1/sweeps"));
  if (context.json_output) {
    context.PrintJson(answer);
    return Status::Ok();
  }
  TextTable table({"ID", "NAME", "JOBS", "PROGRESS", "STATUS", "CREATED"});
  for (const nlohmann::json& sweep : answer.value("sweeps", nlohmann::json::array())) {
    std::optional<int64_t> jobs = JobCount(sweep);
    table.AddRow({Cell(sweep, "id"), Cell(sweep, "name"), jobs ? std::to_string(*jobs) : "-",
                  ProgressText(sweep), CountsText(sweep.value("counts", nlohmann::json())),
                  Cell(sweep, "created_at")});
  }
  context.Print(table.ToString());
  return Status::Ok();
}

Status Show(const ClientContext& context) {
  const std::string& id = context.state.sweep.id;
  TY_ASSIGN_OR_RETURN(nlohmann::json sweep, context.api.Get(SweepPath(id)));
  if (context.json_output) {
    context.PrintJson(sweep);
    return Status::Ok();
  }
  nlohmann::json jobs;
  if (sweep.contains("jobs") && sweep["jobs"].is_array()) {
    jobs = sweep["jobs"];
  } else {
    TY_ASSIGN_OR_RETURN(jobs, ListAllJobs(context.api, "sweep=" + ApiClient::Escape(id)));
  }
  std::optional<int64_t> count = JobCount(sweep);
  std::string progress = "-";
  if (sweep.contains("progress") && sweep["progress"].is_number()) {
    progress = ProgressBarText(sweep["progress"].get<double>(), 30);
  }
  std::string text = "Sweep:     " + Cell(sweep, "id") + " (" + Cell(sweep, "name") + ")\n";
  text += "Jobs:      " + std::to_string(count.value_or(jobs.size())) + " (" +
          CountsText(sweep.value("counts", nlohmann::json())) + ")\n";
  text += "Progress:  " + progress + "\n";
  if (sweep.contains("spec") && sweep["spec"].is_object() && sweep["spec"].contains("objective")) {
    const nlohmann::json& objective = sweep["spec"]["objective"];
    text += "Objective: " + Cell(objective, "metric") + " (" + Cell(objective, "goal") + ")\n";
  }
  text += "Best job:  " + BestJobText(sweep) + "\n";
  text += "Created:   " + Cell(sweep, "created_at") + "\n\n";
  text += JobsTable(jobs);
  context.Print(text);
  return Status::Ok();
}

}  // namespace

Status RunSweepCommand(const std::string& command, const ClientContext& context) {
  const std::string& id = context.state.sweep.id;
  if (command == "sweep create") return Create(context);
  if (command == "sweep list") return List(context);
  if (command == "sweep show") return Show(context);
  if (command == "sweep stop") {
    TY_ASSIGN_OR_RETURN(nlohmann::json answer, context.api.Post(SweepPath(id) + "/stop"));
    context.json_output ? context.PrintJson(answer)
                        : context.Print("stopping sweep " + id + "'s queued and running jobs\n");
    return Status::Ok();
  }
  if (command == "sweep retry") {
    TY_ASSIGN_OR_RETURN(nlohmann::json answer, context.api.Post(SweepPath(id) + "/retry"));
    if (context.json_output) {
      context.PrintJson(answer);
      return Status::Ok();
    }
    nlohmann::json retried = answer.value("retried", nlohmann::json::array());
    std::string names;
    for (const nlohmann::json& name : retried) {
      names +=
          (names.empty() ? "" : ", ") + (name.is_string() ? name.get<std::string>() : name.dump());
    }
    context.Print("queued " + std::to_string(retried.size()) + " failed job" +
                  (retried.size() == 1 ? "" : "s") + " again" +
                  (names.empty() ? "" : ": " + names) + "\n");
    return Status::Ok();
  }
  return Internal("unknown command '" + command + "'");
}

}  // namespace trainyard::app
