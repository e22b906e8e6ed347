// Presigned S3 object URLs in path style (<endpoint>/<bucket>/<key>?X-Amz-...), for handing one
// object, one method, for a while, to someone who holds no credentials: a training job's input
// and outputs (docs/slurm.md, "Object-store staging"). Works for trainyard's S3 endpoint and for
// S3 itself. Pure; thread-safe.
#pragma once

#include <chrono>
#include <string>

#include "aws/credentials.h"
#include "common/status.h"
#include "common/time_format.h"

namespace trainyard::aws {

struct PresignedObject {
  std::string endpoint;  // "http://10.0.0.5:9000", "https://s3.eu-west-3.amazonaws.com"
  std::string bucket;
  std::string key;
  std::string method = "GET";  // "GET", "PUT", "HEAD"
  std::string region = "us-east-1";
  TimePoint signed_at;             // the signature's time (X-Amz-Date)
  std::chrono::seconds expires{};  // 1 s to 7 days, from signed_at
};

// The URL. InvalidArgument naming the field for an endpoint that is not http(s)://host[:port]
// with no path, an empty bucket or key, or an expiry outside 1 s..7 days.
Result<std::string> PresignObjectUrl(const PresignedObject& object, const Credentials& credentials);

}  // namespace trainyard::aws
