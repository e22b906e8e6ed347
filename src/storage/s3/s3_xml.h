// The XML of S3's REST API that S3ObjectStore reads and writes, over libxml2. Internal.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/time_format.h"

namespace trainyard::storage::s3 {

// <Error><Code>NoSuchKey</Code><Message>...</Message></Error>; nullopt for any other document.
struct S3ErrorXml {
  std::string code;
  std::string message;
};
std::optional<S3ErrorXml> ParseErrorXml(const std::string& body);

struct ListedObject {
  std::string key;
  uint64_t size = 0;
  TimePoint last_modified;
};
struct ListObjectsV2Result {
  std::vector<ListedObject> objects;
  bool truncated = false;
  std::string next_continuation_token;
};
// InvalidArgument (a malformed answer) naming what is wrong.
Result<ListObjectsV2Result> ParseListObjectsV2(const std::string& body);

// <InitiateMultipartUploadResult><UploadId>.
Result<std::string> ParseUploadId(const std::string& body);

// The CompleteMultipartUpload request body for parts 1..N with these ETags.
std::string CompleteMultipartXml(const std::vector<std::string>& part_etags);

// "2026-11-27T12:00:00.000Z" (XML) and "Fri, 27 Nov 2026 12:00:00 GMT" (HTTP); nullopt when
// malformed.
std::optional<TimePoint> ParseIso8601(const std::string& text);
std::optional<TimePoint> ParseHttpDate(const std::string& text);

}  // namespace trainyard::storage::s3
