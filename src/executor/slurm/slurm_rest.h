// SlurmRest: the SlurmTransport over slurmrestd, Slurm's REST API (OpenAPI plugin v0.0.38, Slurm
// 22.05 and later), with JWT authentication (rest_auth/jwt): each call names a Slurm user
// (X-SLURM-USER-NAME) and carries that user's token (X-SLURM-USER-TOKEN), which slurmrestd
// passes through to slurmctld. The server needs no Slurm client commands, configuration or munge:
// only HTTP reach to slurmrestd.
//
//   POST   /slurm/v0.0.38/job/submit       {"script": <the batch script's text>, "job": {...}}
//   GET    /slurm/v0.0.38/jobs             every job slurmctld knows (squeue --json's document)
//   DELETE /slurm/v0.0.38/job/{id}?signal=TERM   a signal to the batch script and every step
//   DELETE /slurm/v0.0.38/job/{id}         the job cancelled (SIGKILL; a pending one never runs)
//
// Errors name the transport and carry Slurm's own answer, never a token.
//
// Thread-safe (each call its own connection; the token source is thread-safe).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "executor/slurm/slurm_token.h"
#include "executor/slurm/slurm_transport.h"

namespace trainyard::executor {

struct SlurmRestOptions {
  std::string url;  // slurmrestd's base URL: "http://slurm-login:6820"
  // The Slurm user a job is submitted as, and a call made as, when none is named.
  std::string user;
  // The other Slurm users the transport may act as (a sweep's own user), as the operator
  // allows: slurm_allowed_users. Needs tokens that mint for any user (the cluster's key).
  std::set<std::string> allowed_users;
  std::shared_ptr<SlurmTokenSource> tokens;  // the users' tokens
  // The environment a job's batch script starts with, as sbatch's --export=ALL gives it: of
  // this (the server's), only what SbatchEnvironment keeps; then the exported variables.
  std::map<std::string, std::string> environment;
  std::chrono::milliseconds timeout{30'000};  // per call
};

class SlurmRest : public SlurmTransport {
 public:
  // InvalidArgument naming the setting: a URL that is not http(s), no user, no token source,
  // allowed users with a token file (one user's token).
  static Result<std::unique_ptr<SlurmRest>> Create(SlurmRestOptions options);

  std::string name() const override { return "rest"; }
  // Fine: options.user, and the allowed users. FailedPrecondition for another user with a token
  // file; PermissionDenied for one the operator did not allow.
  Status CheckUser(const std::string& user) const override;
  // Also Unauthenticated, with slurmrestd's or slurmctld's answer, when the token is refused.
  Result<std::string> Submit(const SlurmSubmission& submission) override;
  Result<std::vector<SlurmJobInfo>> ListJobs(const std::string& user) override;
  Status Signal(const std::string& job_id, const std::string& signal_name,
                const std::string& user) override;
  Status Cancel(const std::string& job_id, const std::string& user) override;

 private:
  explicit SlurmRest(SlurmRestOptions options) : options_(std::move(options)) {}
  struct Answer {
    long http_status = 0;
    nlohmann::json document;    // null when the body was not JSON
    std::string slurm_message;  // Slurm's errors in one line, or the body's text
  };
  // One call as Slurm user `user` (options.user when empty, checked by CheckUser); a
  // transport failure is Unavailable, an answer of any status is an Answer.
  Result<Answer> Call(const std::string& user, const std::string& method, const std::string& path,
                      const std::string& body = "");
  // The Status of a failed call of `operation` ("submit", "list jobs", "signal job 12") as `user`.
  Status Failure(const std::string& operation, const std::string& user, const Answer& answer) const;
  const std::string& UserOrDefault(const std::string& user) const {
    return user.empty() ? options_.user : user;
  }

  SlurmRestOptions options_;
};

// The "job" object of a submission: each sbatch option "--name=value" under slurmrestd's name
// for it (--job-name: "name", --time: "time_limit", --mem: "memory_per_node", --chdir:
// "current_working_directory", --output: "standard_output", others with '-' as '_'), a
// value-less option as true (--exclusive as "exclusive"), and "environment" as a dictionary.
// InvalidArgument naming the option for one that is not "--name[=value]", and for those that
// slurmrestd cannot take (--export, --uid, --gid, --wrap: the job's user is the token's).
Result<nlohmann::json> SlurmRestJob(const std::vector<std::string>& options,
                                    const std::map<std::string, std::string>& environment);

// Slurm's errors in an answer of slurmrestd ({"errors": [{"error", "description", ...}]}) in one
// line: "Invalid partition name specified; Unknown key \"foo\"". Empty when there are none.
std::string SlurmRestErrors(const nlohmann::json& answer);

}  // namespace trainyard::executor
