// The S3ObjectStore class behind MakeS3ObjectStore. Internal: users hold an ObjectStore.
#pragma once

#include <istream>
#include <string>

#include "storage/s3/s3_client.h"
#include "storage/s3/s3_object_store.h"
#include "storage/url_presigner.h"

namespace trainyard::storage::s3 {

// The metadata entry that carries the object's SHA-256 (x-amz-meta-trainyard-sha256); Head
// reports it as sha256_hex, not among the user's metadata.
inline constexpr char kShaMetadata[] = "trainyard-sha256";

class S3ObjectStore : public ObjectStore, public UrlPresigner {
 public:
  explicit S3ObjectStore(S3ObjectStoreOptions options)
      : options_(std::move(options)), client_(options_) {}

  Result<ObjectInfo> Put(const std::string& key, std::istream& source, uint64_t size,
                         const PutOptions& options) override;
  Result<ObjectInfo> Head(const std::string& key) override;
  Status Get(const std::string& key, std::ostream& sink, std::optional<ByteRange> range) override;
  // The ETag pins the version: a replaced one fails with Unavailable, never mixes.
  Result<std::unique_ptr<ObjectReader>> OpenVersion(const std::string& key) override;
  // `range` of the version `info` names by `etag` (If-Match; empty: whatever is there).
  // FailedPrecondition when it was replaced before its first byte; Unavailable after.
  Status ReadVersion(const ObjectInfo& info, const std::string& etag, std::ostream& sink,
                     std::optional<ByteRange> range);
  Result<ListPage> List(const std::string& prefix, const std::string& start_after,
                        size_t max_keys) override;
  Status Delete(const std::string& key) override;
  Result<std::string> PresignedUrl(const std::string& key, const std::string& method,
                                   std::chrono::seconds expires,
                                   const std::string& endpoint) override;

 private:
  // "<prefix>/<key>", or the key alone without a prefix.
  std::string S3Key(const std::string& key) const;
  // ValidateObjectKey, and S3's 1024-byte limit on the key with the prefix.
  Status ValidateKey(const std::string& key) const;
  // Head, and the object's ETag, which pins the version a Get reads (If-Match).
  Result<ObjectInfo> HeadWithEtag(const std::string& key, std::string* etag);
  // Content-Type and x-amz-meta-* headers of a Put.
  aws::HeaderList PutHeaders(const PutOptions& options, const std::string& sha256_hex) const;
  Result<ObjectInfo> PutSingle(const std::string& key, std::istream& source, uint64_t size,
                               const PutOptions& options,
                               const std::optional<std::string>& expected_sha);
  // s3_multipart.cc
  Result<ObjectInfo> PutMultipart(const std::string& key, std::istream& source, uint64_t size,
                                  const PutOptions& options,
                                  const std::optional<std::string>& expected_sha);
  void AbortUpload(const std::string& s3_key, const std::string& upload_id);

  S3ObjectStoreOptions options_;
  S3Client client_;
};

// "object 'k'", as every store's messages name keys.
std::string ObjectName(const std::string& key);

}  // namespace trainyard::storage::s3
