// ListTrainingJobs as SageMaker documents it: the time filters are strict (created *after*,
// *before*), NameContains ignores case (names are unique regardless of case), the default
// order is CreationTime ascending, and ties keep creation order. No job here has a warm pool,
// so WarmPoolStatusEquals matches nothing.
#include <algorithm>
#include <cctype>

#include "aws/crypto.h"
#include "common/ascii.h"
#include "server/sagemaker/list_operations.h"

namespace trainyard::server::sagemaker {
namespace {
using nlohmann::json;

}  // namespace

std::string EncodePageToken(const std::string& kind, uint64_t position) {
  return aws::Base64Encode(kind + ":" + std::to_string(position));
}

bool InWindow(const json& request, const std::string& field, TimePoint time) {
  if (request.contains(field + "After")) {
    std::optional<TimePoint> after = TimeFromEpochSeconds(request[field + "After"]);
    if (after && !(time > *after)) return false;
  }
  if (request.contains(field + "Before")) {
    std::optional<TimePoint> before = TimeFromEpochSeconds(request[field + "Before"]);
    if (before && !(time < *before)) return false;
  }
  return true;
}

std::optional<std::pair<size_t, size_t>> PageBounds(size_t count, const json& request,
                                                    const std::string& kind) {
  uint64_t start = 0;
  if (request.contains("NextToken")) {
    std::optional<uint64_t> position =
        DecodePageToken(kind, request["NextToken"].get<std::string>());
    if (!position) return std::nullopt;
    start = std::min<uint64_t>(*position, count);
  }
  size_t limit = static_cast<size_t>(request.value("MaxResults", 10));
  return std::make_pair(static_cast<size_t>(start),
                        std::min(count, static_cast<size_t>(start) + limit));
}

std::optional<uint64_t> DecodePageToken(const std::string& kind, const std::string& token) {
  std::optional<std::string> decoded = aws::Base64Decode(token);
  if (!decoded || decoded->compare(0, kind.size() + 1, kind + ":") != 0) return std::nullopt;
  std::string digits = decoded->substr(kind.size() + 1);
  if (digits.empty() || digits.size() > 18 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return std::stoull(digits);
}

JsonReply ListTrainingJobs(const std::vector<TrainingJobSummary>& jobs, const json& request) {
  std::string name_contains = AsciiLower(request.value("NameContains", std::string()));
  std::string status = request.value("StatusEquals", std::string());
  std::vector<const TrainingJobSummary*> selected;
  if (!request.contains("WarmPoolStatusEquals")) {
    for (const TrainingJobSummary& job : jobs) {
      if (!InWindow(request, "CreationTime", job.creation_time)) continue;
      if (!InWindow(request, "LastModifiedTime", job.last_modified_time)) continue;
      if (!name_contains.empty() && AsciiLower(job.name).find(name_contains) == std::string::npos) {
        continue;
      }
      if (!status.empty() && core::ToString(job.status) != status) continue;
      selected.push_back(&job);
    }
  }
  std::string sort_by = request.value("SortBy", std::string("CreationTime"));
  auto key_less = [&](const TrainingJobSummary* a, const TrainingJobSummary* b) {
    if (sort_by == "Name") return a->name < b->name;
    if (sort_by == "Status") {
      return std::string(core::ToString(a->status)) < std::string(core::ToString(b->status));
    }
    return a->creation_time < b->creation_time;
  };
  if (request.value("SortOrder", std::string("Ascending")) == "Descending") {
    std::stable_sort(selected.begin(), selected.end(),
                     [&](const auto* a, const auto* b) { return key_less(b, a); });
  } else {
    std::stable_sort(selected.begin(), selected.end(), key_less);
  }

  auto page = PageBounds(selected.size(), request, "ListTrainingJobs");
  if (!page) return ValidationException("Invalid pagination token given: NextToken.");
  const auto [start, end] = *page;
  json summaries = json::array();
  for (size_t i = start; i < end; ++i) {
    const TrainingJobSummary& job = *selected[i];
    json summary = {{"TrainingJobName", job.name},
                    {"TrainingJobArn", job.arn},
                    {"CreationTime", EpochSeconds(job.creation_time)},
                    {"LastModifiedTime", EpochSeconds(job.last_modified_time)},
                    {"TrainingJobStatus", core::ToString(job.status)}};
    if (job.end_time) summary["TrainingEndTime"] = EpochSeconds(*job.end_time);
    summaries.push_back(std::move(summary));
  }
  json answer = {{"TrainingJobSummaries", std::move(summaries)}};
  if (end < selected.size()) answer["NextToken"] = EncodePageToken("ListTrainingJobs", end);
  return JsonReply::Ok(std::move(answer));
}

}  // namespace trainyard::server::sagemaker
