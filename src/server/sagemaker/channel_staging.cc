// S3Prefix means a key-name prefix, not a folder: "s3://b/data/train" takes "data/train.csv"
// as well as "data/train/part-1" (HasObjects lists the prefix as the scheduler stages it).
#include "server/sagemaker/channel_staging.h"

#include "server/s3/s3_names.h"

namespace trainyard::server::sagemaker {
namespace fs = std::filesystem;

std::optional<S3Location> ParseS3Uri(const std::string& uri) {
  const std::string scheme = "s3://";
  if (uri.compare(0, scheme.size(), scheme) != 0) return std::nullopt;
  std::string rest = uri.substr(scheme.size());
  size_t slash = rest.find('/');
  S3Location location;
  location.uri = uri;
  location.bucket = rest.substr(0, slash);
  if (slash != std::string::npos) location.prefix = rest.substr(slash + 1);
  if (s3::CheckBucketName(location.bucket)) return std::nullopt;
  return location;
}

Result<std::string> SubmitDirectoryKey(const std::string& uri) {
  std::optional<S3Location> location = ParseS3Uri(uri);
  if (!location || location->prefix.empty() || location->prefix.back() == '/') {
    return InvalidArgument("not an S3 object's URI (s3://bucket/key/sourcedir.tar.gz)");
  }
  return s3::ObjectStoreKey(location->bucket, location->prefix);
}

Result<bool> BucketExists(storage::ObjectStore& objects, const std::string& bucket) {
  auto marker = objects.Head(s3::BucketMarkerKey(bucket));
  if (marker.ok()) return true;
  if (marker.status().code() == StatusCode::kNotFound) return false;
  return marker.status();
}

Result<bool> HasObjects(storage::ObjectStore& objects, const S3Location& location) {
  auto page = objects.List(s3::ObjectStoreKey(location.bucket, location.prefix), "", 1);
  if (!page.ok()) return page.status();
  return !page->objects.empty();
}

std::string NoObjectsMessage(const S3Location& location, const std::string& region,
                             const std::string& role_arn) {
  return "No S3 objects found under S3 URL \"" + location.uri +
         "\" given in input data source. Please ensure that the bucket exists in the selected "
         "region (" +
         region + "), that objects exist under that S3 prefix, and that the role \"" + role_arn +
         "\" has \"s3:ListBucket\" permissions on bucket \"" + location.bucket + "\".";
}

std::string OutputObjectKey(const S3Location& output, const std::string& job,
                            const std::string& file) {
  std::string prefix = output.prefix;
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  return (prefix.empty() ? "" : prefix + "/") + job + "/output/" + file;
}

std::string OutputObjectUri(const S3Location& output, const std::string& job,
                            const std::string& file) {
  return "s3://" + output.bucket + "/" + OutputObjectKey(output, job, file);
}

}  // namespace trainyard::server::sagemaker
