// What a Slurm job's state means for a trainyard job: still queued (with Slurm's reason, in
// words), running, or ended (with its exit code, and the failure Slurm itself knows: out of
// memory, a lost node, a preemption, a cancellation from outside trainyard).
//
// Pure functions over SlurmJobInfo; thread-safe.
#pragma once

#include <string>

#include "executor/slurm/slurm_transport.h"

namespace trainyard::executor {

enum class SlurmPhase {
  kQueued,   // PENDING, REQUEUED, CONFIGURING, ...: the job's code does not run (yet)
  kRunning,  // RUNNING, COMPLETING, SUSPENDED, ...: its batch script has started
  kEnded,    // COMPLETED, FAILED, CANCELLED, TIMEOUT, OUT_OF_MEMORY, NODE_FAIL, PREEMPTED, ...
};

struct SlurmJobView {
  SlurmPhase phase = SlurmPhase::kQueued;
  // Queued or running: a status message ("Waiting in Slurm's queue: waiting for resources
  // (Resources), job 12"). Ended: empty.
  std::string message;
  // Ended: the exit code (128 + N for signal N), as the batch script ended.
  int exit_code = 0;
  // Ended by Slurm for a reason the exit code does not tell, as SageMaker's FailureReason
  // ("AlgorithmError: out of memory on node n1 (Slurm job 12: OUT_OF_MEMORY)"); empty: the exit
  // code tells.
  std::string failure_reason;
  bool timed_out = false;  // TIMEOUT, DEADLINE: the job's --time ran out
  bool cancelled = false;  // CANCELLED: scancel (ours when we stopped it, else someone's)
  // Queued with a reason that can never clear (BadConstraints, PartitionConfig, InvalidQOS...):
  // the job would wait forever.
  bool never_runs = false;
};

SlurmJobView InterpretSlurmJob(const SlurmJobInfo& job);

// Slurm's state_reason in words, as squeue's man page gives it ("Priority": "waiting for
// higher-priority jobs"); an unknown reason as it is.
std::string DescribeSlurmReason(const std::string& reason);

// The exit code a wait status stands for: its exit code, or 128 + N for signal N.
int ExitCodeOfWaitStatus(int wait_status);

}  // namespace trainyard::executor
