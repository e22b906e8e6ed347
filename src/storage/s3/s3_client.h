// One signed S3 request over libcurl, and the retry rules around it. Internal to S3ObjectStore.
//
// Easy handles are pooled so that consecutive requests reuse their connections (TLS handshakes
// and TCP slow start are most of a small request's cost). Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/sigv4.h"
#include "storage/s3/s3_object_store.h"

namespace trainyard::storage::s3 {

struct S3Call {
  std::string method = "GET";  // GET, HEAD, PUT, POST, DELETE
  std::string object_key;      // the whole S3 key, prefix included; "" for the bucket itself
  std::vector<std::pair<std::string, std::string>> query;  // decoded
  aws::HeaderList headers;                                 // beyond Host and the signature's
  std::string_view body;                                   // sent as is (PUT, POST)
  std::string body_sha256_hex;                             // of `body`; computed when empty
  // For a 2xx answer, receives the body as it arrives (false stops the transfer); unset: the
  // body is collected into S3Reply::body. Error bodies are always collected.
  std::function<bool(const char*, size_t)> on_data;
};

struct S3Reply {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  uint64_t streamed_bytes = 0;  // what on_data received
};

class S3Client {
 public:
  explicit S3Client(const S3ObjectStoreOptions& options);
  ~S3Client();

  // One attempt. Any HTTP answer is a reply; a transport failure is Unavailable naming the
  // method, the key and curl's reason; credentials that cannot be had are their provider's error.
  Result<S3Reply> Send(const S3Call& call);

  // Send, again after a backoff while the outcome is retryable (throttling, 5xx, a transport
  // failure) and attempts remain. For calls whose body streams out (on_data), the caller retries.
  Result<S3Reply> SendWithRetries(const S3Call& call);

  // A presigned URL for one `method` request of `object_key` (the whole S3 key), valid for
  // `expires`, signed with the credentials the provider has now (a session token included, as
  // X-Amz-Security-Token). `endpoint` not empty: path-style at that endpoint (the store's
  // address as someone else reaches it). InvalidArgument naming the field for a bad method,
  // endpoint or expiry; the provider's error when it has no credentials.
  Result<std::string> Presign(const std::string& method, const std::string& object_key,
                              std::chrono::seconds expires, const std::string& endpoint) const;

  bool Retryable(const Result<S3Reply>& outcome) const;
  // Sleeps before attempt `attempt` (1-based: the first retry is attempt 2), full jitter.
  void Backoff(int attempt) const;
  int max_attempts() const { return options_.max_attempts; }

 private:
  struct Handle;
  std::unique_ptr<Handle> Acquire();
  void Release(std::unique_ptr<Handle> handle);
  // The URL's path, percent-encoded as S3 wants it ("/bucket/a%20b.csv" or "/a%20b.csv").
  std::string EncodedPath(const std::string& object_key) const;

  S3ObjectStoreOptions options_;
  std::string scheme_host_;  // "https://bucket.s3.us-east-1.amazonaws.com"
  std::string host_header_;  // "bucket.s3.us-east-1.amazonaws.com", with a port when not default
  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<Handle>> pool_;
};

// The error of a non-2xx reply as a Status: 404 NotFound, 403 PermissionDenied, 400/411/416
// InvalidArgument, 409 FailedPrecondition, others Unavailable; the message names the operation,
// the key (`what`) and S3's own code and message.
Status ReplyError(const std::string& operation, const std::string& what, const S3Reply& reply);

}  // namespace trainyard::storage::s3
