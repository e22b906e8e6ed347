// S3ObjectStore's single-request operations: Put below the multipart threshold, Head, Get, List,
// Delete. Multipart uploads are in s3_multipart.cc, the options and URIs in s3_open.cc.
#include <istream>
#include <ostream>

#include "aws/crypto.h"
#include "storage/s3/s3_object_store_impl.h"
#include "storage/s3/s3_xml.h"
#include "storage/sha256.h"

namespace trainyard::storage::s3 {
namespace {

constexpr char kDefaultContentType[] = "application/octet-stream";
constexpr char kMetaHeaderPrefix[] = "x-amz-meta-";
constexpr size_t kMaxS3KeyBytes = 1024;

bool IsLowerHex64(const std::string& text) {
  return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// Reads exactly `size` bytes; InvalidArgument naming the object when the source ends first.
Status ReadExactly(std::istream& source, char* buffer, uint64_t size, const std::string& key,
                   uint64_t already_read, uint64_t total) {
  source.read(buffer, static_cast<std::streamsize>(size));
  auto got = static_cast<uint64_t>(source.gcount());
  if (got < size) {
    return InvalidArgument(ObjectName(key) + ": the source ended after " +
                           std::to_string(already_read + got) + " of " + std::to_string(total) +
                           " bytes");
  }
  return Status::Ok();
}

}  // namespace

std::string ObjectName(const std::string& key) {
  return "object '" + key + "'";
}

std::string S3ObjectStore::S3Key(const std::string& key) const {
  return options_.prefix.empty() ? key : options_.prefix + "/" + key;
}

Status S3ObjectStore::ValidateKey(const std::string& key) const {
  TY_RETURN_IF_ERROR(ValidateObjectKey(key));
  if (S3Key(key).size() > kMaxS3KeyBytes) {
    return InvalidArgument("invalid object key '" + key.substr(0, 80) + "...': with the prefix '" +
                           options_.prefix + "/' it is longer than S3's 1024 bytes");
  }
  return Status::Ok();
}

aws::HeaderList S3ObjectStore::PutHeaders(const PutOptions& options,
                                          const std::string& sha256_hex) const {
  aws::HeaderList headers;
  headers.emplace_back("Content-Type",
                       options.content_type.empty() ? kDefaultContentType : options.content_type);
  for (const auto& [name, value] : options.metadata) {
    headers.emplace_back(kMetaHeaderPrefix + name, value);
  }
  if (!sha256_hex.empty())
    headers.emplace_back(std::string(kMetaHeaderPrefix) + kShaMetadata, sha256_hex);
  return headers;
}

Result<ObjectInfo> S3ObjectStore::Put(const std::string& key, std::istream& source, uint64_t size,
                                      const PutOptions& options) {
  TY_RETURN_IF_ERROR(ValidateKey(key));
  TY_ASSIGN_OR_RETURN(std::optional<std::string> expected_sha, CheckPutOptions(key, options));
  if (options.metadata.contains(kShaMetadata)) {
    return InvalidArgument(ObjectName(key) + ": metadata '" + kShaMetadata +
                           "' is reserved for the object's digest");
  }
  if (size > options_.multipart_threshold) {
    return PutMultipart(key, source, size, options, expected_sha);
  }
  return PutSingle(key, source, size, options, expected_sha);
}

Result<ObjectInfo> S3ObjectStore::PutSingle(const std::string& key, std::istream& source,
                                            uint64_t size, const PutOptions& options,
                                            const std::optional<std::string>& expected_sha) {
  std::string body(size, '\0');
  TY_RETURN_IF_ERROR(ReadExactly(source, body.data(), size, key, 0, size));
  Sha256 hasher;
  hasher.Update(body.data(), body.size());
  std::string sha = hasher.FinishHex();
  if (expected_sha && sha != *expected_sha) {
    return InvalidArgument(ObjectName(key) + ": SHA-256 of the data is " + sha + ", expected " +
                           *expected_sha);
  }
  S3Call call{.method = "PUT",
              .object_key = S3Key(key),
              .headers = PutHeaders(options, sha),
              .body = body,
              .body_sha256_hex = sha};
  TY_ASSIGN_OR_RETURN(S3Reply reply, client_.SendWithRetries(call));
  if (reply.status / 100 != 2) return ReplyError("PutObject", ObjectName(key), reply);
  return ObjectInfo{key,
                    size,
                    sha,
                    std::chrono::system_clock::now(),
                    options.content_type.empty() ? kDefaultContentType : options.content_type,
                    options.metadata};
}

Result<ObjectInfo> S3ObjectStore::Head(const std::string& key) {
  std::string etag;
  return HeadWithEtag(key, &etag);
}

Result<ObjectInfo> S3ObjectStore::HeadWithEtag(const std::string& key, std::string* etag) {
  TY_RETURN_IF_ERROR(ValidateKey(key));
  // With checksum mode, S3 (and trainyard's endpoint) report a full-object SHA-256 checksum
  // where they keep one, whoever wrote the object.
  TY_ASSIGN_OR_RETURN(S3Reply reply,
                      client_.SendWithRetries({.method = "HEAD",
                                               .object_key = S3Key(key),
                                               .headers = {{"x-amz-checksum-mode", "ENABLED"}}}));
  if (reply.status == 404) return NotFound(ObjectName(key) + " not found");
  if (reply.status / 100 != 2) return ReplyError("HeadObject", ObjectName(key), reply);

  ObjectInfo info{.key = key};
  const std::string& length = reply.headers["content-length"];
  char* end = nullptr;
  info.size = std::strtoull(length.c_str(), &end, 10);
  std::optional<TimePoint> modified = ParseHttpDate(reply.headers["last-modified"]);
  if (length.empty() || *end != '\0' || !modified) {
    return Unavailable("S3 HeadObject of " + ObjectName(key) +
                       " answered without a usable Content-Length or Last-Modified");
  }
  info.last_modified = *modified;
  *etag = reply.headers["etag"];
  info.content_type = reply.headers["content-type"];
  if (info.content_type.empty()) info.content_type = kDefaultContentType;
  // A multipart upload's checksum ends in "-<parts>": a checksum of checksums, not the object's.
  if (auto checksum = aws::Base64Decode(reply.headers["x-amz-checksum-sha256"]);
      checksum && checksum->size() == 32) {
    info.sha256_hex = aws::HexEncode(*checksum);
  }
  for (const auto& [name, value] : reply.headers) {
    if (!name.starts_with(kMetaHeaderPrefix)) continue;
    std::string entry = name.substr(sizeof(kMetaHeaderPrefix) - 1);
    if (entry == kShaMetadata) {
      if (IsLowerHex64(value) && info.sha256_hex.empty()) info.sha256_hex = value;
    } else {
      info.metadata[entry] = value;
    }
  }
  return info;
}

Status S3ObjectStore::Get(const std::string& key, std::ostream& sink,
                          std::optional<ByteRange> range) {
  // Head first: the range is checked against the size as every store does (S3 would cut it
  // short silently), and the ETag pins the version a resumed read continues.
  for (int attempt = 1;; ++attempt) {
    std::string etag;
    TY_ASSIGN_OR_RETURN(ObjectInfo info, HeadWithEtag(key, &etag));
    Status read = ReadVersion(info, etag, sink, range);
    // Replaced between the Head and the first byte: any version will do, so the new one.
    if (read.code() != StatusCode::kFailedPrecondition || attempt >= client_.max_attempts()) {
      return read;
    }
  }
}

namespace {

class S3ObjectReader : public ObjectReader {
 public:
  S3ObjectReader(S3ObjectStore& store, ObjectInfo info, std::string etag)
      : store_(store), info_(std::move(info)), etag_(std::move(etag)) {}
  const ObjectInfo& info() const override { return info_; }
  Status Read(std::ostream& sink, std::optional<ByteRange> range) override {
    Status read = store_.ReadVersion(info_, etag_, sink, range);
    if (read.code() != StatusCode::kFailedPrecondition) return read;
    return Unavailable(ObjectName(info_.key) + " was replaced after it was opened");
  }

 private:
  S3ObjectStore& store_;
  ObjectInfo info_;
  std::string etag_;
};

}  // namespace

Result<std::unique_ptr<ObjectReader>> S3ObjectStore::OpenVersion(const std::string& key) {
  std::string etag;
  TY_ASSIGN_OR_RETURN(ObjectInfo info, HeadWithEtag(key, &etag));
  return std::unique_ptr<ObjectReader>(
      std::make_unique<S3ObjectReader>(*this, std::move(info), std::move(etag)));
}

Status S3ObjectStore::ReadVersion(const ObjectInfo& info, const std::string& etag,
                                  std::ostream& sink, std::optional<ByteRange> range) {
  const std::string& key = info.key;
  uint64_t offset = range ? range->offset : 0;
  uint64_t length = info.size - std::min(offset, info.size);
  if (range && range->length) length = *range->length;
  if (offset > info.size || length > info.size - offset) {
    return InvalidArgument(ObjectName(key) + ": range " + std::to_string(offset) + "+" +
                           std::to_string(length) + " lies beyond its " +
                           std::to_string(info.size) + " bytes");
  }
  if (length == 0) return Status::Ok();

  uint64_t delivered = 0;
  S3Call call{.method = "GET", .object_key = S3Key(key)};
  call.on_data = [&](const char* data, size_t bytes) {
    sink.write(data, static_cast<std::streamsize>(bytes));
    delivered += bytes;
    return static_cast<bool>(sink);
  };
  for (int attempt = 1;; ++attempt) {
    call.headers = {{"Range", "bytes=" + std::to_string(offset + delivered) + "-" +
                                  std::to_string(offset + length - 1)}};
    if (!etag.empty()) call.headers.emplace_back("If-Match", etag);
    Result<S3Reply> reply = client_.Send(call);
    if (reply.ok() && reply->status / 100 == 2 && delivered == length) return Status::Ok();
    if (!sink) return Internal("cannot write " + ObjectName(key) + " to its sink");
    if (reply.ok() && reply->status == 404) return NotFound(ObjectName(key) + " not found");
    if (reply.ok() && reply->status == 412) {
      if (delivered == 0) return FailedPrecondition(ObjectName(key) + " was replaced");
      return Unavailable(ObjectName(key) + " was replaced while it was being read");
    }
    // A 2xx that ended short is a dropped connection too.
    bool retry = client_.Retryable(reply) || (reply.ok() && reply->status / 100 == 2);
    if (!retry || attempt >= client_.max_attempts()) {
      if (!reply.ok()) return reply.status();
      if (reply->status / 100 == 2) {
        return Unavailable("S3 GetObject of " + ObjectName(key) + " ended after " +
                           std::to_string(delivered) + " of " + std::to_string(length) + " bytes");
      }
      return ReplyError("GetObject", ObjectName(key), *reply);
    }
    client_.Backoff(attempt + 1);
  }
}

Result<ListPage> S3ObjectStore::List(const std::string& prefix, const std::string& start_after,
                                     size_t max_keys) {
  if (max_keys == 0 || max_keys > 1000) max_keys = 1000;
  std::string s3_prefix = options_.prefix.empty() ? prefix : options_.prefix + "/" + prefix;
  S3Call call{
      .method = "GET",
      .query = {{"list-type", "2"}, {"prefix", s3_prefix}, {"max-keys", std::to_string(max_keys)}}};
  if (!start_after.empty()) call.query.emplace_back("start-after", S3Key(start_after));
  TY_ASSIGN_OR_RETURN(S3Reply reply, client_.SendWithRetries(call));
  if (reply.status / 100 != 2) {
    return ReplyError("ListObjectsV2", "prefix '" + prefix + "'", reply);
  }
  TY_ASSIGN_OR_RETURN(ListObjectsV2Result result, ParseListObjectsV2(reply.body));
  ListPage page;
  page.truncated = result.truncated;
  size_t strip = options_.prefix.empty() ? 0 : options_.prefix.size() + 1;
  for (ListedObject& object : result.objects) {
    if (object.key.size() <= strip) continue;  // the prefix itself, written by another tool
    page.objects.push_back(ObjectInfo{.key = object.key.substr(strip),
                                      .size = object.size,
                                      .last_modified = object.last_modified});
  }
  return page;
}

Status S3ObjectStore::Delete(const std::string& key) {
  TY_RETURN_IF_ERROR(ValidateKey(key));
  TY_ASSIGN_OR_RETURN(S3Reply reply,
                      client_.SendWithRetries({.method = "DELETE", .object_key = S3Key(key)}));
  if (reply.status / 100 == 2 || reply.status == 404) {
    // S3 answers 204 for a missing key; some compatible stores answer 404 NoSuchKey.
    if (reply.status == 404) {
      std::optional<S3ErrorXml> error = ParseErrorXml(reply.body);
      if (error && error->code != "NoSuchKey") {
        return ReplyError("DeleteObject", ObjectName(key), reply);
      }
    }
    return Status::Ok();
  }
  return ReplyError("DeleteObject", ObjectName(key), reply);
}

Result<std::string> S3ObjectStore::PresignedUrl(const std::string& key, const std::string& method,
                                                std::chrono::seconds expires,
                                                const std::string& endpoint) {
  TY_RETURN_IF_ERROR(ValidateKey(key));
  auto url = client_.Presign(method, S3Key(key), expires, endpoint);
  if (!url.ok()) return url.status().WithContext("presigning " + ObjectName(key));
  return url;
}

}  // namespace trainyard::storage::s3
