// The parts of running a job that every executor shares around its job root (a tree laid out
// exactly as SageMaker lays out /opt/ml): checking a spec, laying the root out, reading what the
// wrapper left there, and packing the artifacts as SageMaker does. The local executor runs
// trainyard-wrap over the root directly; the container executor mounts it at /opt/ml.
//
// Free functions over files only; thread-safe for distinct roots.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "contract/ml_root.h"
#include "executor/executor.h"

namespace trainyard::executor {

// SageMaker's limits on a job (name, hyperparameters, environment, max runtime, channels) and
// that every channel source exists. InvalidArgument or NotFound naming the bad value.
Status ValidateJobSpec(const JobSpec& spec);

// Writes the config files and copies every channel's source into input/data/<channel>
// (SageMaker's Downloading), then unpacks the spec's code_source into code/ unless code/ holds
// files already. Fails naming the channel or file it could not write, or
// sagemaker_submit_directory for a code archive that cannot be unpacked.
Status PrepareJobRoot(const contract::MlRoot& root, const JobSpec& spec);

// The last progress and metrics the wrapper wrote to output/trainyard-state.json; leaves both
// as they are when the file is missing or unreadable.
void ReadWrapperState(const contract::MlRoot& root, nlohmann::json* progress,
                      std::map<std::string, double>* metrics);

// The exit code the wrapper left in output/trainyard-exit.json, or nullopt.
std::optional<int> ReadWrapperExitCode(const contract::MlRoot& root);

// How the wrapper labelled the job's failure in output/trainyard-exit.json ("failure_type"):
// "ClientError" (the job's input or settings: a refused archive, a command that does not exist)
// or "InternalServerError" (trainyard itself) when it failed before the command ran; otherwise
// "AlgorithmError", the command's own failure.
std::string FailureType(const contract::MlRoot& root);

// SageMaker's FailureReason: FailureType + ": " + the first 1024 characters of output/failure,
// or the exit code when the command left no failure file.
std::string FailureReason(const contract::MlRoot& root, int exit_code);

// Packs model/ into model.tar.gz and output/data/ into output.tar.gz in `destination`, and copies
// training.log, job.json, metrics.jsonl and predictions* beside them, each whole or not at all
// (a temporary file renamed into place). Best effort: a file that cannot be packed or copied is
// logged and left out (files written before a stop are kept, as SageMaker does).
// Temporary files of a packing killed half-way (a server restart) are removed first.
void PackArtifacts(const contract::MlRoot& root, const std::filesystem::path& destination);

// Whether `name` is a temporary file of PackArtifacts ("model.tar.gz.tmp-Ab12Cd" of
// archive::PackTarGz, "training.log.tmp.<pid>.<n>" of CopyFileAtomic), never an artifact.
bool IsArtifactTemporary(const std::string& name);

// Where an executor whose jobs share its work dir's filesystem keeps its checkpoints
// (CheckpointSpec), one directory per name: <work_dir>/.checkpoints, outside every job's
// directory (no job name starts with a dot), so that a checkpoint outlives the job's root, and a
// restart leaves it alone.
std::filesystem::path CheckpointStoreRoot(const std::filesystem::path& work_dir);

// trainyard-wrap's variables for the spec's checkpoint in shared-directory mode:
// TRAINYARD_CHECKPOINT_STORE and TRAINYARD_CHECKPOINT_RESTORE_FROM, directories under
// `store_root` (CheckpointStoreRoot, or where a container sees it).
// Nothing for a spec without a checkpoint.
void AddCheckpointVariables(const JobSpec& spec, const std::filesystem::path& store_root,
                            std::map<std::string, std::string>* environment);

// Where an executor that keeps its jobs across restarts (local with detach_jobs, container)
// records each job: <work_dir>/<job>/executor-state.json, rewritten atomically.
inline constexpr char kExecutorStateFileName[] = "executor-state.json";

// A kill during a WriteFileAtomic of the state leaves its temporary file beside it
// ("executor-state.json.tmp.*"): removes those in `job_dir`, logging what cannot be removed.
void RemoveHalfWrittenStates(const std::filesystem::path& job_dir);

// Removes `path` and everything under it, logging a failure: what a restart found no use for.
void RemoveLeftover(const std::filesystem::path& path);

// The state files of the jobs recorded under `work_dir`, for an executor adopting them after a
// restart. On the way it removes what a kill left: a job directory without a record (its job
// never ran; whoever submitted it may submit it again) and half-written states. An absent
// work_dir has no jobs; Internal when it cannot be listed.
Result<std::vector<std::filesystem::path>> RecordedJobStates(const std::filesystem::path& work_dir);

}  // namespace trainyard::executor
