// Names and spellings of the S3 endpoint: bucket and key rules, where buckets, objects and
// multipart uploads live in the ObjectStore (see s3_api.h), ETags and dates. Internal;
// thread-safe (no state).
#pragma once

#include <string>

#include "common/time_format.h"
#include "server/s3/s3_error.h"

namespace trainyard::server::s3 {

// S3's bucket naming rules (3-63 of a-z 0-9 . -, starting and ending with a letter or digit,
// no "..", not an IP address, no reserved prefix/suffix). InvalidBucketName naming it.
S3Outcome CheckBucketName(const std::string& bucket);

// storage::ValidateObjectKey's rules: KeyTooLongError above 1024 bytes, otherwise
// InvalidArgument with a message naming the (escaped) key.
S3Outcome CheckObjectKey(const std::string& key);

std::string BucketMarkerKey(const std::string& bucket);      // s3/buckets/<bucket>
std::string BucketObjectsPrefix(const std::string& bucket);  // s3/objects/<bucket>/
std::string ObjectStoreKey(const std::string& bucket, const std::string& key);
inline constexpr char kUploadsPrefix[] = "s3/uploads/";
std::string UploadRecordKey(const std::string& upload_id);           // s3/uploads/<id>/upload.json
std::string PartsPrefix(const std::string& upload_id);               // s3/uploads/<id>/part-
std::string PartKey(const std::string& upload_id, int part_number);  // ...part-00001

// "\"<first 32 hex digits of the SHA-256>\"". Without a digest (a store that does not know it):
// a stable substitute made of the size and modification time.
std::string ETagOf(const std::string& sha256_hex, uint64_t size, TimePoint last_modified);

// "Wed, 12 Oct 2009 17:50:00 GMT" (RFC 1123, for Last-Modified).
std::string FormatHttpDate(TimePoint time);
// "2009-10-12T17:50:30.000Z" (for XML documents).
std::string FormatXmlDate(TimePoint time);

// `bytes` random bytes as lowercase hex (upload ids, request ids, generated keys).
std::string RandomHex(size_t bytes);

}  // namespace trainyard::server::s3
