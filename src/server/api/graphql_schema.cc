#include "server/api/graphql_schema.h"

#include <cctype>
#include <charconv>

#include "control/sweep_request.h"
#include "server/api/api_operations.h"
#include "server/api/representations.h"

namespace trainyard::server {
namespace {

using graphql::FieldDefinition;
using graphql::FieldRequest;
using graphql::InputValueDefinition;
using graphql::TypeDefinition;
using graphql::TypeKind;
using nlohmann::json;

// The REST document's key for a GraphQL field: createdAt reads created_at.
std::string SnakeCase(const std::string& name) {
  std::string key;
  for (char c : name) {
    if (std::isupper(static_cast<unsigned char>(c))) {
      key += '_';
      key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      key += c;
    }
  }
  return key;
}

FieldDefinition Field(std::string name, std::string type, std::string description,
                      graphql::Resolver resolve = nullptr) {
  FieldDefinition field;
  field.key = SnakeCase(name);
  field.name = std::move(name);
  field.type = std::move(type);
  field.description = std::move(description);
  field.resolve = std::move(resolve);
  return field;
}

InputValueDefinition Argument(std::string name, std::string type, std::string description,
                              std::optional<std::string> default_value = std::nullopt) {
  InputValueDefinition argument;
  argument.name = std::move(name);
  argument.type = std::move(type);
  argument.description = std::move(description);
  argument.default_value = std::move(default_value);
  return argument;
}

TypeDefinition Object(std::string name, std::string description,
                      std::vector<FieldDefinition> fields) {
  TypeDefinition type;
  type.kind = TypeKind::kObject;
  type.name = std::move(name);
  type.description = std::move(description);
  type.fields = std::move(fields);
  return type;
}

TypeDefinition Enum(std::string name, std::string description,
                    std::vector<std::pair<std::string, std::string>> values) {
  TypeDefinition type;
  type.kind = TypeKind::kEnum;
  type.name = std::move(name);
  type.description = std::move(description);
  for (auto& [value, meaning] : values) {
    type.enum_values.push_back({std::move(value), std::move(meaning), std::nullopt});
  }
  return type;
}

std::string Text(const json& arguments, const std::string& name) {
  return arguments.contains(name) && arguments[name].is_string()
             ? arguments[name].get<std::string>()
             : "";
}

// The page token a cursor carries; InvalidArgument naming the argument for any other text.
Result<int64_t> CursorPosition(const std::string& cursor) {
  if (cursor.empty()) return int64_t{0};
  int64_t position = 0;
  auto [end, error] = std::from_chars(cursor.data(), cursor.data() + cursor.size(), position);
  if (error != std::errc() || end != cursor.data() + cursor.size() || position < 0) {
    return control::FieldError("after", "'" + cursor + "' is not a cursor from this API");
  }
  return position;
}

// A JobConnection for jobs(...) and Sweep.jobs(...): the REST API's page as edges.
Result<json> JobConnection(metadata::MetadataStore& metadata, const std::string& sweep_id,
                           const json& arguments) {
  JobListing listing;
  listing.sweep_id = sweep_id;
  listing.status = Text(arguments, "status");
  listing.limit = arguments.value("first", int64_t{100});
  listing.limit_field = "first";
  TY_ASSIGN_OR_RETURN(listing.after, CursorPosition(Text(arguments, "after")));
  TY_ASSIGN_OR_RETURN(JobPageDocument page, ListJobs(metadata, listing));
  json edges = json::array();
  for (size_t i = 0; i < page.jobs.size(); ++i) {
    edges.push_back({{"cursor", page.cursors[i]}, {"node", page.jobs[i]}});
  }
  // Keys as the fields' snake_case (Field's default key).
  return json{{"edges", edges},
              {"nodes", page.jobs},
              {"page_info",
               {{"has_next_page", page.next_page_token.has_value()},
                {"end_cursor", page.cursors.empty() ? json() : json(page.cursors.back())}}}};
}

// The sweep's full document, read once per request however many fields ask for it.
Result<json> MemoSweep(metadata::MetadataStore& metadata, const FieldRequest& request,
                       const std::string& id) {
  const std::string key = "sweep:" + id;
  if (auto it = request.memo.find(key); it != request.memo.end()) return it->second;
  TY_ASSIGN_OR_RETURN(json sweep, GetSweepDocument(metadata, id));
  request.memo[key] = sweep;
  return sweep;
}

json MetricPointsJson(const std::vector<metadata::MetricPoint>& points) {
  json list = json::array();
  for (const auto& point : points) list.push_back(MetricPointJson(point));
  return list;
}

}  // namespace

Result<std::shared_ptr<const graphql::Schema>> BuildGraphqlSchema(metadata::MetadataStore& metadata,
                                                                  control::Scheduler& scheduler) {
  auto schema = std::make_shared<graphql::Schema>();
  metadata::MetadataStore* store = &metadata;
  control::Scheduler* jobs = &scheduler;

  TypeDefinition json_scalar;
  json_scalar.kind = TypeKind::kScalar;
  json_scalar.name = "JSON";
  json_scalar.description =
      "Any JSON value, as the REST API carries it: hyperparameters, a sweep's request, a job's "
      "progress, counts by state.";
  schema->Add(std::move(json_scalar));

  schema->Add(Enum("JobStatus", "A job's status, as SageMaker's TrainingJobStatus.",
                   {{"InProgress", "Queued or running (see Job.queued)."},
                    {"Completed", ""},
                    {"Failed", ""},
                    {"Stopping", ""},
                    {"Stopped", ""}}));
  schema->Add(Enum("JobStatusFilter", "Which jobs jobs(status:) lists.",
                   {{"Queued", "Not started yet."},
                    {"InProgress", "Running (started, not ended)."},
                    {"Stopping", ""},
                    {"Completed", ""},
                    {"Failed", ""},
                    {"Stopped", ""}}));

  auto page_arguments = [] {
    return std::vector<InputValueDefinition>{
        Argument("status", "JobStatusFilter", "Only the jobs in this state."),
        Argument("first", "Int", "How many jobs, 1 to 1000.", "100"),
        Argument("after", "String", "The jobs after this cursor (an edge's or endCursor).")};
  };

  schema->Add(
      Object("PageInfo", "Where a page of a connection ends.",
             {Field("hasNextPage", "Boolean!", "More items follow endCursor."),
              Field("endCursor", "String", "The last item's cursor; null on an empty page.")}));
  schema->Add(Object("JobEdge", "One job of a page, with its cursor.",
                     {Field("cursor", "String!", "Ask for the jobs after this one with after:."),
                      Field("node", "Job!", "")}));
  schema->Add(Object("JobConnection", "A page of jobs, in queue order.",
                     {Field("edges", "[JobEdge!]!", ""),
                      Field("nodes", "[Job!]!", "The edges' jobs, without their cursors."),
                      Field("pageInfo", "PageInfo!", "")}));

  schema->Add(Object("StatusTransition", "A step of a job's way (SageMaker's secondary status).",
                     {Field("status", "String!", "Starting, Downloading, Training, ..."),
                      Field("startTime", "String!", "ISO 8601."),
                      Field("endTime", "String", "ISO 8601; null while in this step."),
                      Field("statusMessage", "String!", "")}));
  schema->Add(Object("MetricPoint", "One reported value of a metric.",
                     {Field("name", "String!", ""), Field("value", "Float!", ""),
                      Field("step", "Int", "The step it was reported at, if any."),
                      Field("timestamp", "String!", "ISO 8601.")}));

  FieldDefinition metric_history =
      Field("metricHistory", "[MetricPoint!]!", "Every reported value, in order.",
            [store](const FieldRequest& r) -> Result<json> {
              TY_ASSIGN_OR_RETURN(auto points,
                                  store->ListMetricPoints(r.parent["name"].get<std::string>(),
                                                          Text(r.arguments, "name")));
              return MetricPointsJson(points);
            });
  metric_history.arguments = {Argument("name", "String", "Only this metric.")};
  schema->Add(Object(
      "Job", "One training job of a sweep: one combination of hyperparameters.",
      {Field("name", "ID!", "Its unique name, e.g. digits-3fa9c1-002."),
       Field("sweepId", "ID!", ""),
       Field("sweep", "Sweep!", "The sweep it belongs to.",
             [store](const FieldRequest& r) {
               return MemoSweep(*store, r, r.parent["sweep_id"].get<std::string>());
             }),
       Field("index", "Int!", "Its place in the sweep."),
       Field("executor", "String!", "Where it runs: local, container, sagemaker, slurm."),
       Field("hyperparameters", "JSON!", ""),
       Field("queued", "Boolean!", "Not started yet."),
       Field("status", "JobStatus!", ""),
       Field("secondaryStatus", "String!", "Starting, Downloading, Training, Uploading, ..."),
       Field("transitions", "[StatusTransition!]!", ""),
       Field("failureReason", "String!", "Empty unless it failed."),
       Field("exitCode", "Int", "The command's exit code once it has ended."),
       Field("image", "String!",
             "The training image as requested (container jobs); empty till resolved."),
       Field("imageDigest", "String!",
             "What exactly ran: REPOSITORY@sha256:..., or the image id of an image from no "
             "registry; empty until resolved."),
       Field("progress", "JSON", "The latest progress it reported."),
       Field("metrics", "JSON!", "The latest value of each metric, by name."),
       std::move(metric_history),
       Field("attempt", "Int!", "1, then one more each time it is retried."),
       Field("createdAt", "String!", "ISO 8601."),
       Field("startedAt", "String", "ISO 8601."),
       Field("endedAt", "String", "ISO 8601."),
       Field("durationSeconds", "Float", "Seconds since it started, until it ended.")}));

  schema->Add(Object(
      "BestJob", "A sweep's best job so far by its objective.",
      {Field("name", "ID!", ""), Field("metric", "String!", ""), Field("value", "Float!", ""),
       Field("hyperparameters", "JSON!", ""),
       Field("job", "Job!", "The job itself.", [store](const FieldRequest& r) -> Result<json> {
         TY_ASSIGN_OR_RETURN(metadata::JobRecord job,
                             store->GetJob(r.parent["name"].get<std::string>()));
         return JobJson(job);
       })}));

  // A listed sweep carries its counts but not its progress or best job: read on demand.
  auto detail = [store](const std::string& key) {
    return [store, key](const FieldRequest& r) -> Result<json> {
      if (r.parent.contains(key)) return r.parent[key];
      TY_ASSIGN_OR_RETURN(json sweep, MemoSweep(*store, r, r.parent["id"].get<std::string>()));
      return sweep.value(key, json());
    };
  };
  FieldDefinition sweep_jobs = Field(
      "jobs", "JobConnection!", "Its jobs, a page at a time.", [store](const FieldRequest& r) {
        return JobConnection(*store, r.parent["id"].get<std::string>(), r.arguments);
      });
  sweep_jobs.arguments = page_arguments();
  schema->Add(
      Object("Sweep", "A set of hyperparameter combinations, each run as a job.",
             {Field("id", "ID!", ""), Field("name", "String!", ""),
              Field("createdAt", "String!", ""), Field("stopRequested", "Boolean!", ""),
              Field("spec", "JSON!", "The request it was created from, as checked (docs/api.md)."),
              Field("jobCount", "Int!", ""),
              Field("counts", "JSON!", "How many of its jobs are in each state, by state."),
              Field("progress", "Float!", "From 0 to 1, over all its jobs.", detail("progress")),
              Field("bestJob", "BestJob", "Null without an objective or a reported value.",
                    detail("best_job")),
              std::move(sweep_jobs)}));

  schema->Add(Object("Dataset", "An uploaded file that jobs read as a channel.",
                     {Field("id", "ID!", ""), Field("name", "String!", ""),
                      Field("kind", "String!", "training, evaluation, pretrained, config, ..."),
                      Field("filename", "String!", ""),
                      Field("size", "Float!", "Bytes (a Float: sizes pass 2^31)."),
                      Field("sha256", "String!", "Hex."), Field("contentType", "String!", ""),
                      Field("createdAt", "String!", "ISO 8601.")}));

  FieldDefinition sweep = Field(
      "sweep", "Sweep", "One sweep; null with a NotFound error.",
      [store](const FieldRequest& r) { return MemoSweep(*store, r, Text(r.arguments, "id")); });
  sweep.arguments = {Argument("id", "ID!", "")};
  FieldDefinition job_list =
      Field("jobs", "JobConnection!", "Jobs of every sweep or of one, a page at a time.",
            [store](const FieldRequest& r) {
              return JobConnection(*store, Text(r.arguments, "sweep"), r.arguments);
            });
  job_list.arguments = page_arguments();
  job_list.arguments.insert(job_list.arguments.begin(),
                            Argument("sweep", "ID", "Only the jobs of this sweep."));
  FieldDefinition job = Field("job", "Job", "One job; null with a NotFound error.",
                              [store](const FieldRequest& r) -> Result<json> {
                                TY_ASSIGN_OR_RETURN(metadata::JobRecord record,
                                                    store->GetJob(Text(r.arguments, "name")));
                                return JobJson(record);
                              });
  job.arguments = {Argument("name", "ID!", "")};
  FieldDefinition dataset = Field("dataset", "Dataset", "One dataset; null with a NotFound error.",
                                  [store](const FieldRequest& r) -> Result<json> {
                                    TY_ASSIGN_OR_RETURN(metadata::DatasetRecord record,
                                                        store->GetDataset(Text(r.arguments, "id")));
                                    return DatasetJson(record);
                                  });
  dataset.arguments = {Argument("id", "ID!", "")};
  FieldDefinition metrics = Field(
      "metrics", "[MetricPoint!]!", "A job's metric history.",
      [store](const FieldRequest& r) -> Result<json> {
        std::string name = Text(r.arguments, "job");
        TY_RETURN_IF_ERROR(store->GetJob(name).status());
        TY_ASSIGN_OR_RETURN(auto points, store->ListMetricPoints(name, Text(r.arguments, "name")));
        return MetricPointsJson(points);
      });
  metrics.arguments = {Argument("job", "ID!", "The job's name."),
                       Argument("name", "String", "Only this metric.")};
  schema->Add(Object("Query", "What can be read.",
                     {Field("sweeps", "[Sweep!]!", "Every sweep.",
                            [store](const FieldRequest&) { return ListSweepSummaries(*store); }),
                      std::move(sweep), std::move(job_list), std::move(job),
                      Field("datasets", "[Dataset!]!", "Every dataset.",
                            [store](const FieldRequest&) -> Result<json> {
                              TY_ASSIGN_OR_RETURN(auto records, store->ListDatasets());
                              json list = json::array();
                              for (const auto& record : records)
                                list.push_back(DatasetJson(record));
                              return list;
                            }),
                      std::move(dataset), std::move(metrics)}));

  FieldDefinition create =
      Field("createSweep", "Sweep!",
            "Creates a sweep from the REST API's request body (docs/api.md, POST /api/v1/sweeps); "
            "errors name the field at fault in extensions.field.",
            [store, jobs](const FieldRequest& r) -> Result<json> {
              json body = r.arguments["request"];
              if (std::string key = Text(r.arguments, "idempotencyKey");
                  !key.empty() && body.is_object() && !body.contains("idempotency_key")) {
                body["idempotency_key"] = key;
              }
              TY_ASSIGN_OR_RETURN(CreatedSweepDocument created, CreateSweep(*store, *jobs, body));
              return created.sweep;
            });
  create.arguments = {
      Argument("request", "JSON!", "The sweep request, as POST /api/v1/sweeps takes it."),
      Argument("idempotencyKey", "String",
               "A repeat with the same key returns the first sweep instead of a new one.")};
  FieldDefinition stop_sweep =
      Field("stopSweep", "Sweep!", "Stops every queued and running job of the sweep.",
            [store, jobs](const FieldRequest& r) {
              return StopSweep(*store, *jobs, Text(r.arguments, "id"));
            });
  stop_sweep.arguments = {Argument("id", "ID!", "")};
  FieldDefinition stop_job =
      Field("stopJob", "Job!", "Stops the job.", [store, jobs](const FieldRequest& r) {
        return StopJob(*store, *jobs, Text(r.arguments, "name"));
      });
  stop_job.arguments = {Argument("name", "ID!", "")};
  FieldDefinition retry = Field(
      "retryFailedJobs", "[Job!]!", "Queues the sweep's failed and stopped jobs again.",
      [store, jobs](const FieldRequest& r) -> Result<json> {
        TY_ASSIGN_OR_RETURN(auto names, RetrySweep(*store, *jobs, Text(r.arguments, "sweep")));
        json list = json::array();
        for (const std::string& name : names) {
          TY_ASSIGN_OR_RETURN(metadata::JobRecord record, store->GetJob(name));
          list.push_back(JobJson(record));
        }
        return list;
      });
  retry.arguments = {Argument("sweep", "ID!", "The sweep's id.")};
  schema->Add(
      Object("Mutation", "What can be changed.",
             {std::move(create), std::move(stop_sweep), std::move(stop_job), std::move(retry)}));

  // Subscriptions (over WebSocket, graphql_ws.h): each event is the root value, shaped by
  // graphql_ws.cc as Update or LogLine; the root fields hand it on.
  schema->Add(Object(
      "Update",
      "An event of a job or a sweep, as GET /api/v1/events sends it: a status change, a progress "
      "report, new metrics, ...",
      {Field("id", "Int!", "The event's id: increasing, and per job in the order things happened."),
       Field("type", "String!", "job.created, job.status, job.progress, job.metrics, ..."),
       Field("sweepId", "ID!", ""),
       Field("jobName", "ID", "The job it is about; null for a sweep's own events."),
       Field("time", "String!", "ISO 8601."),
       Field("status", "JobStatus", "job.status: the job's new status."),
       Field("secondaryStatus", "String", "job.status: Starting, Downloading, Training, ..."),
       Field("progress", "JSON",
             "job.progress: the job's latest progress (a slow subscriber gets the newest one)."),
       Field("metrics", "JSON", "job.metrics: the newest point of each metric reported."),
       Field("data", "JSON!", "The event's data, as the event stream carries it."),
       Field("job", "Job", "The job as it is now (read when this update is sent).",
             [store](const FieldRequest& r) -> Result<json> {
               if (!r.parent.contains("job_name") || !r.parent["job_name"].is_string() ||
                   r.parent["job_name"].get<std::string>().empty()) {
                 return json();
               }
               TY_ASSIGN_OR_RETURN(metadata::JobRecord job,
                                   store->GetJob(r.parent["job_name"].get<std::string>()));
               return JobJson(job);
             })}));
  schema->Add(Object("LogLine", "A line of a job's training log.",
                     {Field("id", "Int!", "Increasing within the job's log."),
                      Field("stream", "String!", "stdout or stderr."), Field("line", "String!", ""),
                      Field("timestamp", "String!", "ISO 8601.")}));
  auto pass_event = [](const FieldRequest& r) -> Result<json> { return r.parent; };
  FieldDefinition job_updates =
      Field("jobUpdates", "Update!",
            "The job's events: every status change in order, its progress and metrics (the "
            "newest, when the subscriber reads slower than they come).",
            pass_event);
  job_updates.arguments = {
      Argument("job", "ID!", "The job's name."),
      Argument("after", "Int",
               "Replay the job's events after this event id first; by default only new ones.")};
  FieldDefinition sweep_updates = Field(
      "sweepUpdates", "Update!",
      "The events of each of the sweep's jobs and of the sweep itself, as jobUpdates.", pass_event);
  sweep_updates.arguments = {
      Argument("sweep", "ID!", "The sweep's id."),
      Argument("after", "Int",
               "Replay the sweep's events after this event id first; by default only new ones.")};
  FieldDefinition job_log =
      Field("jobLog", "LogLine!",
            "The job's log lines from the first, then new ones as they come; completes once the "
            "job has ended and every line was sent.",
            pass_event);
  job_log.arguments = {Argument("job", "ID!", "The job's name."),
                       Argument("after", "Int", "Only the lines after this line id.", "0")};
  schema->Add(Object("Subscription",
                     "What can be followed live (over WebSocket, graphql-transport-ws).",
                     {std::move(job_updates), std::move(sweep_updates), std::move(job_log)}));

  schema->SetRootTypes("Query", "Mutation");
  schema->SetSubscriptionType("Subscription");
  if (Status finished = schema->Finish(); !finished.ok()) {
    return Internal("the GraphQL schema does not hold together: " + finished.message());
  }
  return std::shared_ptr<const graphql::Schema>(std::move(schema));
}

}  // namespace trainyard::server
