// s3rver (an S3 implementation from npm that trainyard's tests install: tests/npm) started on a
// free loopback port for a test binary, and an S3ObjectStore factory over it. Test-only.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "storage/object_store_conformance.h"
#include "storage/s3/s3_object_store.h"
#include "support/subprocess.h"

namespace trainyard::storage {

class S3rverPeer {
 public:
  // The one s3rver of this test binary, started at the first call (with bucket kBucket); null
  // when it cannot run here, with the reason in *why_not.
  static S3rverPeer* Shared(std::string* why_not);
  // An s3rver of the caller's own (with bucket kBucket), which logs every request it answered
  // when `log_requests` (RequestLog); null when it cannot run here, with the reason.
  static std::unique_ptr<S3rverPeer> Start(std::string* why_not, bool log_requests);

  static constexpr char kBucket[] = "conformance";
  static constexpr char kAccessKeyId[] = "S3RVER";  // s3rver's built-in account
  static constexpr char kSecretAccessKey[] = "S3RVER";

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // What s3rver printed: with log_requests, a line per answered request ("PUT /bucket/key?...
  // 200 ...", in ANSI colours; the query holds presigned URLs' signatures: for test output
  // only).
  std::string RequestLog() const { return process_->OutputSoFar(); }
  // The lines of the request log that answered `method` for `path` (colours removed).
  std::vector<std::string> RequestsFor(const std::string& method, const std::string& path) const;
  // A store over bucket kBucket under `prefix`, with s3rver's account (TestS3Options).
  Result<ObjectStorePtr> Store(const std::string& prefix) const;
  // How many objects lie under `key_prefix` of `store` once none does or `timeout` has passed
  // (listed every 50 ms; 1000 while it cannot be listed): a job's staging objects go only after
  // its end is recorded, which the API may show first.
  static size_t ObjectsLeftUnder(ObjectStore& store, const std::string& key_prefix,
                                 std::chrono::milliseconds timeout);

 private:
  int port_ = 0;
  std::unique_ptr<testing::TempDir> data_;
  std::unique_ptr<testing::Process> process_;
};

// Options for a store in `bucket` under `prefix` at `endpoint` with these static keys, with small
// parts (5 MiB, two at a time, multipart above 8 MiB) so that tests exercise multipart uploads.
S3ObjectStoreOptions TestS3Options(const std::string& endpoint, const std::string& bucket,
                                   const std::string& prefix, const std::string& access_key_id,
                                   const std::string& secret_access_key);

}  // namespace trainyard::storage
