#include "core/sweep.h"

#include <limits>
#include <set>

#include "common/utf8.h"
#include "core/sagemaker_limits.h"

namespace trainyard::core {
namespace {

std::string Quoted(const std::string& text) {
  return "'" + Abbreviate(text) + "'";
}

// Checks the grid and counts its jobs without building any; nullopt when the count does not
// fit size_t, which is more than any limit.
Result<std::optional<size_t>> CheckAndCountGrid(const SweepSpec& spec) {
  std::set<std::string> names;
  size_t count = 1;
  bool overflow = false;
  for (const auto& [name, values] : spec.grid) {
    const std::string subject = "sweep parameter " + Quoted(name);
    if (!names.insert(name).second) return InvalidArgument(subject + ": swept twice");
    if (spec.fixed.contains(name)) {
      return InvalidArgument(subject + ": both fixed and swept; give it one way");
    }
    if (values.empty()) return InvalidArgument(subject + ": no values");
    std::set<std::string_view> seen;
    for (const std::string& value : values) {
      if (!seen.insert(value).second) {
        return InvalidArgument(subject + ": value " + Quoted(value) +
                               " is listed twice, which would run the same job twice");
      }
      // Each value is checked once here rather than once per job that holds it.
      TY_RETURN_IF_ERROR(ValidateHyperparameter(name, value).WithContext("sweep"));
    }
    if (count > std::numeric_limits<size_t>::max() / values.size()) overflow = true;
    count *= values.size();
  }
  if (overflow) return std::optional<size_t>();
  return std::optional<size_t>(count);
}

Status TooMany(const std::optional<size_t>& count, size_t max_jobs) {
  const std::string how_many =
      count ? std::to_string(*count)
            : "more than " + std::to_string(std::numeric_limits<size_t>::max());
  return InvalidArgument("sweep: it would make " + how_many + " jobs, the limit is " +
                         std::to_string(max_jobs));
}

Result<std::vector<HyperparameterMap>> ExpandGrid(const SweepSpec& spec, size_t max_jobs) {
  TY_ASSIGN_OR_RETURN(std::optional<size_t> count, CheckAndCountGrid(spec));
  if (!count || *count > max_jobs) return TooMany(count, max_jobs);
  TY_RETURN_IF_ERROR(
      ValidateHyperparameterCount(spec.fixed.size() + spec.grid.size()).WithContext("sweep"));
  for (const auto& [key, value] : spec.fixed) {
    TY_RETURN_IF_ERROR(ValidateHyperparameter(key, value).WithContext("sweep"));
  }

  // An odometer over the value indices, the last parameter turning fastest.
  std::vector<HyperparameterMap> jobs;
  jobs.reserve(*count);
  std::vector<size_t> digits(spec.grid.size(), 0);
  for (size_t job = 0; job < *count; ++job) {
    HyperparameterMap hyperparameters = spec.fixed;
    for (size_t i = 0; i < spec.grid.size(); ++i) {
      hyperparameters[spec.grid[i].first] = spec.grid[i].second[digits[i]];
    }
    jobs.push_back(std::move(hyperparameters));
    for (size_t i = spec.grid.size(); i-- > 0;) {
      if (++digits[i] < spec.grid[i].second.size()) break;
      digits[i] = 0;
    }
  }
  return jobs;
}

Result<std::vector<HyperparameterMap>> ExpandCombinations(const SweepSpec& spec, size_t max_jobs) {
  if (spec.combinations.size() > max_jobs) return TooMany(spec.combinations.size(), max_jobs);
  std::vector<HyperparameterMap> jobs;
  jobs.reserve(spec.combinations.size());
  std::map<HyperparameterMap, size_t> first_seen;
  for (size_t i = 0; i < spec.combinations.size(); ++i) {
    const std::string context = "sweep combination " + std::to_string(i + 1);
    HyperparameterMap hyperparameters = spec.fixed;
    for (const auto& [key, value] : spec.combinations[i]) {
      if (spec.fixed.contains(key)) {
        return InvalidArgument(context + ": hyperparameter " + Quoted(key) +
                               " is both fixed and swept; give it one way");
      }
      hyperparameters[key] = value;
    }
    auto [it, inserted] = first_seen.emplace(spec.combinations[i], i);
    if (!inserted) {
      return InvalidArgument(context + ": the same as combination " +
                             std::to_string(it->second + 1) +
                             ", which would run the same job "
                             "twice");
    }
    TY_RETURN_IF_ERROR(ValidateHyperparameters(hyperparameters).WithContext(context));
    jobs.push_back(std::move(hyperparameters));
  }
  return jobs;
}

}  // namespace

Result<std::vector<HyperparameterMap>> ExpandSweep(const SweepSpec& spec, size_t max_jobs) {
  if (!spec.grid.empty() && !spec.combinations.empty()) {
    return InvalidArgument(
        "sweep: both a grid and a list of combinations were given; give one or the other");
  }
  if (!spec.grid.empty()) return ExpandGrid(spec, max_jobs);
  if (!spec.combinations.empty()) return ExpandCombinations(spec, max_jobs);
  if (max_jobs < 1) return TooMany(1, max_jobs);
  TY_RETURN_IF_ERROR(ValidateHyperparameters(spec.fixed).WithContext("sweep"));
  return std::vector<HyperparameterMap>{spec.fixed};
}

std::vector<std::string> VaryingKeys(const std::vector<HyperparameterMap>& jobs) {
  std::set<std::string> keys;
  for (const HyperparameterMap& job : jobs) {
    for (const auto& [key, value] : job) keys.insert(key);
  }
  std::vector<std::string> varying;
  for (const std::string& key : keys) {
    const auto first = jobs.front().find(key);
    for (const HyperparameterMap& job : jobs) {
      const auto it = job.find(key);
      const bool same = (it == job.end())
                            ? first == jobs.front().end()
                            : first != jobs.front().end() && it->second == first->second;
      if (!same) {
        varying.push_back(key);
        break;
      }
    }
  }
  return varying;
}

}  // namespace trainyard::core
