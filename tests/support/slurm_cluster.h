// SlurmCluster: a real one-node Slurm cluster (Debian's slurm-wlm: munged, slurmctld, slurmd)
// for tests, configured in a temporary directory of its own: its own munge key and socket, its
// own slurm.conf (reached through SLURM_CONF), free ports, state and logs in the temp dir.
// Nothing under /etc and no system daemon is touched.
//
// One cluster per test binary: register SlurmClusterEnvironment once
// (`::testing::AddGlobalTestEnvironment(new trainyard::testing::SlurmClusterEnvironment)`),
// then each test asks SlurmCluster::Get() and skips with SlurmCluster::UnavailableReason()
// when it is null. The environment starts the daemons before the first test, waits until the
// node is idle, and at the end cancels every job, stops the daemons and waits for them: no
// daemon is left behind.
//
// Needs root (slurmd runs jobs as their users) and the binaries on PATH; where either is
// missing the cluster is unavailable and the reason says which. A start that fails where
// both are present is an error (the daemons' logs are in the reason).
//
// Where Slurm's JWT plugin (slurm-wlm-jwt-plugin) and slurmrestd are installed, slurmctld also
// takes JWTs (AuthAltTypes=auth/jwt, its HS256 key in the temp dir) and a slurmrestd
// (rest_auth/jwt, openapi/v0.0.38) listens on a free loopback port, run as nobody (it refuses
// root and SlurmUser): rest_url(). Where they are not, RestUnavailableReason() says why.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/subprocess.h"
#include "support/test_paths.h"

namespace trainyard::testing {

class SlurmCluster {
 public:
  // The running cluster, or null when it could not start (see UnavailableReason).
  static SlurmCluster* Get();
  // Why Get() is null: the missing binary, not root, or the start's failure with the logs.
  static std::string UnavailableReason();

  // How a benchmark tunes the cluster; the tests take the defaults.
  struct Options {
    // slurm.conf lines added after the cluster's own (parameters it does not set).
    std::vector<std::string> extra_config;
    // The node's CPUs; 0: this machine's. More than it has are accepted
    // (SlurmdParameters=config_overrides): job slots, for jobs that hardly use a CPU.
    int cpus = 0;
  };

  // Starts the cluster; the reason in `*why_not` when it cannot.
  static std::unique_ptr<SlurmCluster> Start(std::string* why_not);
  static std::unique_ptr<SlurmCluster> Start(std::string* why_not, const Options& options);
  ~SlurmCluster();

  // What a Slurm command needs to reach this cluster: SLURM_CONF (and PATH).
  std::map<std::string, std::string> environment() const;
  const std::filesystem::path& conf_file() const { return conf_file_; }
  const std::filesystem::path& dir() const { return dir_.path(); }
  const std::string& node_name() const { return node_name_; }
  const std::string& partition() const { return partition_; }
  int cpus() const { return cpus_; }
  int memory_mb() const { return memory_mb_; }
  // slurmrestd's base URL ("http://127.0.0.1:PORT"), or empty (see RestUnavailableReason).
  const std::string& rest_url() const { return rest_url_; }
  // Why there is no slurmrestd: the missing package; empty when there is one.
  const std::string& RestUnavailableReason() const { return rest_unavailable_reason_; }
  // The HS256 key slurmctld checks tokens with (AuthAltParameters=jwt_key=...).
  const std::filesystem::path& jwt_key_file() const { return jwt_key_file_; }
  // Runs a Slurm client command (sbatch, squeue, scancel, scontrol...) against this cluster.
  ProcessResult Run(const std::vector<std::string>& argv,
                    std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;
  // The last lines of the daemons' logs, for failure messages.
  std::string LogTails() const;
  // munged, slurmctld and slurmd, while they run.
  std::vector<pid_t> daemon_pids() const;

 private:
  SlurmCluster() = default;
  bool WaitForIdleNode(std::chrono::seconds timeout, std::string* why_not);
  // Starts slurmrestd and waits until it answers; false with the reason otherwise.
  bool StartRest(const std::filesystem::path& slurmrestd, std::string* why_not);
  void Stop();

  TempDir dir_;
  std::filesystem::path conf_file_;
  std::string node_name_;
  std::string partition_ = "debug";
  int cpus_ = 1;
  int memory_mb_ = 2048;
  std::filesystem::path jwt_key_file_;
  std::string rest_url_;
  std::string rest_unavailable_reason_;
  std::unique_ptr<Process> munged_, slurmctld_, slurmd_, slurmrestd_;
};

// Starts the process-wide SlurmCluster before the first test and stops it after the last.
class SlurmClusterEnvironment : public ::testing::Environment {
 public:
  void SetUp() override;
  void TearDown() override;
};

}  // namespace trainyard::testing
