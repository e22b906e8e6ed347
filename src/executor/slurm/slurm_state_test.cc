#include "executor/slurm/slurm_state.h"

#include <gtest/gtest.h>

namespace trainyard::executor {
namespace {

SlurmJobInfo Job(const std::string& state, const std::string& reason = "None",
                 int exit_status = 0) {
  SlurmJobInfo info;
  info.id = "42";
  info.name = "digits-1";
  info.state = state;
  info.reason = reason;
  info.exit_status = exit_status;
  info.nodes = state == "PENDING" ? "" : "gpu-7";
  return info;
}

TEST(SlurmStateTest, PendingIsQueuedWithSlurmsReasonInWords) {
  SlurmJobView view = InterpretSlurmJob(Job("PENDING", "Priority"));
  EXPECT_EQ(view.phase, SlurmPhase::kQueued);
  EXPECT_EQ(view.message,
            "Waiting in Slurm's queue: waiting for resources: Priority (higher-priority jobs come "
            "first) (Slurm job 42)");
  EXPECT_FALSE(view.never_runs);
  EXPECT_NE(InterpretSlurmJob(Job("PENDING", "Resources")).message.find("no node is free"),
            std::string::npos);
  // An unknown reason is shown as Slurm gives it.
  EXPECT_NE(InterpretSlurmJob(Job("PENDING", "SomeNewReason")).message.find("SomeNewReason"),
            std::string::npos);
  EXPECT_EQ(InterpretSlurmJob(Job("REQUEUED")).phase, SlurmPhase::kQueued);
  EXPECT_EQ(InterpretSlurmJob(Job("CONFIGURING")).phase, SlurmPhase::kQueued);
}

TEST(SlurmStateTest, ReasonsThatNeverClearMarkTheJobAsNeverRunning) {
  for (const char* reason : {"PartitionConfig", "BadConstraints", "InvalidQOS", "InvalidAccount"}) {
    EXPECT_TRUE(InterpretSlurmJob(Job("PENDING", reason)).never_runs) << reason;
  }
  for (const char* reason : {"Priority", "Resources", "BeginTime", "JobHeldUser", "Dependency"}) {
    EXPECT_FALSE(InterpretSlurmJob(Job("PENDING", reason)).never_runs) << reason;
  }
}

TEST(SlurmStateTest, RunningStatesRun) {
  for (const char* state : {"RUNNING", "COMPLETING", "SUSPENDED"}) {
    SlurmJobView view = InterpretSlurmJob(Job(state));
    EXPECT_EQ(view.phase, SlurmPhase::kRunning) << state;
    EXPECT_NE(view.message.find("gpu-7"), std::string::npos) << view.message;
  }
  EXPECT_NE(InterpretSlurmJob(Job("SUSPENDED")).message.find("Suspended"), std::string::npos);
}

TEST(SlurmStateTest, EndedStatesMapToExitCodesAndReasons) {
  SlurmJobView completed = InterpretSlurmJob(Job("COMPLETED", "None", 0));
  EXPECT_EQ(completed.phase, SlurmPhase::kEnded);
  EXPECT_EQ(completed.exit_code, 0);
  EXPECT_TRUE(completed.failure_reason.empty());

  SlurmJobView failed = InterpretSlurmJob(Job("FAILED", "NonZeroExitCode", 3 << 8));
  EXPECT_EQ(failed.exit_code, 3);
  EXPECT_TRUE(failed.failure_reason.empty());  // the exit code and the wrapper's stderr tell

  SlurmJobView killed = InterpretSlurmJob(Job("FAILED", "NonZeroExitCode", 9));
  EXPECT_EQ(killed.exit_code, 137);

  SlurmJobView memory = InterpretSlurmJob(Job("OUT_OF_MEMORY", "OutOfMemory", 0));
  EXPECT_EQ(memory.failure_reason,
            "AlgorithmError: out of memory on node gpu-7 (Slurm job 42: OUT_OF_MEMORY)");

  SlurmJobView node = InterpretSlurmJob(Job("NODE_FAIL"));
  EXPECT_EQ(node.failure_reason.rfind("InternalServerError: the node failed on node gpu-7", 0), 0u)
      << node.failure_reason;

  SlurmJobView preempted = InterpretSlurmJob(Job("PREEMPTED"));
  EXPECT_NE(preempted.failure_reason.find("preempted"), std::string::npos);
  EXPECT_EQ(preempted.failure_reason.rfind("InternalServerError: ", 0), 0u);

  SlurmJobView timeout = InterpretSlurmJob(Job("TIMEOUT"));
  EXPECT_TRUE(timeout.timed_out);
  EXPECT_TRUE(timeout.failure_reason.empty());

  SlurmJobView cancelled = InterpretSlurmJob(Job("CANCELLED"));
  EXPECT_TRUE(cancelled.cancelled);
  EXPECT_NE(cancelled.failure_reason.find("cancelled in Slurm outside trainyard"),
            std::string::npos);

  SlurmJobView odd = InterpretSlurmJob(Job("BOOT_FAIL"));
  EXPECT_EQ(odd.failure_reason.rfind("InternalServerError: ", 0), 0u);
}

TEST(SlurmStateTest, ExitCodeOfWaitStatus) {
  EXPECT_EQ(ExitCodeOfWaitStatus(0), 0);
  EXPECT_EQ(ExitCodeOfWaitStatus(1 << 8), 1);
  EXPECT_EQ(ExitCodeOfWaitStatus(255 << 8), 255);
  EXPECT_EQ(ExitCodeOfWaitStatus(15), 143);
}

}  // namespace
}  // namespace trainyard::executor
