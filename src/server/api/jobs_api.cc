// /api/v1/jobs, the wrapper's progress callback, and /api/v1/events.
#include <charconv>

#include "control/job_tokens.h"
#include "core/job_status.h"
#include "metadata/buffered_progress_store.h"
#include "server/api/api_operations.h"
#include "server/api/api_server.h"
#include "server/api/http_helpers.h"
#include "server/api/progress_decoder.h"
#include "server/api/representations.h"

namespace trainyard::server {
using nlohmann::json;

namespace {

std::string QueryValue(const HttpRequest& request, const std::string& key) {
  auto it = request.query.find(key);
  return it == request.query.end() ? "" : it->second;
}

Result<int64_t> QueryInteger(const HttpRequest& request, const std::string& key, int64_t fallback,
                             int64_t min, int64_t max) {
  std::string text = QueryValue(request, key);
  if (text.empty()) return fallback;
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return control::FieldError(
        key, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return value;
}

bool IsEnded(const metadata::JobRecord& job) {
  return core::IsTerminal(job.status);
}

}  // namespace

void ApiServer::ListJobs(const HttpRequest& request, ResponseWriter& response) {
  auto limit = QueryInteger(request, "limit", 100, 1, 1000);
  if (!limit.ok()) return WriteError(response, limit.status());
  auto after = QueryInteger(request, "page_token", 0, 0, INT64_MAX);
  if (!after.ok()) return WriteError(response, after.status());
  JobListing listing;
  listing.sweep_id = QueryValue(request, "sweep");
  listing.status = QueryValue(request, "status");
  listing.limit = *limit;
  listing.after = *after;
  auto page = server::ListJobs(metadata_, listing);
  if (!page.ok()) return WriteError(response, page.status());
  json answer = {{"jobs", page->jobs}};
  if (page->next_page_token) answer["next_page_token"] = *page->next_page_token;
  WriteJson(response, 200, answer);
}

void ApiServer::GetJob(const std::string& name, ResponseWriter& response) {
  auto job = metadata_.GetJob(name);
  if (!job.ok()) return WriteError(response, job.status());
  WriteJson(response, 200, JobJson(*job));
}

void ApiServer::StopJob(const std::string& name, ResponseWriter& response) {
  auto job = server::StopJob(metadata_, scheduler_, name);
  if (!job.ok()) return WriteError(response, job.status());
  WriteJson(response, 200, *job);
}

void ApiServer::JobMetrics(const HttpRequest& request, const std::string& name,
                           ResponseWriter& response) {
  auto points = metadata_.ListMetricPoints(name, QueryValue(request, "name"));
  if (!points.ok()) return WriteError(response, points.status());
  json list = json::array();
  for (const auto& point : *points) list.push_back(MetricPointJson(point));
  WriteJson(response, 200, {{"metrics", list}});
}

void ApiServer::JobLogs(const HttpRequest& request, const std::string& name,
                        ResponseWriter& response) {
  auto job = metadata_.GetJob(name);
  if (!job.ok()) return WriteError(response, job.status());
  if (QueryValue(request, "follow") == "1" || QueryValue(request, "follow") == "true") {
    int64_t after = 0;
    std::string last = request.Header("last-event-id");
    if (!last.empty()) std::from_chars(last.data(), last.data() + last.size(), after);
    EventStreamPtr stream = response.DetachEventStream();
    if (stream) events_.FollowLog(std::move(stream), name, after);
    return;
  }
  // The stored log once the job has ended; the lines reported so far while it runs.
  std::string key = control::OutputPrefix(name) + "training.log";
  if (IsEnded(*job) && objects_.Head(key).ok()) {
    return SendObject(request, key, "text/plain; charset=utf-8", "", response);
  }
  response.SetStatus(200);
  response.SetHeader("Content-Type", "text/plain; charset=utf-8");
  int64_t after = 0;
  while (true) {
    auto lines = metadata_.ListLogLines(name, after, 1000);
    if (!lines.ok()) return WriteError(response, lines.status());
    std::string text;
    for (const auto& line : *lines) {
      text += line.line;
      text += '\n';
      after = line.id;
    }
    if (!text.empty() && !response.Write(text).ok()) return;
    if (lines->size() < 1000) return;
  }
}

void ApiServer::JobArtifact(const HttpRequest& request, const std::string& name,
                            const std::string& artifact, ResponseWriter& response) {
  auto job = metadata_.GetJob(name);
  if (!job.ok()) return WriteError(response, job.status());
  const std::string prefix = control::OutputPrefix(name);
  struct Known {
    const char* file;
    const char* content_type;
  };
  static const std::map<std::string, Known> known = {
      {"log", {"training.log", "text/plain; charset=utf-8"}},
      {"model", {"model.tar.gz", "application/gzip"}},
      {"output", {"output.tar.gz", "application/gzip"}},
      {"job.json", {"job.json", "application/json"}},
      {"metrics", {"metrics.jsonl", "application/x-ndjson"}}};
  std::string key, content_type, download_name;
  if (artifact == "predictions") {
    auto listed = objects_.List(prefix + "predictions", "", 1);
    if (!listed.ok()) return WriteError(response, listed.status());
    if (listed->objects.empty()) {
      return WriteError(
          response,
          NotFound("job '" + name + "' has no predictions file (" +
                   (IsEnded(*job) ? "its output/data held none" : "it has not ended") + ")"));
    }
    key = listed->objects[0].key;
    content_type = "application/octet-stream";
    download_name = key.substr(prefix.size());
  } else if (auto it = known.find(artifact); it != known.end()) {
    key = prefix + it->second.file;
    content_type = it->second.content_type;
    download_name = name + "-" + it->second.file;
  } else {
    return WriteError(response, NotFound("no artifact '" + artifact +
                                         "' (log, model, output, predictions, job.json, "
                                         "metrics)"));
  }
  if (!objects_.Head(key).ok()) {
    return WriteError(response, NotFound("job '" + name + "' has no " + artifact + " yet (" +
                                         core::ToString(job->status) + ")"));
  }
  SendObject(request, key, content_type, download_name, response);
}

void ApiServer::RecordProgress(const HttpRequest& request, const std::string& name,
                               BodyReader& body, ResponseWriter& response) {
  // The server's store takes reports into memory and writes them behind
  // (metadata/buffered_progress_store.h, wired by app); any other store writes each at once.
  auto* behind = dynamic_cast<metadata::BufferedProgressStore*>(&metadata_);
  // One answer for an unknown job and a wrong token: a token must not reveal which jobs exist.
  const Status refused(StatusCode::kUnauthenticated, "the job token is not valid for this job");
  std::string token = BearerToken(request);
  const std::string presented = token.empty() ? std::string() : control::TokenSha256(token);
  Result<metadata::JobCallbackCheck> job = Internal("not read");
  if (behind != nullptr) {
    job = behind->GetJobCallbackCheck(name, presented);
  } else if (auto record = metadata_.GetJob(name); record.ok()) {
    job = metadata::JobCallbackCheck::Of(*record);
  }
  if (token.empty() || !job.ok() || job->token_sha256.empty() ||
      !control::ConstantTimeEquals(presented, job->token_sha256)) {
    return WriteError(response, refused);
  }
  if (!job->running()) {
    return WriteError(response,
                      Status(StatusCode::kPermissionDenied,
                             "job '" + name + "' is not running (" + core::ToString(job->status) +
                                 "): its token works only while it runs"));
  }
  auto document = ReadJsonBody(body, options_.max_json_bytes, options_.max_json_depth);
  if (!document.ok()) return WriteError(response, document.status());
  auto update = DecodeProgress(*document);
  if (!update.ok()) return WriteError(response, update.status());
  for (metadata::LogLine& line : update->log) line.line = options_.secret_mask.Apply(line.line);
  update->max_metric_names = options_.max_metric_names_per_job;
  metadata::ProgressTaken taken;
  if (behind != nullptr) {
    auto behind_taken = behind->RecordProgressBehind(name, *update, IsLastReport(*document));
    if (!behind_taken.ok()) return WriteError(response, behind_taken.status());
    taken = std::move(behind_taken).value();
  } else {
    auto recorded = metadata_.RecordProgress(name, *update);
    if (!recorded.ok()) return WriteError(response, recorded.status());
    taken.recorded = std::move(recorded).value();
  }
  // Both answered 204 all the same: a repeat is already stored, and the points beyond the cap
  // would be refused again on every retry.
  metadata::LogUnstoredProgress("api", name, *update, taken.recorded);
  // New events, or log lines for followers; reports in memory are announced once written.
  if (!taken.recorded.repeated && !taken.buffered) events_.Notify();
  response.SetStatus(204);
}

void ApiServer::Events(const HttpRequest& request, ResponseWriter& response) {
  metadata::EventFilter filter{QueryValue(request, "sweep"), QueryValue(request, "job")};
  std::string last = request.Header("last-event-id");
  if (last.empty()) last = QueryValue(request, "after");
  int64_t after = -1;
  if (!last.empty()) {
    auto [end, error] = std::from_chars(last.data(), last.data() + last.size(), after);
    if (error != std::errc() || end != last.data() + last.size() || after < 0) {
      return WriteError(
          response,
          control::FieldError(request.Header("last-event-id").empty() ? "after" : "Last-Event-ID",
                              "must be an event id"));
    }
  }
  if (after < 0) {
    // A new client starts from now; a reconnecting one from what it saw.
    auto newest = metadata_.LastEventId();
    if (!newest.ok()) return WriteError(response, newest.status());
    after = *newest;
  }
  EventStreamPtr stream = response.DetachEventStream();
  if (!stream) return;
  stream->Send("retry: 2000\n\n");
  events_.Subscribe(std::move(stream), filter, after);
}

}  // namespace trainyard::server
