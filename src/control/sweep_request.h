// SweepRequest: the body of POST /api/v1/sweeps (docs/api.md), checked field by field, and
// turned into the jobs of the sweep.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "contract/job_definition.h"
#include "core/objective.h"
#include "core/sweep.h"

namespace trainyard::control {

struct SweepRequest {
  std::string name;
  std::vector<std::string> command;  // trainer.command
  std::string image;                 // trainer.image (executors that run images)
  std::string executor = "local";
  std::map<std::string, std::string> channels;  // channel name -> dataset id; 0 to 20
  core::SweepSpec sweep;                        // fixed hyperparameters, grid or combinations
  int max_parallel = 0;                         // 0: only the server's limits apply
  int64_t max_runtime_seconds = 86400;
  std::map<std::string, std::string> environment;
  contract::ResourceSettings resources;
  std::vector<contract::MetricDefinition> metric_definitions;
  std::optional<core::Objective> objective;  // goal absent: core::DefaultObjectiveGoal
  std::optional<std::string> idempotency_key;
  // A job that was running when the server died is queued again (as a new attempt) instead of
  // ending Failed.
  bool requeue_on_restart = false;
};

// InvalidArgument("field 'NAME': REASON") for the first field that is wrong: unknown fields,
// wrong types, SageMaker's limits (channel names, environment, hyperparameters, runtime), a
// sweep of more than `max_jobs` jobs.
Result<SweepRequest> ParseSweepRequest(const nlohmann::json& body);

// The canonical JSON of a request (what the server stores and shows); ParseSweepRequest reads
// it back to the same request.
nlohmann::json ToJson(const SweepRequest& request);

// "field 'grid.lr': must be an array" as an InvalidArgument status; the HTTP layer puts the
// field's name in the error's "field" member (FieldOfError).
Status FieldError(const std::string& field, const std::string& reason);
// The field named by a FieldError message, or "" for another message.
std::string FieldOfError(const Status& status);

}  // namespace trainyard::control
