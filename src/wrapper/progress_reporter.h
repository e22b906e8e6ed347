// ProgressReporter: sends the job's progress, metrics and log lines to the trainyard server
// (POST TRAINYARD_CALLBACK_URL, body in docs/progress-callback.md) from a thread of its own.
//
// The training must never wait on the server: Submit only queues, under a short lock. A server
// that is down or slow costs retries with backoff on this thread, bounded queues (oldest log
// lines are dropped first, and counted), and at most the deadline given to Finish at the end.
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "contract/progress_body.h"
#include "wrapper/log_lines.h"

namespace trainyard::wrapper {

struct ReporterOptions {
  std::string url;
  std::string token;  // sent as "Authorization: Bearer <token>", never logged
  std::string job_name;
  // A proxy applies to the URL (http_proxy, all_proxy): libcurl, which honours them, sends the
  // reports even to an http:// URL, which is otherwise spoken to directly (http_post.h).
  bool through_proxy = false;
  std::chrono::milliseconds request_timeout{10'000};
  std::chrono::milliseconds first_backoff{1'000};
  std::chrono::milliseconds max_backoff{60'000};
  size_t max_pending_log_lines = 5'000;
  size_t max_pending_metric_points = 10'000;
};

struct ProgressUpdate {
  std::optional<nlohmann::json> progress;  // the latest progress snapshot, when it changed
  std::vector<MetricPoint> metrics;
  std::vector<LogLine> log;
  uint64_t dropped_log_lines = 0;  // lines the caller could not keep since the last update
};

class ProgressReporter {
 public:
  explicit ProgressReporter(ReporterOptions options);
  ~ProgressReporter();
  ProgressReporter(const ProgressReporter&) = delete;
  ProgressReporter& operator=(const ProgressReporter&) = delete;

  // Queues an update and wakes the sender. Never blocks on the network.
  void Submit(ProgressUpdate update);
  // Queues the final update with the exit information, then waits at most `deadline` for
  // everything to be delivered; abandons the rest (and any request in flight) after that. Sends
  // nothing when nothing was ever submitted and the final update is empty too: the exit alone
  // is not reported.
  void Finish(ProgressUpdate update, contract::ProgressExit exit,
              std::chrono::milliseconds deadline);

  uint64_t posts_succeeded() const { return posts_succeeded_; }
  uint64_t posts_failed() const { return posts_failed_; }

 private:
  struct Pending {
    std::optional<nlohmann::json> progress;
    std::vector<MetricPoint> metrics;
    std::vector<LogLine> log;
    uint64_t dropped_log_lines = 0;
    uint64_t dropped_metric_points = 0;
    std::optional<contract::ProgressExit> exit;
    bool empty() const { return !progress && metrics.empty() && log.empty() && !exit; }
  };

  void MergeLocked(Pending batch, bool in_front);
  void Run();
  // The batch as the request's body (contract::EncodeProgressBody).
  nlohmann::json BuildBody(const Pending& batch, uint64_t sequence) const;
  bool Post(const std::string& body);
  // The answer's status code, or 0 when none came.
  long PostWithCurl(const std::string& body);

  ReporterOptions options_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  Pending pending_;
  bool sending_ = false;
  bool stopping_ = false;
  bool retry_now_ = false;  // the final update skips any backoff
  std::atomic<bool> abandon_{false};
  std::atomic<bool> load_error_reported_{false};
  std::atomic<uint64_t> posts_succeeded_{0};
  std::atomic<uint64_t> posts_failed_{0};
  uint64_t sequence_ = 0;
  std::thread thread_;
};

}  // namespace trainyard::wrapper
