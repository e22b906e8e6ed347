#include "core/job_naming.h"

#include <algorithm>

#include "core/sagemaker_limits.h"

namespace trainyard::core {
namespace {

bool IsNameCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

void StripTrailingHyphens(std::string* text) {
  while (!text->empty() && text->back() == '-') text->pop_back();
}

}  // namespace

std::string SanitizeJobNamePrefix(const std::string& sweep_name) {
  std::string sanitized;
  for (char c : sweep_name) {
    if (IsNameCharacter(c)) {
      sanitized.push_back(c);
    } else if (!sanitized.empty() && sanitized.back() != '-') {
      // Also drops leading '-': nothing is pushed while `sanitized` is empty.
      sanitized.push_back('-');
    }
  }
  StripTrailingHyphens(&sanitized);
  return sanitized.empty() ? "job" : sanitized;
}

std::string MakeJobName(const std::string& sweep_name, size_t index, size_t count) {
  const std::string number = std::to_string(index + 1);
  const size_t width = std::max({size_t{3}, std::to_string(count).size(), number.size()});
  const std::string suffix = "-" + std::string(width - number.size(), '0') + number;

  std::string prefix = SanitizeJobNamePrefix(sweep_name);
  // A size_t has at most 20 digits, so at least 42 characters are left for the prefix.
  prefix.resize(std::min(prefix.size(), kMaxTrainingJobNameLength - suffix.size()));
  StripTrailingHyphens(&prefix);  // the cut may end on a '-'; it cannot empty a sanitised name
  return prefix + suffix;
}

}  // namespace trainyard::core
