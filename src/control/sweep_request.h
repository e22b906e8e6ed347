// SweepRequest: the body of POST /api/v1/sweeps (docs/api.md), checked field by field, and
// turned into the jobs of the sweep. The server's other adapters on the scheduler (the
// SageMaker-compatible endpoint) build requests in code with a few fields of their own that a
// REST client may not give (object-store channels, output roots, the client's own request):
// those are read back only from a stored request (SweepRequestOrigin::kStored).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/status.h"
#include "contract/job_definition.h"
#include "core/objective.h"
#include "core/search.h"
#include "core/search_space.h"
#include "core/sweep.h"

namespace trainyard::control {

// Where a channel's data comes from.
// A dataset of the metadata store (its one file is the channel's content).
struct DatasetChannel {
  std::string dataset_id;
  bool operator==(const DatasetChannel&) const = default;
};
// Every object whose key starts with `key_prefix` in the scheduler's object store (what an S3
// URI names in the S3 endpoint's store), placed as SageMaker's S3Prefix places objects: each at
// its key minus the prefix's part up to and including its last '/' ("s3/objects/b/data/train"
// takes data/train.csv as train.csv and data/train/x.csv as train/x.csv). Stored requests only.
struct ObjectPrefixChannel {
  std::string key_prefix;
  bool operator==(const ObjectPrefixChannel&) const = default;
};
using ChannelSource = std::variant<DatasetChannel, ObjectPrefixChannel>;

// Where each request comes from: a client of the REST API, or the scheduler's own store (what
// CreateSweep wrote with ToJson, which may hold the fields only code may set).
enum class SweepRequestOrigin { kClient, kStored };

struct SweepRequest {
  std::string name;
  // The name of the sweep's one job, chosen by the caller (a valid SageMaker training job name;
  // CreateSweep refuses a name taken). Empty: <name>-<sweep id part>-<index>, one per job.
  std::string job_name;
  std::vector<std::string> command;  // trainer.command
  std::string image;                 // trainer.image (executors that run images)
  std::string executor = "local";
  std::map<std::string, ChannelSource> channels;  // by channel name; 0 to 20
  core::SweepSpec sweep;                          // fixed hyperparameters, grid or combinations
  // The strategy and, for every strategy but grid, the ranges it searches, max_jobs, the seed
  // and hyperband's settings (docs/search.md). A search's sweep.fixed goes into every job, and
  // its sweep holds no grid and one empty combination.
  core::SearchSpec search;
  // sweep.fixed holds hyperparameters as SageMaker takes them, strings given to the job exactly
  // as they are (no JSON decoding and encoding, no grid): the one job of the sweep.
  // JSON: "literal_hyperparameters": {"name": "string", ...}.
  bool literal_hyperparameters = false;
  int max_parallel = 0;  // 0: only the server's limits apply
  int64_t max_runtime_seconds = 86400;
  std::map<std::string, std::string> environment;
  contract::ResourceSettings resources;
  // The Slurm user the sweep's jobs run as on the slurm executor (its REST transport, among the
  // users the server may act as: docs/slurm.md, "Identity"); empty: the server's own.
  // JSON: "slurm": {"user": "alice"}.
  std::string slurm_user;
  std::vector<contract::MetricDefinition> metric_definitions;
  std::optional<core::Objective> objective;  // goal absent: core::DefaultObjectiveGoal
  std::optional<std::string> idempotency_key;
  // A job that was running when the server died is queued again (as a new attempt) instead of
  // ending Failed.
  bool requeue_on_restart = false;
  // Where the job's outputs go in the object store: model.tar.gz and output.tar.gz under
  // <output_root><job>/output/ (SageMaker's <S3OutputPath>/<job>/output/); the job's other files
  // (training.log, job.json, metrics.jsonl, predictions*) beside them, or under
  // <files_root><job>/ when files_root is given. Stored requests only (a REST client's jobs
  // keep the default, which the API serves).
  std::string output_root = "outputs/";
  std::string files_root;
  // Results a search starts from as if they were its first jobs (the SageMaker endpoint's warm
  // start: the completed jobs of its parent tuning jobs): each one's hyperparameters and final
  // objective value. They are no job of the sweep and count towards no limit (max_jobs counts
  // the sweep's own jobs). Stored requests only; JSON: "prior_trials": [{"hyperparameters":
  // {"name": "string", ...}, "objective": number}, ...].
  std::vector<core::Trial> prior_trials;
  // The caller's own request, kept with the sweep and never read by the scheduler (the
  // SageMaker endpoint's CreateTrainingJob, which DescribeTrainingJob echoes). Stored requests
  // only; null when none.
  nlohmann::json client_request;
};

// InvalidArgument("field 'NAME': REASON") for the first field that is wrong: unknown fields,
// wrong types, SageMaker's limits (channel names, environment, hyperparameters, runtime), a
// sweep of more than `max_jobs` jobs, a strategy or range that is not one (search_request.h);
// from a client, the fields of stored requests only.
Result<SweepRequest> ParseSweepRequest(const nlohmann::json& body,
                                       SweepRequestOrigin origin = SweepRequestOrigin::kClient);

// The canonical JSON of a request (what the server stores and shows); ParseSweepRequest reads
// it back to the same request.
nlohmann::json ToJson(const SweepRequest& request);

// "field 'grid.lr': must be an array" as an InvalidArgument status; the HTTP layer puts the
// field's name in the error's "field" member (FieldOfError).
Status FieldError(const std::string& field, const std::string& reason);
// The field named by a FieldError message, or "" for another message.
std::string FieldOfError(const Status& status);

}  // namespace trainyard::control
