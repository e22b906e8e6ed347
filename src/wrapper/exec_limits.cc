#include "wrapper/exec_limits.h"

#include <unistd.h>

#include <algorithm>
#include <array>

namespace trainyard::wrapper {

namespace {

// The toolkit's variables that repeat what job.json holds (hyperparameters, channels, resources):
// the ones that may be left out when everything does not fit. SM_HP_<KEY> and the directories stay.
constexpr std::array<const char*, 7> kRepeatedInJobJson = {
    "SM_TRAINING_ENV",        "SM_USER_ARGS",         "SM_HPS",
    "SM_FRAMEWORK_PARAMS",    "SM_INPUT_DATA_CONFIG", "SM_RESOURCE_CONFIG",
    "SM_INSTANCE_GROUPS_DICT"};

size_t EntryBytes(const std::string& name, const std::string& value) {
  return name.size() + 1 + value.size();
}

// One string in execve's count: its bytes, its NUL and its pointer.
size_t Cost(size_t bytes) {
  return bytes + 1 + sizeof(char*);
}

}  // namespace

ExecLimits CurrentExecLimits() {
  ExecLimits limits;
  long arg_max = ::sysconf(_SC_ARG_MAX);
  // A page of margin for what the kernel puts beside them (the file name, the auxiliary vector).
  if (arg_max > 8192) limits.max_total_bytes = static_cast<size_t>(arg_max) - 4096;
  return limits;
}

Result<std::vector<LeftOutVariable>> FitToExecLimits(
    const std::vector<std::string>& argv, std::map<std::string, std::string>* environment,
    const ExecLimits& limits) {
  size_t total = 0;
  for (size_t i = 0; i < argv.size(); ++i) {
    if (argv[i].size() > limits.max_string_bytes) {
      return InvalidArgument("the command's argument " + std::to_string(i) + " ('" +
                             argv[i].substr(0, 40) + "...') is " + std::to_string(argv[i].size()) +
                             " bytes, more than the " + std::to_string(limits.max_string_bytes) +
                             " Linux passes in one argument");
    }
    total += Cost(argv[i].size());
  }
  std::vector<LeftOutVariable> left_out;
  for (auto it = environment->begin(); it != environment->end();) {
    size_t bytes = EntryBytes(it->first, it->second);
    if (bytes > limits.max_string_bytes) {
      left_out.push_back({it->first, bytes});
      it = environment->erase(it);
    } else {
      total += Cost(bytes);
      ++it;
    }
  }
  while (total > limits.max_total_bytes) {
    auto largest = environment->end();
    for (const char* name : kRepeatedInJobJson) {
      auto it = environment->find(name);
      if (it == environment->end()) continue;
      if (largest == environment->end() || it->second.size() > largest->second.size()) {
        largest = it;
      }
    }
    if (largest == environment->end()) {
      return InvalidArgument("the command's arguments and environment take " +
                             std::to_string(total) + " bytes, more than the " +
                             std::to_string(limits.max_total_bytes) +
                             " Linux passes to a program (ARG_MAX, a quarter of the stack limit)");
    }
    size_t bytes = EntryBytes(largest->first, largest->second);
    left_out.push_back({largest->first, bytes});
    total -= Cost(bytes);
    environment->erase(largest);
  }
  return left_out;
}

}  // namespace trainyard::wrapper
