// What the scheduler's files (scheduler.cc, scheduler_leases.cc) share beside its class.
#pragma once

#include <string>

#include "metadata/metadata_store.h"

namespace trainyard::control {

// Puts the job back in the queue (status, transitions and its run's fields reset).
void ResetForQueue(metadata::JobRecord& job, const std::string& message);
// A retry runs under a new executor name: executors refuse a name twice, as SageMaker does.
std::string AttemptName(const std::string& job_name, int attempt);

}  // namespace trainyard::control
