// `trainyard job ...`.
#include <cmath>
#include <filesystem>
#include <set>

#include "app/client_command_runners.h"
#include "app/client_format.h"

namespace trainyard::app {

namespace {

using client::ApiClient;

std::string JobPath(const std::string& name) {
  return "/api/v1/jobs/" + ApiClient::Escape(name);
}

std::string Timestamp(const nlohmann::json& job, const std::string& key) {
  return Cell(job, key);
}

std::string JobDetails(const nlohmann::json& job) {
  std::string progress = "-";
  if (std::optional<double> fraction = JobProgress(job)) {
    progress = std::to_string(static_cast<int>(std::lround(*fraction * 100))) + "%";
  }
  std::string hyperparameters;
  if (job.contains("hyperparameters") && job["hyperparameters"].is_object()) {
    for (const auto& [name, value] : job["hyperparameters"].items()) {
      hyperparameters += (hyperparameters.empty() ? "" : " ") + name + "=" +
                         (value.is_string() ? value.get<std::string>() : value.dump());
    }
  }
  std::string duration = job.contains("duration_seconds") && job["duration_seconds"].is_number()
                             ? FormatDuration(job["duration_seconds"].get<double>())
                             : "-";
  std::string text;
  for (auto [label, value] : {std::pair<std::string, std::string>{"Name", Cell(job, "name")},
                              {"Sweep", Cell(job, "sweep_id")},
                              {"Status", JobStatus(job)},
                              {"Secondary", Cell(job, "secondary_status")},
                              {"Progress", progress},
                              {"Metrics", MetricsText(job.value("metrics", nlohmann::json()))},
                              {"Hyperparams", hyperparameters.empty() ? "-" : hyperparameters},
                              {"Executor", Cell(job, "executor")},
                              // The container image as requested, and what exactly ran.
                              {"Image", Cell(job, "image")},
                              {"Digest", Cell(job, "image_digest")},
                              {"Attempt", Cell(job, "attempt")},
                              {"Exit code", Cell(job, "exit_code")},
                              {"Failure", Cell(job, "failure_reason")},
                              {"Created", Timestamp(job, "created_at")},
                              {"Started", Timestamp(job, "started_at")},
                              {"Ended", Timestamp(job, "ended_at")},
                              {"Duration", duration}}) {
    text += label + ":" + std::string(13 - label.size(), ' ') + value + "\n";
  }
  if (job.contains("transitions") && job["transitions"].is_array() && !job["transitions"].empty()) {
    TextTable table({"  STATUS", "START", "END", "MESSAGE"});
    for (const nlohmann::json& transition : job["transitions"]) {
      table.AddRow({"  " + Cell(transition, "Status"), Cell(transition, "StartTime"),
                    Cell(transition, "EndTime"), Cell(transition, "StatusMessage")});
    }
    text += "\nTransitions:\n" + table.ToString();
  }
  return text;
}

Status ListJobs(const ClientContext& context) {
  const ClientJobFlags& flags = context.state.job;
  std::string query;
  auto add = [&](const std::string& key, const std::string& value) {
    if (!value.empty()) query += (query.empty() ? "" : "&") + key + "=" + ApiClient::Escape(value);
  };
  add("sweep", flags.sweep);
  add("status", flags.status);
  nlohmann::json answer;
  if (flags.limit > 0) {
    add("limit", std::to_string(flags.limit));
    TY_ASSIGN_OR_RETURN(answer, context.api.Get("/api/v1/jobs?" + query));
  } else {
    TY_ASSIGN_OR_RETURN(nlohmann::json jobs, ListAllJobs(context.api, query));
    answer = {{"jobs", jobs}};
  }
  if (context.json_output) {
    context.PrintJson(answer);
  } else {
    context.Print(JobsTable(answer.value("jobs", nlohmann::json::array())));
  }
  return Status::Ok();
}

Status Logs(const ClientContext& context) {
  const ClientJobFlags& flags = context.state.job;
  if (!flags.follow) {
    TY_ASSIGN_OR_RETURN(client::HttpResponse log,
                        context.api.Send("GET", JobPath(flags.name) + "/logs"));
    context.Print(log.body);
    return Status::Ok();
  }
  bool ended = false;
  TY_RETURN_IF_ERROR(context.api.StreamEvents(
      JobPath(flags.name) + "/logs?follow=1", [&](const client::SseEvent& event) {
        if (event.event == "end") {
          ended = true;
          return false;
        }
        if (event.event != "log") return true;
        if (context.json_output) {
          context.Print(event.data + "\n");
          return true;
        }
        nlohmann::json data = nlohmann::json::parse(event.data, nullptr, false);
        if (!data.is_discarded() && data.is_object() && data.contains("line") &&
            data["line"].is_string()) {
          context.Print(data["line"].get<std::string>() + "\n");
        } else {
          context.Print(event.data + "\n");
        }
        return true;
      }));
  if (!ended) return Unavailable("the server closed the log stream before the job ended");
  return Status::Ok();
}

Status DownloadJobFile(const ClientContext& context) {
  const ClientJobFlags& flags = context.state.job;
  static const std::map<std::string, std::string> kDefaultNames = {{"log", "training.log"},
                                                                   {"model", "model.tar.gz"},
                                                                   {"output", "output.tar.gz"},
                                                                   {"job.json", "job.json"},
                                                                   {"predictions", "predictions"}};
  client::DownloadRequest request;
  request.path = JobPath(flags.name) + "/artifacts/" + ApiClient::Escape(flags.artifact);
  auto name = kDefaultNames.find(flags.artifact);
  request.fallback_name = name == kDefaultNames.end() ? flags.artifact : name->second;
  request.output = flags.output_file;
  // Only predictions take their name from the server (the file inside output.tar.gz).
  if (request.output.empty() && flags.artifact != "predictions") {
    request.output = request.fallback_name;
  }
  request.progress = context.ProgressBar("downloading " + flags.artifact);
  TY_ASSIGN_OR_RETURN(std::filesystem::path written, context.api.Download(request));
  std::fprintf(context.err, "wrote %s\n", written.c_str());
  return Status::Ok();
}

}  // namespace

Result<nlohmann::json> ListAllJobs(ApiClient& api, const std::string& query) {
  nlohmann::json jobs = nlohmann::json::array();
  std::string token;
  std::set<std::string> seen_tokens;
  while (true) {
    std::string page_query = query;
    if (!token.empty()) {
      page_query +=
          (page_query.empty() ? "" : "&") + std::string("page_token=") + ApiClient::Escape(token);
    }
    TY_ASSIGN_OR_RETURN(nlohmann::json page,
                        api.Get("/api/v1/jobs" + (page_query.empty() ? "" : "?" + page_query)));
    for (const nlohmann::json& job : page.value("jobs", nlohmann::json::array())) {
      jobs.push_back(job);
    }
    if (!page.contains("next_page_token") || !page["next_page_token"].is_string()) break;
    token = page["next_page_token"].get<std::string>();
    if (token.empty()) break;
    // A server that hands out the same token twice would keep us here for ever.
    if (!seen_tokens.insert(token).second) {
      return Internal("the server returned page token '" + token + "' twice");
    }
  }
  return jobs;
}

Status RunJobCommand(const std::string& command, const ClientContext& context) {
  const ClientJobFlags& flags = context.state.job;
  if (command == "job list") return ListJobs(context);
  if (command == "job logs") return Logs(context);
  if (command == "job download") return DownloadJobFile(context);
  if (command == "job show") {
    TY_ASSIGN_OR_RETURN(nlohmann::json job, context.api.Get(JobPath(flags.name)));
    context.json_output ? context.PrintJson(job) : context.Print(JobDetails(job));
    return Status::Ok();
  }
  if (command == "job stop") {
    TY_ASSIGN_OR_RETURN(nlohmann::json job, context.api.Post(JobPath(flags.name) + "/stop"));
    context.json_output ? context.PrintJson(job)
                        : context.Print("stopping job " + flags.name + " (" + JobStatus(job) +
                                        ", " + Cell(job, "secondary_status") + ")\n");
    return Status::Ok();
  }
  return Internal("unknown command '" + command + "'");
}

}  // namespace trainyard::app
