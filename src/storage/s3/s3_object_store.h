// S3ObjectStore: the ObjectStore on Amazon S3 or any S3-compatible store (MinIO, Ceph, Google
// Cloud Storage's interoperability API, trainyard's own endpoint), so that uploads and results
// land where SageMaker reads and writes them.
//
// Keys map to "<prefix>/<key>" in one bucket. Requests are signed with SigV4 (the payload hash
// always signed, so that plain-HTTP endpoints are as safe as HTTPS ones) with credentials from a
// provider (the SDKs' default chain usually), fetched for every request so that rotating ones are
// followed.
//
// Put sends one PUT up to `multipart_threshold` bytes (buffered: the payload's SHA-256 must be
// known before the headers go), and a multipart upload above it: parts of `part_size` read in
// turn from the source and sent by `parallel_parts` threads, so memory stays within
// (parallel_parts + 1) × part_size whatever the object's size. A failed multipart upload is
// aborted (no orphaned parts left to pay for). The SHA-256 goes into the object's metadata
// (x-amz-meta-trainyard-sha256) when it is known before the upload, that is for single PUTs; a
// multipart object's Head reports no digest (ObjectInfo::sha256_hex empty), and neither does List,
// as ListObjectsV2 carries no metadata.
//
// Throttling (503 SlowDown, 429), 500/502/503/504 and dropped connections are retried with
// exponential backoff and full jitter, as the SDKs do; a Get that broke after some bytes resumes
// with a Range from where it stopped. Thread-safe.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "aws/credentials_provider.h"
#include "common/environment.h"
#include "storage/object_store.h"

namespace trainyard::storage {

struct S3ObjectStoreOptions {
  std::string bucket;
  std::string prefix;  // "" or "runs/2026" (no leading or trailing '/')
  std::string region = "us-east-1";
  // "" for AWS (https://s3.<region>.amazonaws.com); otherwise the endpoint's base URL, as
  // "http://127.0.0.1:9000".
  std::string endpoint;
  // Path-style ("<endpoint>/<bucket>/<key>") rather than virtual-hosted ("<bucket>.<host>/<key>").
  // Compatible stores usually need it; AWS wants virtual-hosted, but for dotted bucket names
  // (which its certificates do not cover: those go path-style).
  bool path_style = false;
  std::shared_ptr<aws::CredentialsProvider> credentials;
  uint64_t multipart_threshold = 16ull << 20;
  uint64_t part_size = 8ull << 20;  // S3: at least 5 MiB (but the last part), at most 10,000 parts
  int parallel_parts = 4;
  int max_attempts = 5;  // tries per request
  std::chrono::milliseconds retry_base_delay{100};
  std::chrono::milliseconds retry_max_delay{5'000};
  std::chrono::milliseconds connect_timeout{5'000};
};

// Checks the options (bucket name, prefix, part sizes, endpoint URL) and makes the store; no
// request is sent. InvalidArgument naming the field.
Result<ObjectStorePtr> MakeS3ObjectStore(S3ObjectStoreOptions options);

// "s3://bucket/prefix?endpoint=http://127.0.0.1:9000&addressing_style=path&region=eu-west-1":
// the query's settings win over the environment's: AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL
// (the SDKs' endpoint override), AWS_REGION / AWS_DEFAULT_REGION / the profile's region, else
// us-east-1. A custom endpoint is addressed path-style unless addressing_style=virtual.
// Credentials: the SDKs' default chain over `environment` and `home`.
Result<ObjectStorePtr> OpenS3ObjectStore(const std::string& uri, const EnvironmentMap& environment,
                                         const std::filesystem::path& home);

}  // namespace trainyard::storage
