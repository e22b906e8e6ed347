// A training job's data in the S3 endpoint's objects (s3/objects/<bucket>/<key> in the
// ObjectStore, see server/s3/s3_api.h): S3 URIs, the checks CreateTrainingJob makes, the keys
// of the outputs. The scheduler stages the channels and stores the outputs
// (control::ObjectPrefixChannel, SweepRequest::output_root). Internal; thread-safe.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "common/status.h"
#include "storage/object_store.h"

namespace trainyard::server::sagemaker {

// s3://<bucket>/<prefix>; the prefix may be empty or end with '/'.
struct S3Location {
  std::string bucket;
  std::string prefix;
  std::string uri;  // as given
};

// nullopt unless `uri` is "s3://" + a valid bucket name + optionally "/" and a prefix.
std::optional<S3Location> ParseS3Uri(const std::string& uri);

// The ObjectStore key of the object an "s3://bucket/key" URI names in the S3 endpoint's buckets
// (a training job's sagemaker_submit_directory: control::SchedulerOptions::submit_directory_key).
// InvalidArgument when it is not such a URI.
Result<std::string> SubmitDirectoryKey(const std::string& uri);

// Whether the bucket's marker exists (Internal on a store failure).
Result<bool> BucketExists(storage::ObjectStore& objects, const std::string& bucket);

// Whether any object's key starts with the location's prefix.
Result<bool> HasObjects(storage::ObjectStore& objects, const S3Location& location);

// SageMaker's ClientError text for a channel without objects (also the ValidationException of
// CreateTrainingJob, which checks first): names the URI, the region, the role and the bucket.
std::string NoObjectsMessage(const S3Location& location, const std::string& region,
                             const std::string& role_arn);

// "<prefix>/<job>/output/<file>" below the output location, without a doubled '/': the S3 key
// SageMaker writes model.tar.gz and output.tar.gz to.
std::string OutputObjectKey(const S3Location& output, const std::string& job,
                            const std::string& file);
// The same as an s3:// URI (ModelArtifacts.S3ModelArtifacts).
std::string OutputObjectUri(const S3Location& output, const std::string& job,
                            const std::string& file);

}  // namespace trainyard::server::sagemaker
