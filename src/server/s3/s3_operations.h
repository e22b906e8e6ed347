// The S3 operations the endpoint implements, each a function of one S3Call (the request, its
// body and response, the store, the parsed bucket and key). Each either writes its whole answer
// and returns nullopt, or returns the S3Error to answer with (s3_api.cc writes it). Internal;
// every function is safe to run on many connection threads at once.
#pragma once

#include <string>

#include "server/http/http_server.h"
#include "server/s3/s3_auth.h"
#include "server/s3/s3_error.h"
#include "storage/object_store.h"

namespace trainyard::server::s3 {

struct S3Call {
  const HttpRequest& request;
  BodyReader& body;
  ResponseWriter& response;
  storage::ObjectStore& objects;
  std::string request_id;
  std::string bucket;  // decoded from the path; empty for the service ("/")
  std::string key;     // decoded from the path; empty for a bucket
  // The object's key in the store where it is not ObjectStoreKey(bucket, key): a read-only
  // view's object (S3ReadOnlyView). Empty otherwise.
  std::string store_key;
  AuthenticatedRequest auth;
  TimePoint now;

  bool Has(const std::string& name) const { return request.query.count(name) > 0; }
  // The decoded query parameter, or "".
  std::string Param(const std::string& name) const;
};

// Writes `document` (without the XML declaration) as an application/xml answer.
void WriteXml(S3Call& call, int status, const std::string& document);
// NoSuchBucket unless the bucket's marker exists.
S3Outcome RequireBucket(S3Call& call);

// s3_buckets.cc
S3Outcome ListBuckets(S3Call& call);
S3Outcome CreateBucket(S3Call& call);
S3Outcome HeadBucket(S3Call& call);
S3Outcome DeleteBucket(S3Call& call);
S3Outcome GetBucketLocation(S3Call& call);

// s3_objects.cc
S3Outcome PutObject(S3Call& call);
S3Outcome GetObject(S3Call& call);  // GET and HEAD
S3Outcome DeleteObject(S3Call& call);
S3Outcome DeleteObjects(S3Call& call);
// Objects keep no tags: an empty TagSet for an existing object.
S3Outcome GetObjectTagging(S3Call& call);

// s3_copy.cc
S3Outcome CopyObject(S3Call& call);
S3Outcome UploadPartCopy(S3Call& call);

// s3_list.cc: ListObjectsV2 (list-type=2) and ListObjects (v1)
S3Outcome ListObjects(S3Call& call);

// s3_multipart.cc
S3Outcome CreateMultipartUpload(S3Call& call);
S3Outcome UploadPart(S3Call& call);
S3Outcome CompleteMultipartUpload(S3Call& call);
S3Outcome AbortMultipartUpload(S3Call& call);
// s3_multipart_list.cc
S3Outcome ListMultipartUploads(S3Call& call);
S3Outcome ListParts(S3Call& call);

// Shared by PutObject and UploadPart: streams the body (Content-Length bytes; checked against
// x-amz-content-sha256 and Content-MD5) into `store_key`. MissingContentLength,
// XAmzContentSHA256Mismatch, BadDigest, IncompleteBody, or the store's error naming `key`.
Result<storage::ObjectInfo> StoreBody(S3Call& call, const std::string& store_key,
                                      const storage::PutOptions& options, S3Outcome& error);

// x-amz-meta-* headers as ObjectMetadata (names without the prefix).
storage::ObjectMetadata MetadataFromHeaders(const HttpRequest& request);

}  // namespace trainyard::server::s3
