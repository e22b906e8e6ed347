// S3ObjectStore's multipart Put: the caller's thread reads parts from the source in turn (the
// source is a stream, read once) and hands each to one of `parallel_parts` workers, which send
// them with retries. A part is handed over only when a worker is free, so at most
// parallel_parts + 1 parts are in memory. Anything that fails (a part, a short source, a digest
// that does not match, the completion) aborts the upload, so that no parts are left behind.
#include <condition_variable>
#include <istream>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "common/log.h"
#include "storage/s3/s3_object_store_impl.h"
#include "storage/s3/s3_xml.h"
#include "storage/sha256.h"

namespace trainyard::storage::s3 {
namespace {

constexpr uint64_t kMaxParts = 10'000;

struct Part {
  int number = 0;  // 1-based
  std::string data;
};

// The hand-over between the reader and the workers, and what the workers found.
class PartQueue {
 public:
  // Blocks until a worker is free to take the part; false once the upload failed.
  bool Hand(Part part) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return (!slot_ && idle_ > 0) || !error_.ok(); });
    if (!error_.ok()) return false;
    slot_ = std::move(part);
    changed_.notify_all();
    return true;
  }
  // For workers: the next part, or nullopt when the reader is done or the upload failed.
  std::optional<Part> Take() {
    std::unique_lock lock(mutex_);
    ++idle_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return slot_ || closed_ || !error_.ok(); });
    --idle_;
    if (!error_.ok() || !slot_) return std::nullopt;
    std::optional<Part> part = std::move(slot_);
    slot_.reset();
    changed_.notify_all();
    return part;
  }
  void Close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    changed_.notify_all();
  }
  void Fail(Status error) {
    std::lock_guard lock(mutex_);
    if (error_.ok()) error_ = std::move(error);
    changed_.notify_all();
  }
  Status error() {
    std::lock_guard lock(mutex_);
    return error_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<Part> slot_;
  int idle_ = 0;
  bool closed_ = false;
  Status error_;
};

}  // namespace

Result<ObjectInfo> S3ObjectStore::PutMultipart(const std::string& key, std::istream& source,
                                               uint64_t size, const PutOptions& options,
                                               const std::optional<std::string>& expected_sha) {
  const std::string s3_key = S3Key(key);
  // S3 allows 10,000 parts: a huge object gets larger parts than configured.
  uint64_t part_size = std::max(options_.part_size, (size + kMaxParts - 1) / kMaxParts);
  uint64_t part_count = (size + part_size - 1) / part_size;

  S3Call create{.method = "POST",
                .object_key = s3_key,
                .query = {{"uploads", ""}},
                .headers = PutHeaders(options, "")};
  TY_ASSIGN_OR_RETURN(S3Reply created, client_.SendWithRetries(create));
  if (created.status / 100 != 2) {
    return ReplyError("CreateMultipartUpload", ObjectName(key), created);
  }
  TY_ASSIGN_OR_RETURN(std::string upload_id, ParseUploadId(created.body));

  std::vector<std::string> etags(part_count);
  PartQueue queue;
  std::vector<std::thread> workers;
  int worker_count = static_cast<int>(std::min<uint64_t>(options_.parallel_parts, part_count));
  for (int i = 0; i < worker_count; ++i) {
    workers.emplace_back([&] {
      while (std::optional<Part> part = queue.Take()) {
        S3Call call{
            .method = "PUT",
            .object_key = s3_key,
            .query = {{"partNumber", std::to_string(part->number)}, {"uploadId", upload_id}},
            .body = part->data};
        Result<S3Reply> reply = client_.SendWithRetries(call);
        if (!reply.ok()) return queue.Fail(reply.status());
        if (reply->status / 100 != 2 || reply->headers["etag"].empty()) {
          return queue.Fail(
              ReplyError("UploadPart " + std::to_string(part->number), ObjectName(key), *reply));
        }
        etags[part->number - 1] = reply->headers["etag"];
      }
    });
  }

  Sha256 hasher;
  uint64_t read = 0;
  for (uint64_t number = 1; number <= part_count; ++number) {
    Part part{static_cast<int>(number), std::string(std::min(part_size, size - read), '\0')};
    source.read(part.data.data(), static_cast<std::streamsize>(part.data.size()));
    auto got = static_cast<uint64_t>(source.gcount());
    if (got < part.data.size()) {
      queue.Fail(InvalidArgument(ObjectName(key) + ": the source ended after " +
                                 std::to_string(read + got) + " of " + std::to_string(size) +
                                 " bytes"));
      break;
    }
    hasher.Update(part.data.data(), part.data.size());
    read += got;
    if (!queue.Hand(std::move(part))) break;
  }
  queue.Close();
  for (std::thread& worker : workers) worker.join();

  Status failed = queue.error();
  std::string sha = failed.ok() ? hasher.FinishHex() : "";
  if (failed.ok() && expected_sha && sha != *expected_sha) {
    failed = InvalidArgument(ObjectName(key) + ": SHA-256 of the data is " + sha + ", expected " +
                             *expected_sha);
  }
  if (failed.ok()) {
    std::string body = CompleteMultipartXml(etags);
    S3Call complete{.method = "POST",
                    .object_key = s3_key,
                    .query = {{"uploadId", upload_id}},
                    .headers = {{"Content-Type", "application/xml"}},
                    .body = body};
    Result<S3Reply> reply = client_.SendWithRetries(complete);
    // S3 may answer 200 and report the failure in the body (it sends the status before it
    // knows the outcome).
    if (!reply.ok()) {
      failed = reply.status();
    } else if (reply->status / 100 != 2 || ParseErrorXml(reply->body)) {
      failed = ReplyError("CompleteMultipartUpload", ObjectName(key), *reply);
    }
  }
  if (!failed.ok()) {
    AbortUpload(s3_key, upload_id);
    return failed;
  }
  return ObjectInfo{
      key,
      size,
      sha,
      std::chrono::system_clock::now(),
      options.content_type.empty() ? "application/octet-stream" : options.content_type,
      options.metadata};
}

void S3ObjectStore::AbortUpload(const std::string& s3_key, const std::string& upload_id) {
  // Best effort, with retries: the caller is returning the error that got us here. A failure
  // leaves an incomplete upload (billed as storage) until a bucket lifecycle rule
  // (AbortIncompleteMultipartUpload) removes it, so it is logged.
  auto reply = client_.SendWithRetries(
      {.method = "DELETE", .object_key = s3_key, .query = {{"uploadId", upload_id}}});
  Status aborted = reply.status();
  if (reply.ok() && reply->status / 100 != 2) {
    aborted = ReplyError("AbortMultipartUpload", s3_key, *reply);
  }
  WarnIfFailed("storage", aborted, "key={} upload={} could not be aborted", s3_key, upload_id);
}

}  // namespace trainyard::storage::s3
