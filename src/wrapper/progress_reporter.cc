#include "wrapper/progress_reporter.h"

#include <algorithm>
#include <cstdio>

#include "wrapper/curl_library.h"
#include "wrapper/http_post.h"

namespace trainyard::wrapper {
using nlohmann::json;

namespace {

template <typename T>
uint64_t KeepNewest(std::vector<T>& items, size_t limit) {
  if (items.size() <= limit) return 0;
  size_t excess = items.size() - limit;
  items.erase(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(excess));
  return excess;
}

size_t DiscardBody(char*, size_t size, size_t count, void*) {
  return size * count;
}

// Lets Finish cut a request short: a hanging server must not hold the job's exit.
int AbortWhenAbandoned(void* abandon, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<std::atomic<bool>*>(abandon)->load() ? 1 : 0;
}

}  // namespace

ProgressReporter::ProgressReporter(ReporterOptions options) : options_(std::move(options)) {
  thread_ = std::thread([this] { Run(); });
}

ProgressReporter::~ProgressReporter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  abandon_ = true;
  wake_.notify_all();
  thread_.join();
}

void ProgressReporter::MergeLocked(Pending batch, bool in_front) {
  Pending& p = pending_;
  // Progress is a snapshot: the newer one wins.
  if (in_front) {
    if (!p.progress) p.progress = std::move(batch.progress);
    batch.metrics.insert(batch.metrics.end(), p.metrics.begin(), p.metrics.end());
    batch.log.insert(batch.log.end(), p.log.begin(), p.log.end());
    p.metrics = std::move(batch.metrics);
    p.log = std::move(batch.log);
    if (!p.exit) p.exit = std::move(batch.exit);
  } else {
    if (batch.progress) p.progress = std::move(batch.progress);
    p.metrics.insert(p.metrics.end(), batch.metrics.begin(), batch.metrics.end());
    p.log.insert(p.log.end(), batch.log.begin(), batch.log.end());
    if (batch.exit) p.exit = std::move(batch.exit);
  }
  p.dropped_log_lines +=
      batch.dropped_log_lines + KeepNewest(p.log, options_.max_pending_log_lines);
  p.dropped_metric_points +=
      batch.dropped_metric_points + KeepNewest(p.metrics, options_.max_pending_metric_points);
}

void ProgressReporter::Submit(ProgressUpdate update) {
  {
    std::lock_guard lock(mutex_);
    Pending batch{std::move(update.progress), std::move(update.metrics), std::move(update.log)};
    batch.dropped_log_lines = update.dropped_log_lines;
    MergeLocked(std::move(batch), /*in_front=*/false);
  }
  wake_.notify_all();
}

void ProgressReporter::Finish(ProgressUpdate update, contract::ProgressExit exit,
                              std::chrono::milliseconds deadline) {
  Pending last{std::move(update.progress), std::move(update.metrics), std::move(update.log)};
  last.dropped_log_lines = update.dropped_log_lines;
  std::unique_lock lock(mutex_);
  // The exit alone, from a job that never had anything to report, is not worth a request: the
  // server learns the exit from the job's executor, and the request would cost a short job
  // (a search's trial) a round trip.
  if (sequence_ == 0 && !sending_ && pending_.empty() && last.empty()) return;
  last.exit = std::move(exit);
  MergeLocked(std::move(last), /*in_front=*/false);
  retry_now_ = true;
  wake_.notify_all();
  idle_.wait_for(lock, deadline, [this] { return pending_.empty() && !sending_; });
}

json ProgressReporter::BuildBody(const Pending& batch, uint64_t sequence) const {
  contract::ProgressBody body{.job_name = options_.job_name,
                              .sequence = sequence,
                              .sent_at = std::chrono::system_clock::now(),
                              .progress = batch.progress,
                              .dropped_log_lines = batch.dropped_log_lines,
                              .dropped_metric_points = batch.dropped_metric_points,
                              .exit = batch.exit};
  body.metrics.reserve(batch.metrics.size());
  for (const MetricPoint& point : batch.metrics) {
    body.metrics.push_back({point.name, point.value, point.step, point.time});
  }
  body.log.reserve(batch.log.size());
  for (const LogLine& line : batch.log) {
    body.log.push_back({line.stream == Stream::kStderr ? contract::LogStream::kStderr
                                                       : contract::LogStream::kStdout,
                        line.text, line.time});
  }
  return contract::EncodeProgressBody(body);
}

bool ProgressReporter::Post(const std::string& body) {
  long http_status = 0;
  std::optional<HttpUrl> plain = options_.through_proxy ? std::nullopt : ParseHttpUrl(options_.url);
  if (plain) {
    PostRequest request{.url = *plain, .headers = {"Content-Type: application/json"}, .body = body};
    if (!options_.token.empty())
      request.headers.push_back("Authorization: Bearer " + options_.token);
    request.timeout = options_.request_timeout;
    http_status = PostPlainHttp(request, abandon_).status;
  } else {
    http_status = PostWithCurl(body);
  }
  // A 4xx other than 408/429 will not get better by retrying (bad token, job gone): the batch
  // is dropped rather than retried forever.
  if (http_status >= 400 && http_status < 500 && http_status != 408 && http_status != 429) {
    return true;
  }
  return http_status >= 200 && http_status < 300;
}

long ProgressReporter::PostWithCurl(const std::string& body) {
  std::string error;
  const CurlLibrary* curl_library = LoadCurlLibrary(&error);
  if (!curl_library) {
    if (!load_error_reported_.exchange(true)) {
      std::fprintf(stderr, "trainyard-wrap: progress is not reported: %s\n", error.c_str());
    }
    return 0;
  }
  const CurlLibrary& lib = *curl_library;
  CURL* curl = lib.easy_init();
  if (!curl) return 0;
  curl_slist* headers = nullptr;
  headers = lib.slist_append(headers, "Content-Type: application/json");
  std::string authorization = "Authorization: Bearer " + options_.token;
  if (!options_.token.empty()) headers = lib.slist_append(headers, authorization.c_str());
  lib.easy_setopt(curl, CURLOPT_URL, options_.url.c_str());
  lib.easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  lib.easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  lib.easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  lib.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  lib.easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
  lib.easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout.count()));
  lib.easy_setopt(curl, CURLOPT_WRITEFUNCTION, DiscardBody);
  lib.easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  lib.easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, AbortWhenAbandoned);
  lib.easy_setopt(curl, CURLOPT_XFERINFODATA, &abandon_);
  CURLcode result = lib.easy_perform(curl);
  long http_status = 0;
  lib.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http_status);
  lib.slist_free_all(headers);
  lib.easy_cleanup(curl);
  return result == CURLE_OK ? http_status : 0;
}

void ProgressReporter::Run() {
  std::chrono::milliseconds backoff{0};
  std::unique_lock lock(mutex_);
  while (true) {
    if (backoff.count() > 0) {
      wake_.wait_for(lock, backoff, [this] { return stopping_ || retry_now_; });
      retry_now_ = false;
    } else {
      wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
    }
    if (stopping_) return;
    if (pending_.empty()) continue;
    Pending batch = std::move(pending_);
    pending_ = Pending{};
    sending_ = true;
    uint64_t sequence = ++sequence_;
    lock.unlock();
    bool delivered = Post(BuildBody(batch, sequence).dump());
    lock.lock();
    sending_ = false;
    if (delivered) {
      ++posts_succeeded_;
      backoff = std::chrono::milliseconds{0};
    } else {
      ++posts_failed_;
      MergeLocked(std::move(batch), /*in_front=*/true);
      backoff = backoff.count() == 0 ? options_.first_backoff
                                     : std::min(backoff * 2, options_.max_backoff);
    }
    idle_.notify_all();
  }
}

}  // namespace trainyard::wrapper
