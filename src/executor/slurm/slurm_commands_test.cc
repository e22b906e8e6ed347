#include "executor/slurm/slurm_commands.h"

#include <gtest/gtest.h>

namespace trainyard::executor {
namespace {

TEST(SlurmCommandsTest, SbatchArgumentsAndEnvironmentPassOnlySlurmsAndTheSecrets) {
  SlurmSubmission submission;
  submission.script = "/shared/jobs/j/slurm-job.sh";
  submission.options = {"--job-name=j", "--time=5"};
  submission.exported = {{"TRAINYARD_JOB_TOKEN", "secret"}};
  EXPECT_EQ(SbatchArguments("/usr/bin/sbatch", submission),
            (std::vector<std::string>{"/usr/bin/sbatch", "--parsable", "--export=ALL",
                                      "--job-name=j", "--time=5", "/shared/jobs/j/slurm-job.sh"}));
  std::map<std::string, std::string> server = {{"PATH", "/usr/bin"},
                                               {"SLURM_CONF", "/etc/slurm/x.conf"},
                                               {"AWS_SECRET_ACCESS_KEY", "server-credential"},
                                               {"TRAINYARD_TOKEN", "api-token"},
                                               {"HOME", "/home/t"}};
  EXPECT_EQ(SbatchEnvironment(server, submission.exported),
            (std::map<std::string, std::string>{{"HOME", "/home/t"},
                                                {"PATH", "/usr/bin"},
                                                {"SLURM_CONF", "/etc/slurm/x.conf"},
                                                {"TRAINYARD_JOB_TOKEN", "secret"}}));
}

TEST(SlurmCommandsTest, ParsesSqueueJsonOf2205) {
  const char* text = R"(warning first
{"meta": {}, "errors": [], "jobs": [
  {"job_id": 12, "name": "digits-1", "comment": "trainyard job digits-1",
   "command": "/w/digits-1/slurm-job.sh", "job_state": "FAILED", "state_reason": "NonZeroExitCode",
   "nodes": "vm", "exit_code": 768, "start_time": 1796458426, "end_time": 1796458427,
   "restart_cnt": 1},
  {"job_id": 13, "name": "x", "job_state": "PENDING", "state_reason": "Priority",
   "exit_code": 0, "start_time": 0}
]})";
  Result<std::vector<SlurmJobInfo>> jobs = ParseSqueueJson(text);
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  ASSERT_EQ(jobs->size(), 2u);
  const SlurmJobInfo& first = (*jobs)[0];
  EXPECT_EQ(first.id, "12");
  EXPECT_EQ(first.name, "digits-1");
  EXPECT_EQ(first.command, "/w/digits-1/slurm-job.sh");
  EXPECT_EQ(first.state, "FAILED");
  EXPECT_EQ(first.reason, "NonZeroExitCode");
  EXPECT_EQ(first.nodes, "vm");
  EXPECT_EQ(first.exit_status, 768);
  EXPECT_EQ(first.start_time, 1796458426);
  EXPECT_EQ(first.restart_count, 1);
  EXPECT_EQ((*jobs)[1].state, "PENDING");
}

TEST(SlurmCommandsTest, ParsesSqueueJsonOfLaterSlurms) {
  const char* text = R"({"jobs": [{"job_id": 7, "name": "n", "job_state": ["RUNNING"],
    "exit_code": {"status": ["EXITED"], "return_code": {"set": true, "number": 2}},
    "start_time": {"set": true, "number": 100}}]})";
  Result<std::vector<SlurmJobInfo>> jobs = ParseSqueueJson(text);
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  EXPECT_EQ((*jobs)[0].state, "RUNNING");
  EXPECT_EQ((*jobs)[0].exit_status, 2 << 8);
  EXPECT_EQ((*jobs)[0].start_time, 100);
}

TEST(SlurmCommandsTest, RefusesWhatIsNoJobList) {
  Result<std::vector<SlurmJobInfo>> jobs =
      ParseSqueueJson("squeue: error: Unable to contact slurm controller");
  EXPECT_EQ(jobs.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(jobs.status().message().find("Unable to contact"), std::string::npos);
}

TEST(SlurmCommandsTest, CommandMessagesLoseTheirPrefixes) {
  EXPECT_EQ(SlurmCommandMessage("sbatch: error: Memory specification can not be satisfied\n"
                                "sbatch: error: Batch job submission failed: Requested node "
                                "configuration is not available\n"),
            "Memory specification can not be satisfied; Batch job submission failed: Requested "
            "node configuration is not available");
}

}  // namespace
}  // namespace trainyard::executor
