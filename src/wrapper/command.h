// Which command the wrapper runs, and with which arguments (see kWrapperUsage for the order).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "contract/job_definition.h"
#include "contract/ml_root.h"
#include "wrapper/options.h"

namespace trainyard::wrapper {

struct ResolvedCommand {
  std::vector<std::string> argv;
  std::string user_entry_point;   // "train.py" when it came from sagemaker_program, else empty
  std::string working_directory;  // empty: inherit the wrapper's
};

// NotFound naming the script when sagemaker_program names a file that is not in code/;
// InvalidArgument when no command is given anywhere.
Result<ResolvedCommand> ResolveCommand(const WrapperOptions& options,
                                       const contract::JobDefinition& job,
                                       const contract::MlRoot& root);

}  // namespace trainyard::wrapper
