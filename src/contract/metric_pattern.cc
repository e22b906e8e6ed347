#include "contract/metric_pattern.h"

#include <re2/re2.h>

namespace trainyard::contract {

Result<MetricPattern> MetricPattern::Compile(const std::string& regex) {
  RE2::Options options;
  // RE2 would print the error to stderr, which inside a job is the job's log.
  options.set_log_errors(false);
  auto compiled = std::make_shared<const RE2>(regex, options);
  if (!compiled->ok()) return InvalidArgument("is not a valid regex: " + compiled->error());
  if (compiled->NumberOfCapturingGroups() < 1) {
    return InvalidArgument("needs a capture group: the first group is the metric's value");
  }
  return MetricPattern(std::move(compiled));
}

std::optional<std::string_view> MetricPattern::FirstGroup(std::string_view line) const {
  re2::StringPiece group;
  if (!RE2::PartialMatch(re2::StringPiece(line.data(), line.size()), *compiled_, &group) ||
      group.data() == nullptr) {
    return std::nullopt;
  }
  return std::string_view(group.data(), group.size());
}

Status CheckMetricRegex(const std::string& field, const std::string& regex) {
  Result<MetricPattern> compiled = MetricPattern::Compile(regex);
  if (!compiled.ok()) return InvalidArgument(field + " " + compiled.status().message());
  return Status::Ok();
}

}  // namespace trainyard::contract
