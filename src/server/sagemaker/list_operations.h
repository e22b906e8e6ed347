// The listing operations, as pure functions over snapshots of the job table: ListTrainingJobs
// (list_training_jobs.cc) and the CloudWatch Logs calls over the log group
// /aws/sagemaker/TrainingJobs (log_events.cc). Pagination tokens are opaque to clients; they
// hold a position in the sorted, filtered list, so a page boundary may move when jobs are
// created between two calls (new jobs sort last by CreationTime, the default). Internal;
// thread-safe (no state).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "server/sagemaker/aws_json.h"
#include "server/sagemaker/training_jobs.h"

namespace trainyard::server::sagemaker {

inline constexpr char kTrainingJobsLogGroup[] = "/aws/sagemaker/TrainingJobs";

// SageMaker.ListTrainingJobs over `jobs` (in creation order).
JsonReply ListTrainingJobs(const std::vector<TrainingJobSummary>& jobs,
                           const nlohmann::json& request);

struct LogsContext {
  std::string region;
  std::string account_id;
};

// Logs_20140328.DescribeLogStreams, GetLogEvents and FilterLogEvents.
JsonReply DescribeLogStreams(TrainingJobs& jobs, const nlohmann::json& request,
                             const LogsContext& context);
JsonReply GetLogEvents(TrainingJobs& jobs, const nlohmann::json& request);
JsonReply FilterLogEvents(TrainingJobs& jobs, const nlohmann::json& request);

// Opaque page tokens: "<kind>:<position>" in base64; nullopt for a token not made here.
std::string EncodePageToken(const std::string& kind, uint64_t position);
std::optional<uint64_t> DecodePageToken(const std::string& kind, const std::string& token);

// Whether `time` passes the request's "<field>After"/"<field>Before" filters (both strict).
bool InWindow(const nlohmann::json& request, const std::string& field, TimePoint time);
// The [begin, end) of the page the request asks for (NextToken of `kind`, MaxResults, default
// 10) in a sorted list of `count` items; nullopt for a token not made here.
std::optional<std::pair<size_t, size_t>> PageBounds(size_t count, const nlohmann::json& request,
                                                    const std::string& kind);

}  // namespace trainyard::server::sagemaker
