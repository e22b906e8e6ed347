// A multipart upload in progress as kept in the store: s3/uploads/<id>/upload.json (bucket,
// key, initiated, content type, metadata) beside its parts s3/uploads/<id>/part-NNNNN.
// Internal; thread-safe (no state).
#pragma once

#include <string>
#include <vector>

#include "common/time_format.h"
#include "server/s3/s3_error.h"
#include "storage/object_store.h"

namespace trainyard::server::s3 {

struct UploadRecord {
  std::string upload_id;  // 32 lowercase hex digits
  std::string bucket;
  std::string key;
  TimePoint initiated;
  std::string content_type;
  storage::ObjectMetadata metadata;
};

Status SaveUploadRecord(storage::ObjectStore& objects, const UploadRecord& record);

// NoSuchUpload when `upload_id` is not a well-formed id, is unknown, or belongs to another
// bucket and key (when those are given); InternalError for a store failure or a bad record.
Result<UploadRecord> LoadUploadRecord(storage::ObjectStore& objects, const std::string& upload_id);
S3Outcome FindUpload(storage::ObjectStore& objects, const std::string& upload_id,
                     const std::string& bucket, const std::string& key, UploadRecord& out);

struct StoredPart {
  int number = 0;
  storage::ObjectInfo info;  // sha256_hex filled (Head) when the listing lacks it
};

// The upload's stored parts, by part number, starting after `after_number`, at most `limit`.
Result<std::vector<StoredPart>> ListStoredParts(storage::ObjectStore& objects,
                                                const std::string& upload_id, int after_number,
                                                size_t limit);

// Deletes every part and then the record. Internal on a store failure.
Status DeleteUpload(storage::ObjectStore& objects, const std::string& upload_id);

// A small object's bytes (records, markers).
Result<std::string> ReadSmallObject(storage::ObjectStore& objects, const std::string& key);

// The part number query parameter: 1..10000, else nullopt.
std::optional<int> ParsePartNumber(const std::string& text);

}  // namespace trainyard::server::s3
