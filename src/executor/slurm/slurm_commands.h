// SlurmCommands: the SlurmTransport over Slurm's own client commands, as a user at a login node
// runs them: `sbatch --parsable`, `squeue --json`, `scancel`. Each call runs one command with
// the options' environment (SLURM_CONF, PATH, ...), never the caller's own.
//
// Thread-safe (no shared state).
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "executor/slurm/slurm_transport.h"

namespace trainyard::executor {

struct SlurmCommandsOptions {
  // The environment the commands run with (PATH, SLURM_CONF, ...), usually the server's own.
  // Jobs never see it: sbatch is told which variables to export.
  std::map<std::string, std::string> environment;
  // Where sbatch, squeue and scancel are; empty: looked up on the environment's PATH.
  std::filesystem::path bin_dir;
  std::chrono::milliseconds timeout{30'000};  // per command
};

class SlurmCommands : public SlurmTransport {
 public:
  // NotFound naming the command that is not installed.
  static Result<std::unique_ptr<SlurmCommands>> Create(SlurmCommandsOptions options);

  std::string name() const override { return "commands"; }
  // The commands run as the server's own Unix user: FailedPrecondition for any other user.
  Status CheckUser(const std::string& user) const override;
  Result<std::string> Submit(const SlurmSubmission& submission) override;
  Result<std::vector<SlurmJobInfo>> ListJobs(const std::string& user) override;
  Status Signal(const std::string& job_id, const std::string& signal_name,
                const std::string& user) override;
  Status Cancel(const std::string& job_id, const std::string& user) override;

 private:
  SlurmCommands(SlurmCommandsOptions options, std::filesystem::path sbatch,
                std::filesystem::path squeue, std::filesystem::path scancel);
  Status RunScancel(const std::vector<std::string>& arguments, const std::string& job_id);

  SlurmCommandsOptions options_;
  std::filesystem::path sbatch_, squeue_, scancel_;
};

// sbatch's argv for a submission: --parsable, --export=ALL, the options in order, then the
// script.
std::vector<std::string> SbatchArguments(const std::filesystem::path& sbatch,
                                         const SlurmSubmission& submission);

// The environment sbatch runs with, which --export=ALL hands to the job: of `environment`
// (the server's), only what Slurm's client needs (PATH, HOME, USER, LANG, TZ, SLURM_*,
// SBATCH_*, ...), never the server's credentials; then the exported variables.
std::map<std::string, std::string> SbatchEnvironment(
    const std::map<std::string, std::string>& environment,
    const std::map<std::string, std::string>& exported);

// The jobs of `squeue --json` (Slurm 22.05's OpenAPI v0.0.38 shape, and the later ones where a
// state is a list and numbers are {"set", "number"} objects). InvalidArgument when it is not
// such a document.
Result<std::vector<SlurmJobInfo>> ParseSqueueJson(const std::string& text);
// The jobs of such a document's "jobs" list (slurmrestd's GET /jobs answers the same document);
// entries that are not objects are skipped.
std::vector<SlurmJobInfo> SlurmJobsOf(const nlohmann::json& jobs);

// Whether Slurm's message says that slurmctld cannot be reached ("Unable to contact slurm
// controller", "Socket timed out", "Zero Bytes were transmitted or received", ...).
bool SlurmControllerUnreachable(const std::string& text);

// What a failed Slurm command printed, as one line without its "sbatch: error: " prefixes.
std::string SlurmCommandMessage(const std::string& output);

}  // namespace trainyard::executor
