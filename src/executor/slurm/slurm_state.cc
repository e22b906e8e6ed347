#include "executor/slurm/slurm_state.h"

#include <map>
#include <set>

namespace trainyard::executor {

namespace {

// Reasons with which a pending job waits forever: Slurm keeps it, but nothing will change
// without an administrator (a partition too small for it, an account or QoS it may not use).
const std::set<std::string>& NeverClearingReasons() {
  static const std::set<std::string> reasons = {
      "BadConstraints",
      "PartitionConfig",
      "PartitionNodeLimit",
      "PartitionTimeLimit",
      "InvalidAccount",
      "InvalidQOS",
      "QOSJobLimit",
      "AssocMaxJobsLimit",
      "AccountNotAllowed",
      "QOSNotAllowed",
      "PartitionDown",
      "PartitionInactive",
      "DependencyNeverSatisfied",
      "InactiveLimit",
      "Nodes_required_for_job_are_DOWN,_DRAINED_or_reserved_for_jobs_in_higher_priority_"
      "partitions"};
  return reasons;
}

std::string JobLabel(const SlurmJobInfo& job) {
  return "Slurm job " + job.id + ": " + job.state;
}

std::string OnNodes(const SlurmJobInfo& job) {
  return job.nodes.empty() ? "" : " on node " + job.nodes;
}

}  // namespace

std::string DescribeSlurmReason(const std::string& reason) {
  static const std::map<std::string, std::string> words = {
      {"Priority", "waiting for resources: Priority (higher-priority jobs come first)"},
      {"Resources", "waiting for resources: Resources (no node is free)"},
      {"None", "about to be scheduled"},
      {"BeginTime", "waiting for its start time"},
      {"Dependency", "waiting for the jobs it depends on"},
      {"JobHeldAdmin", "held by an administrator"},
      {"JobHeldUser", "held by its user"},
      {"PartitionConfig", "asks more than the partition's nodes have (PartitionConfig)"},
      {"BadConstraints", "asks what no node offers (BadConstraints)"},
      {"PartitionNodeLimit", "asks more nodes than the partition allows (PartitionNodeLimit)"},
      {"PartitionTimeLimit", "asks more time than the partition allows (PartitionTimeLimit)"},
      {"PartitionDown", "its partition is down"},
      {"PartitionInactive", "its partition is inactive"},
      {"InvalidAccount", "its account is invalid"},
      {"InvalidQOS", "its QoS is invalid"},
      {"ReqNodeNotAvail", "a node it needs is not available"},
      {"QOSMaxJobsPerUserLimit", "its QoS allows no more running jobs of this user"},
      {"AssocGrpGRES", "its account's GPU limit is reached"},
      {"AssocGrpCpuLimit", "its account's CPU limit is reached"},
      {"launch failed requeued held", "its launch failed and Slurm held it"},
  };
  auto found = words.find(reason);
  return found == words.end() ? reason : found->second;
}

int ExitCodeOfWaitStatus(int wait_status) {
  int signal_number = wait_status & 0x7f;
  if (signal_number != 0) return 128 + signal_number;
  return (wait_status >> 8) & 0xff;
}

SlurmJobView InterpretSlurmJob(const SlurmJobInfo& job) {
  static const std::set<std::string> queued = {"PENDING",     "REQUEUED",    "REQUEUE_HOLD",
                                               "REQUEUE_FED", "CONFIGURING", "RESV_DEL_HOLD",
                                               "SPECIAL_EXIT"};
  static const std::set<std::string> running = {"RUNNING",   "COMPLETING", "SUSPENDED", "STOPPED",
                                                "SIGNALING", "STAGE_OUT",  "RESIZING"};
  SlurmJobView view;
  if (queued.contains(job.state)) {
    view.phase = SlurmPhase::kQueued;
    std::string reason = job.reason.empty() ? "None" : job.reason;
    view.message = "Waiting in Slurm's queue: " + DescribeSlurmReason(reason) + " (Slurm job " +
                   job.id + (job.state == "PENDING" ? "" : ", " + job.state) + ")";
    view.never_runs = job.state == "PENDING" && NeverClearingReasons().contains(reason);
    return view;
  }
  if (running.contains(job.state)) {
    view.phase = SlurmPhase::kRunning;
    view.message = job.state == "SUSPENDED" || job.state == "STOPPED"
                       ? "Suspended by Slurm" + OnNodes(job) + " (Slurm job " + job.id + ")"
                       : "Training in progress" + OnNodes(job) + " (Slurm job " + job.id + ")";
    return view;
  }
  view.phase = SlurmPhase::kEnded;
  view.exit_code = ExitCodeOfWaitStatus(job.exit_status);
  const std::string& state = job.state;
  if (state == "COMPLETED" || state == "FAILED") {
    // The exit code (and the wrapper's failure file) tell.
  } else if (state == "CANCELLED") {
    view.cancelled = true;
    view.failure_reason =
        "ClientError: the job was cancelled in Slurm outside trainyard (" + JobLabel(job) + ")";
  } else if (state == "TIMEOUT" || state == "DEADLINE") {
    view.timed_out = true;
  } else if (state == "OUT_OF_MEMORY") {
    view.failure_reason =
        "AlgorithmError: out of memory" + OnNodes(job) + " (" + JobLabel(job) + ")";
  } else if (state == "NODE_FAIL") {
    view.failure_reason =
        "InternalServerError: the node failed" + OnNodes(job) + " (" + JobLabel(job) + ")";
  } else if (state == "PREEMPTED") {
    view.failure_reason = "InternalServerError: the job was preempted by Slurm" + OnNodes(job) +
                          " (" + JobLabel(job) + ")";
  } else if (state == "BOOT_FAIL") {
    view.failure_reason =
        "InternalServerError: the node could not boot" + OnNodes(job) + " (" + JobLabel(job) + ")";
  } else {
    view.failure_reason = "InternalServerError: Slurm ended the job in state " + state + " (" +
                          JobLabel(job) + (job.reason.empty() ? "" : ", " + job.reason) + ")";
  }
  return view;
}

}  // namespace trainyard::executor
