// SlurmTransport: how the slurm executor talks to Slurm. One implementation runs Slurm's own
// commands (sbatch, squeue, scancel: slurm_commands.h), the other calls slurmrestd, Slurm's REST
// API, with a JWT (slurm_rest.h); the executor never knows which it uses.
//
// Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace trainyard::executor {

// The most a listing of Slurm's jobs (squeue --json, slurmrestd's job list) may take: it holds
// every job slurmctld knows, a few KiB each.
inline constexpr size_t kSlurmListingLimit = 256 * 1024 * 1024;

// One batch job as Slurm reports it (squeue's JSON, slurmrestd's job object).
struct SlurmJobInfo {
  std::string id;                 // "1234"
  std::string name;               // --job-name: the trainyard job name
  std::string comment;            // --comment
  std::string command;            // the batch script's path (empty for a job slurmrestd submitted)
  std::string working_directory;  // --chdir
  std::string state;   // job_state: PENDING, RUNNING, COMPLETED, FAILED, OUT_OF_MEMORY, ...
  std::string reason;  // state_reason: Priority, Resources, NonZeroExitCode, ... ("None": none)
  std::string nodes;   // the node(s) it runs or ran on; empty while pending
  // Its exit as a wait status: the exit code in bits 8-15, a signal in bits 0-6.
  int exit_status = 0;
  int64_t start_time = 0;  // epoch seconds; 0 before it started
  int64_t end_time = 0;
  int restart_count = 0;  // how often Slurm requeued it
};

// What sbatch gets for one job.
struct SlurmSubmission {
  std::filesystem::path script;      // the batch script (a file the node can read)
  std::vector<std::string> options;  // sbatch options, each "--name=value"
  // Variables handed to the job through sbatch's environment, with their values: the job's
  // secrets, which are never written into the script.
  std::map<std::string, std::string> exported;
  // The Slurm user the job is submitted as; empty: the transport's own (CheckUser).
  std::string user;
};

class SlurmTransport {
 public:
  virtual ~SlurmTransport() = default;
  // Names the transport in messages ("commands", "rest").
  virtual std::string name() const = 0;
  // Whether the transport may act as Slurm user `user` (empty: its own, always fine).
  // FailedPrecondition when it has one identity only (Slurm's commands run as the server's Unix
  // user; a token file is one user's), PermissionDenied for a user the operator did not allow;
  // the message says which setting decides.
  virtual Status CheckUser(const std::string& user) const = 0;
  // Every call below acts as `user` (empty: the transport's own), after CheckUser.
  // Submits the batch job, as submission.user; its Slurm job id. InvalidArgument with Slurm's own
  // message when Slurm refuses the job (a partition that does not exist, more than any node has);
  // Unavailable when Slurm cannot be reached.
  virtual Result<std::string> Submit(const SlurmSubmission& submission) = 0;
  // Every job slurmctld still knows: pending, running, and those that ended less than
  // MinJobAge ago. Unavailable when Slurm cannot be reached.
  virtual Result<std::vector<SlurmJobInfo>> ListJobs(const std::string& user) = 0;
  // Sends `signal_name` ("TERM", "KILL") to the job's batch script and all its steps. Stopping
  // a job that has ended is not an error.
  virtual Status Signal(const std::string& job_id, const std::string& signal_name,
                        const std::string& user) = 0;
  // Cancels the job (a pending one never starts).
  virtual Status Cancel(const std::string& job_id, const std::string& user) = 0;
};

using SlurmTransportPtr = std::unique_ptr<SlurmTransport>;

}  // namespace trainyard::executor
