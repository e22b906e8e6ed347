// The SM_* environment that AWS's sagemaker-training-toolkit gives a "script mode" script
// (CONTRACT.md §3), so that a script written for SageMaker runs unchanged under trainyard.
#pragma once

#include <map>
#include <string>

#include "contract/job_definition.h"
#include "contract/job_json.h"
#include "contract/ml_root.h"

namespace trainyard::contract {

// Every SM_* variable, plus CURRENT_HOST and TRAINING_JOB_NAME. `user_entry_point` is the
// script's file name ("train.py"), or empty when the command came from elsewhere. Values follow
// the toolkit's encoding: strings as they are, anything else as compact JSON with sorted keys.
std::map<std::string, std::string> BuildScriptModeEnvironment(const MlRoot& root,
                                                              const JobDefinition& job,
                                                              const HostFacts& host,
                                                              const std::string& user_entry_point);

}  // namespace trainyard::contract
