// Object operations: PutObject, GetObject/HeadObject, DeleteObject, DeleteObjects. Bodies are
// streamed both ways (UploadBodyBuffer into Put, ResponseStreamBuffer out of Get); nothing
// holds a whole object in memory.
#include <istream>
#include <memory>
#include <ostream>

#include "aws/crypto.h"
#include "server/http/body_streams.h"
#include "server/s3/aws_chunked.h"
#include "server/s3/s3_conditions.h"
#include "server/s3/s3_names.h"
#include "server/s3/s3_operations.h"
#include "server/s3/s3_xml.h"
#include "server/s3/upload_body.h"

namespace trainyard::server::s3 {

storage::ObjectMetadata MetadataFromHeaders(const HttpRequest& request) {
  storage::ObjectMetadata metadata;
  const std::string prefix = "x-amz-meta-";
  for (const auto& [name, value] : request.headers) {
    if (name.rfind(prefix, 0) == 0) metadata[name.substr(prefix.size())] = value;
  }
  return metadata;
}

Result<storage::ObjectInfo> StoreBody(S3Call& call, const std::string& store_key,
                                      const storage::PutOptions& given, S3Outcome& error) {
  auto fail = [&](S3Error e) -> Result<storage::ObjectInfo> {
    error = std::move(e);
    return Internal(error->message);
  };
  const std::string& payload = call.auth.payload_sha256;
  const std::string& content_md5 = call.request.Header("content-md5");
  if (!UploadBodyBuffer::ValidContentMd5(content_md5)) {
    return fail(MakeError(400, "InvalidDigest",
                          "The Content-MD5 you specified is not valid: '" + content_md5 + "'"));
  }
  storage::PutOptions options = given;
  // An aws-chunked body is decoded (and its chunk signatures checked) on the way in.
  std::unique_ptr<AwsChunkedReader> chunked;
  BodyReader* body = &call.body;
  uint64_t size = 0;
  if (payload.rfind("STREAMING-", 0) == 0) {
    const std::string& trailer = call.request.Header("x-amz-trailer");
    if (auto unsupported = CheckAwsChunkedSupport(payload, trailer)) return fail(*unsupported);
    const std::string& decoded = call.request.Header("x-amz-decoded-content-length");
    if (decoded.empty() || decoded.find_first_not_of("0123456789") != std::string::npos ||
        decoded.size() > 19) {
      return fail(MakeError(411, "MissingContentLength",
                            "an aws-chunked body needs x-amz-decoded-content-length"));
    }
    AwsChunkedOptions chunk_options{payload, std::stoull(decoded), trailer, call.auth.signing,
                                    call.auth.seed_signature};
    size = chunk_options.decoded_length;
    chunked = std::make_unique<AwsChunkedReader>(call.body, std::move(chunk_options));
    body = chunked.get();
  } else {
    if (!call.request.content_length) {
      return fail(MakeError(411, "MissingContentLength",
                            "You must provide the Content-Length HTTP header"));
    }
    size = *call.request.content_length;
    if (payload.size() == 64) options.expected_sha256_hex = payload;
  }
  UploadBodyBuffer buffer(*body, size, content_md5);
  std::istream source(&buffer);
  auto put = call.objects.Put(store_key, source, size, options);
  if (put.ok()) return put;
  if (chunked && chunked->failure()) return fail(*chunked->failure());
  if (buffer.md5_mismatch()) {
    return fail(MakeError(400, "BadDigest",
                          "The Content-MD5 you specified did not match what we received"));
  }
  if (buffer.read_error().code() == StatusCode::kDeadlineExceeded) {
    // S3's answer to a body that comes too slowly.
    return fail(MakeError(400, "RequestTimeout",
                          "Your socket connection to the server was not read from or written to "
                          "within the timeout period: " +
                              buffer.read_error().message()));
  }
  if (!buffer.read_error().ok()) {
    return fail(MakeError(400, "IncompleteBody",
                          "You did not provide the number of bytes specified by the "
                          "Content-Length HTTP header: " +
                              buffer.read_error().message()));
  }
  if (options.expected_sha256_hex && buffer.complete() &&
      put.status().code() == StatusCode::kInvalidArgument &&
      storage::CheckPutOptions(store_key, options).ok()) {
    return fail(MakeError(400, "XAmzContentSHA256Mismatch",
                          "The provided 'x-amz-content-sha256' header does not match what was "
                          "computed"));
  }
  return fail(FromStoreStatus(put.status(), call.key));
}

S3Outcome PutObject(S3Call& call) {
  if (auto missing = RequireBucket(call)) return missing;
  storage::PutOptions options;
  options.content_type = call.request.Header("content-type");
  options.metadata = MetadataFromHeaders(call.request);
  std::string store_key = ObjectStoreKey(call.bucket, call.key);
  if (auto valid = storage::CheckPutOptions(call.key, options); !valid.ok()) {
    return InvalidArgument(valid.status().message());
  }
  S3Outcome error;
  auto put = StoreBody(call, store_key, options, error);
  if (error) return error;
  call.response.SetStatus(200);
  call.response.SetHeader("ETag", ETagOf(put->sha256_hex, put->size, put->last_modified));
  call.response.SetContentLength(0);
  return std::nullopt;
}

S3Outcome GetObject(S3Call& call) {
  const bool in_view = !call.store_key.empty();
  std::string store_key = in_view ? call.store_key : ObjectStoreKey(call.bucket, call.key);
  // Opened once: the headers and the bytes sent are of one version, whatever Puts come.
  auto opened = call.objects.OpenVersion(store_key);
  if (!opened.ok()) {
    if (opened.status().code() == StatusCode::kNotFound && !in_view) {
      if (auto missing = RequireBucket(call)) return missing;
    }
    return FromStoreStatus(opened.status(), call.key);
  }
  storage::ObjectReader& reader = **opened;
  const storage::ObjectInfo* info = &reader.info();
  const std::string etag = ETagOf(info->sha256_hex, info->size, info->last_modified);
  switch (EvaluatePreconditions(call.request, etag, info->last_modified).outcome) {
    case Precondition::kServe: break;
    case Precondition::kFailed:
      return MakeError(412, "PreconditionFailed",
                       "At least one of the pre-conditions you specified did not hold");
    case Precondition::kNotModified:
      call.response.SetStatus(304);
      call.response.SetHeader("ETag", etag);
      call.response.SetHeader("Last-Modified", FormatHttpDate(info->last_modified));
      (void)call.response.Write("");  // a client that went away has nothing more to learn
      return std::nullopt;
  }
  std::optional<RangeRequest> range;
  const std::string& range_header = call.request.Header("range");
  if (!range_header.empty()) {
    auto parsed = ParseRange(range_header, info->size);
    if (!parsed.ok()) {
      call.response.SetHeader("Content-Range", "bytes */" + std::to_string(info->size));
      return MakeError(416, "InvalidRange",
                       "The requested range is not satisfiable: " + parsed.status().message());
    }
    range = *parsed;
  }
  std::string content_type = call.Param("response-content-type");
  call.response.SetHeader("Content-Type", content_type.empty() ? info->content_type : content_type);
  for (const char* header : {"content-disposition", "content-encoding", "content-language",
                             "cache-control", "expires"}) {
    std::string value = call.Param(std::string("response-") + header);
    if (!value.empty()) call.response.SetHeader(header, value);
  }
  call.response.SetHeader("ETag", etag);
  call.response.SetHeader("Last-Modified", FormatHttpDate(info->last_modified));
  call.response.SetHeader("Accept-Ranges", "bytes");
  for (const auto& [name, value] : info->metadata) {
    call.response.SetHeader("x-amz-meta-" + name, value);
  }
  // S3's full-object checksum, when asked for: the store keeps every object's SHA-256. Not on
  // a ranged answer, as S3 sends none there: clients check the checksum against the bytes they
  // received, and the whole object's would fail any range (boto3's FlexibleChecksumError).
  if (call.request.Header("x-amz-checksum-mode") == "ENABLED" && !range) {
    if (auto digest = aws::HexDecode(info->sha256_hex); digest && digest->size() == 32) {
      call.response.SetHeader("x-amz-checksum-sha256", aws::Base64Encode(*digest));
    }
  }
  std::optional<storage::ByteRange> store_range;
  if (range) {
    call.response.SetStatus(206);
    call.response.SetHeader("Content-Range", "bytes " + std::to_string(range->offset) + "-" +
                                                 std::to_string(range->offset + range->length - 1) +
                                                 "/" + std::to_string(info->size));
    call.response.SetContentLength(range->length);
    store_range = storage::ByteRange{range->offset, range->length};
  } else {
    call.response.SetStatus(200);
    call.response.SetContentLength(info->size);
  }
  if (call.request.method == "HEAD" || (range ? range->length : info->size) == 0) {
    // Sends the header alone. A client that went away is not reported: nothing is left to
    // tell it, and the request log has the answer it was sent.
    (void)call.response.Write("");
    return std::nullopt;
  }
  ResponseStreamBuffer sink_buffer(call.response);
  std::ostream sink(&sink_buffer);
  Status got = reader.Read(sink, store_range);
  sink.flush();
  if (!got.ok() && !call.response.headers_sent()) return FromStoreStatus(got, call.key);
  return std::nullopt;  // a failure after the headers just ends the connection short
}

S3Outcome GetObjectTagging(S3Call& call) {
  auto info = call.objects.Head(ObjectStoreKey(call.bucket, call.key));
  if (!info.ok()) {
    if (info.status().code() == StatusCode::kNotFound) {
      if (auto missing = RequireBucket(call)) return missing;
    }
    return FromStoreStatus(info.status(), call.key);
  }
  WriteXml(call, 200,
           std::string("<Tagging xmlns=\"") + kS3Namespace + "\"><TagSet></TagSet></Tagging>");
  return std::nullopt;
}

S3Outcome DeleteObject(S3Call& call) {
  if (auto missing = RequireBucket(call)) return missing;
  Status deleted = call.objects.Delete(ObjectStoreKey(call.bucket, call.key));
  if (!deleted.ok()) return FromStoreStatus(deleted, call.key);
  call.response.SetStatus(204);
  return std::nullopt;
}

S3Outcome DeleteObjects(S3Call& call) {
  if (auto missing = RequireBucket(call)) return missing;
  SmallBody body = ReadSmallBody(call.request, call.body, 2 << 20, call.auth.payload_sha256);
  if (!body.error_code.empty()) {
    return MakeError(body.http_status, body.error_code, body.error_message);
  }
  auto quiet = XmlElements(body.text, "Quiet");
  auto objects = XmlElements(body.text, "Object");
  if (!quiet || !objects ||
      XmlElements(body.text, "Delete").value_or(std::vector<std::string_view>{}).empty()) {
    return MalformedXml("expected <Delete><Object><Key>...</Key></Object>...</Delete>");
  }
  if (objects->empty() || objects->size() > 1000) {
    return MalformedXml("<Delete> must list 1 to 1000 <Object> elements, not " +
                        std::to_string(objects->size()));
  }
  bool is_quiet = !quiet->empty() && quiet->front() == "true";
  std::string results;
  for (std::string_view object : *objects) {
    auto keys = XmlElements(object, "Key");
    std::optional<std::string> key;
    if (keys && keys->size() == 1) key = XmlUnescape(keys->front());
    if (!key) return MalformedXml("every <Object> needs one <Key>");
    S3Outcome failed = CheckObjectKey(*key);
    if (!failed) {
      Status deleted = call.objects.Delete(ObjectStoreKey(call.bucket, *key));
      if (!deleted.ok()) failed = FromStoreStatus(deleted, *key);
    }
    if (failed) {
      results += "<Error>" + XmlElement("Key", *key) + XmlElement("Code", failed->code) +
                 XmlElement("Message", failed->message) + "</Error>";
    } else if (!is_quiet) {
      results += "<Deleted>" + XmlElement("Key", *key) + "</Deleted>";
    }
  }
  WriteXml(
      call, 200,
      std::string("<DeleteResult xmlns=\"") + kS3Namespace + "\">" + results + "</DeleteResult>");
  return std::nullopt;
}

}  // namespace trainyard::server::s3
