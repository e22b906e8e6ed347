// `trainyard sweep ...`.
#include <chrono>
#include <cmath>

#include "app/client_command_runners.h"
#include "app/client_format.h"
#include "app/client_sweep_spec.h"
#include "app/client_sweep_wait.h"

namespace trainyard::app {

namespace {

using client::ApiClient;

std::string SweepPath(const std::string& id) {
  return "/api/v1/sweeps/" + ApiClient::Escape(id);
}

// A sweep's answer has `progress` (ended jobs count 1, running ones what they reported); the
// list's entries have only `counts`, so they show how many jobs have ended: "3/4".
std::string ProgressText(const nlohmann::json& sweep) {
  if (sweep.contains("progress") && sweep["progress"].is_number()) {
    return PercentText(sweep["progress"].get<double>());
  }
  std::optional<int64_t> jobs = SweepJobCount(sweep);
  if (!jobs || !sweep.contains("counts")) return "-";
  return std::to_string(EndedJobCount(sweep["counts"])) + "/" + std::to_string(*jobs);
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

std::chrono::milliseconds WaitTimeout(const ClientSweepFlags& flags) {
  return std::chrono::milliseconds(std::llround(flags.timeout_seconds * 1000));
}

// With --wait, the exit code of the wait; with --wait --output json only the final sweep is
// printed, so that a script reads one document.
Result<int> CreateSweep(const ClientContext& context) {
  const ClientSweepFlags& flags = context.state.sweep;
  TY_ASSIGN_OR_RETURN(nlohmann::json body, BuildSweepBody(flags));
  std::map<std::string, std::string> headers;
  if (body.contains("idempotency_key") && body["idempotency_key"].is_string()) {
    headers["Idempotency-Key"] = body["idempotency_key"].get<std::string>();
  }
  TY_ASSIGN_OR_RETURN(nlohmann::json sweep, context.api.Post("/api/v1/sweeps", body, headers));
  if (context.json_output && !flags.wait) {
    context.PrintJson(sweep);
  } else if (!context.json_output) {
    std::optional<int64_t> jobs = SweepJobCount(sweep);
    context.Print(Cell(sweep, "id") + "  " + (jobs ? std::to_string(*jobs) : "?") +
                  (jobs == 1 ? " job" : " jobs") + "  (sweep '" + Cell(sweep, "name") + "')\n");
  }
  if (!flags.wait) return 0;
  return WaitForSweep(context, sweep.value("id", ""), WaitTimeout(flags));
}

Status ListSweeps(const ClientContext& context) {
  TY_ASSIGN_OR_RETURN(nlohmann::json answer, context.api.Get("/api/v1/sweeps"));
  if (context.json_output) {
    context.PrintJson(answer);
    return Status::Ok();
  }
  TextTable table({"ID", "NAME", "JOBS", "PROGRESS", "STATUS", "CREATED"});
  for (const nlohmann::json& sweep : answer.value("sweeps", nlohmann::json::array())) {
    std::optional<int64_t> jobs = SweepJobCount(sweep);
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
  std::optional<int64_t> count = SweepJobCount(sweep);
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

Status Stop(const ClientContext& context) {
  const std::string& id = context.state.sweep.id;
  TY_ASSIGN_OR_RETURN(nlohmann::json answer, context.api.Post(SweepPath(id) + "/stop"));
  context.json_output ? context.PrintJson(answer)
                      : context.Print("stopping sweep " + id + "'s queued and running jobs\n");
  return Status::Ok();
}

Status Retry(const ClientContext& context) {
  const std::string& id = context.state.sweep.id;
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
                (retried.size() == 1 ? "" : "s") + " again" + (names.empty() ? "" : ": " + names) +
                "\n");
  return Status::Ok();
}

}  // namespace

Result<int> RunSweepCommand(const std::string& command, const ClientContext& context) {
  const std::string& id = context.state.sweep.id;
  if (command == "sweep create") return CreateSweep(context);
  if (command == "sweep wait") return WaitForSweep(context, id, WaitTimeout(context.state.sweep));
  Status status;
  if (command == "sweep list") {
    status = ListSweeps(context);
  } else if (command == "sweep show") {
    status = Show(context);
  } else if (command == "sweep stop") {
    status = Stop(context);
  } else if (command == "sweep retry") {
    status = Retry(context);
  } else {
    status = Internal("unknown command '" + command + "'");
  }
  if (!status.ok()) return status;
  return 0;
}

}  // namespace trainyard::app
