// MetricPattern: the regex of a SageMaker MetricDefinition, compiled once and matched against
// every line of a job's log.
//
// Matching uses RE2, whose time is linear in the line's length whatever the pattern: no
// backtracking and no recursion, so `(a*)*b` against a long line of `a`s costs what `a` does, and
// a hostile regex can neither stall the job's log nor overflow the stack. RE2 has no
// backreferences or lookaround; SageMaker's documented regexes (`loss: ([0-9\.]+)`,
// `Train_error=(.*?);`) need neither. Every place that accepts a metric regex (the REST API's
// sweeps, `trainyard run --metric`, the SageMaker endpoint's MetricDefinitions) checks it with
// CheckMetricRegex, so a regex the job could not use is refused when it is submitted.
//
// Immutable after Compile; Match may be called from any thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace re2 {
class RE2;
}

namespace trainyard::contract {

class MetricPattern {
 public:
  // InvalidArgument with RE2's reason when `regex` does not compile, or when it has no capture
  // group (the first group is the metric's value).
  static Result<MetricPattern> Compile(const std::string& regex);

  // The text of the first capture group of the leftmost match in `line`; nullopt when the
  // pattern does not match or the group took no part in the match.
  std::optional<std::string_view> FirstGroup(std::string_view line) const;

 private:
  explicit MetricPattern(std::shared_ptr<const re2::RE2> compiled)
      : compiled_(std::move(compiled)) {}
  std::shared_ptr<const re2::RE2> compiled_;
};

// Checks `regex` as Compile does; the message starts with `field` ("metric_definitions[0].regex
// is not a valid regex: missing ): (a"), for the caller's validation error.
Status CheckMetricRegex(const std::string& field, const std::string& regex);

}  // namespace trainyard::contract
