// The Slurm test cluster itself (tests/support/slurm_cluster.h): it starts from Debian's
// packages in a temp dir, runs a batch job, and leaves no daemon behind when it stops (slurmrestd
// included).
#include "support/slurm_cluster.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <thread>

#include "common/files.h"

namespace trainyard::testing {
namespace {
using namespace std::chrono_literals;

TEST(SlurmClusterTest, RunsABatchJobAndLeavesNoDaemonBehind) {
  std::string why_not;
  std::unique_ptr<SlurmCluster> cluster = SlurmCluster::Start(&why_not);
  if (!cluster && (why_not.find("not found") != std::string::npos ||
                   why_not.find("must run as root") != std::string::npos)) {
    GTEST_SKIP() << "Slurm cluster unavailable: " << why_not;
  }
  ASSERT_NE(cluster, nullptr) << why_not;
  std::vector<pid_t> daemons = cluster->daemon_pids();
  // munged, slurmctld, slurmd, and slurmrestd where its packages are installed.
  ASSERT_EQ(daemons.size(), cluster->rest_url().empty() ? 3u : 4u)
      << cluster->RestUnavailableReason();
  if (cluster->rest_url().empty()) {
    std::printf("no slurmrestd: %s\n", cluster->RestUnavailableReason().c_str());
  }

  std::filesystem::path out = cluster->dir() / "job.out";
  ProcessResult submitted = cluster->Run({"sbatch", "--parsable", "--job-name=fixture-check",
                                          "--output=" + out.string(), "--wrap", "echo ran-here"});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.output;
  std::string job_id = submitted.output.substr(0, submitted.output.find_first_of(";\n"));
  std::string state;
  for (auto deadline = std::chrono::steady_clock::now() + 30s;
       std::chrono::steady_clock::now() < deadline;) {
    ProcessResult shown =
        cluster->Run({"squeue", "--noheader", "--states=all", "--jobs=" + job_id, "--format=%T"});
    state = shown.output;
    if (state.rfind("COMPLETED", 0) == 0) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(state.substr(0, 9), "COMPLETED") << cluster->LogTails();
  auto text = ReadFile(out);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text, "ran-here\n");

  cluster.reset();
  for (pid_t pid : daemons) {
    // Reaped by the fixture: the pid names no process any more.
    EXPECT_NE(::kill(pid, 0), 0) << "daemon pid " << pid << " still runs";
  }
}

}  // namespace
}  // namespace trainyard::testing
