// What Linux accepts in one execve, and fitting the command's environment into it.
//
// SageMaker accepts 100 hyperparameters of 2,500 characters. AWS's training toolkit exports them
// as SM_HP_<KEY> each, and also whole inside SM_HPS, SM_USER_ARGS and SM_TRAINING_ENV: with
// large values each of those composites passes the 128 KiB the kernel allows one string
// (MAX_ARG_STRLEN), and execve fails with E2BIG, so no command could start. The wrapper instead
// leaves out the variables that cannot be passed, says so in the log, and runs the command: the
// same data stays in SM_HP_<KEY>, in the arguments (script mode), in job.json and in
// /opt/ml/input/config/hyperparameters.json.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace trainyard::wrapper {

struct ExecLimits {
  // The longest one argument or one NAME=value may be, without its NUL (MAX_ARG_STRLEN - 1).
  size_t max_string_bytes = 128 * 1024 - 1;
  // The most the arguments and the environment may take together: each string with its NUL and
  // its pointer (sysconf(_SC_ARG_MAX), a quarter of the stack limit, less a page of margin).
  size_t max_total_bytes = 2 * 1024 * 1024 - 4096;
};

// The limits of this process (its stack limit decides ARG_MAX).
ExecLimits CurrentExecLimits();

struct LeftOutVariable {
  std::string name;
  size_t bytes = 0;  // of NAME=value
};

// Makes `argv` and `*environment` fit `limits` by leaving variables out of `*environment`:
// first every variable too long to pass on its own, then, while the whole is still too large,
// the largest of those whose content is in job.json as well (SM_TRAINING_ENV, SM_USER_ARGS,
// SM_HPS, ...). Returns what it left out, in that order. InvalidArgument naming the argument, or
// the sizes, when the arguments themselves do not fit or nothing more may be left out.
Result<std::vector<LeftOutVariable>> FitToExecLimits(
    const std::vector<std::string>& argv, std::map<std::string, std::string>* environment,
    const ExecLimits& limits);

}  // namespace trainyard::wrapper
