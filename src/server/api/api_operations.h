// What the REST API (docs/api.md) and GraphQL (docs/graphql.md) both do, written once: each
// call checks its input, does the work through the Scheduler or the MetadataStore, and returns
// the API's JSON for the result. The HTTP handlers and the GraphQL resolvers only translate.
//
// Thread-safe as the Scheduler and the MetadataStore are.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/status.h"
#include "control/scheduler.h"
#include "metadata/metadata_store.h"

namespace trainyard::server {

// A sweep with its counts by state, progress and best job (GET /api/v1/sweeps/{id}).
Result<nlohmann::json> SweepDocument(metadata::MetadataStore& metadata,
                                     const metadata::SweepRecord& sweep);
Result<nlohmann::json> GetSweepDocument(metadata::MetadataStore& metadata, const std::string& id);
// Every sweep with its counts by state and job count (GET /api/v1/sweeps).
Result<nlohmann::json> ListSweepSummaries(metadata::MetadataStore& metadata);

struct CreatedSweepDocument {
  nlohmann::json sweep;  // as SweepDocument
  std::string id;
  bool created = true;  // false: an earlier sweep with the same idempotency key
};
// Checks `body` (control::ParseSweepRequest: InvalidArgument naming the field) and creates the
// sweep; NotFound when a channel's dataset does not exist.
Result<CreatedSweepDocument> CreateSweep(metadata::MetadataStore& metadata,
                                         control::Scheduler& scheduler, const nlohmann::json& body);
// Stops every queued and running job of the sweep; the sweep's document after.
Result<nlohmann::json> StopSweep(metadata::MetadataStore& metadata, control::Scheduler& scheduler,
                                 const std::string& id);
// Queues the sweep's failed and stopped jobs again; their names. NotFound for an unknown sweep.
Result<std::vector<std::string>> RetrySweep(metadata::MetadataStore& metadata,
                                            control::Scheduler& scheduler, const std::string& id);
// Stops the job; its document after.
Result<nlohmann::json> StopJob(metadata::MetadataStore& metadata, control::Scheduler& scheduler,
                               const std::string& name);

// A page of jobs (GET /api/v1/jobs): `status` empty or one of Queued, InProgress, Stopping,
// Completed, Failed, Stopped; `limit` 1 to 1000; the jobs after the page token `after` (a
// queue position; 0: from the first). InvalidArgument naming `status_field` or `limit_field`
// otherwise.
struct JobListing {
  std::string sweep_id, status;
  int64_t limit = 100;
  int64_t after = 0;
  std::string status_field = "status", limit_field = "limit";
};
struct JobPageDocument {
  nlohmann::json jobs;               // each as the job's document
  std::vector<std::string> cursors;  // each job's page token, to ask for the jobs after it
  std::optional<std::string> next_page_token;  // set when more jobs match
};
Result<JobPageDocument> ListJobs(metadata::MetadataStore& metadata, const JobListing& listing);

}  // namespace trainyard::server
