// S3Prefix means a key-name prefix, not a folder: "s3://b/data/train" takes "data/train.csv"
// as well as "data/train/part-1". SageMaker strips the prefix's folder part (up to its last
// '/') from each key to place the object under /opt/ml/input/data/<channel>/, which keeps
// "train.csv" and "train/part-1" apart. Keys come from the S3 endpoint, whose rules
// (storage::ValidateObjectKey: no "..", "//" or leading '/') keep every path inside the
// channel's directory.
#include "server/sagemaker/channel_staging.h"

#include <fstream>

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

Result<size_t> StageChannel(storage::ObjectStore& objects, const S3Location& location,
                            const fs::path& directory, const std::atomic<bool>& cancel) {
  const std::string bucket_prefix = s3::BucketObjectsPrefix(location.bucket);
  const std::string list_prefix = bucket_prefix + location.prefix;
  size_t last_slash = location.prefix.rfind('/');
  const size_t strip =
      bucket_prefix.size() + (last_slash == std::string::npos ? 0 : last_slash + 1);
  std::error_code error;
  fs::create_directories(directory, error);
  if (error) return Internal("cannot create '" + directory.string() + "': " + error.message());
  size_t written = 0;
  std::string after;
  while (true) {
    auto page = objects.List(list_prefix, after);
    if (!page.ok()) return page.status();
    for (const storage::ObjectInfo& info : page->objects) {
      if (cancel) return Cancelled("staging of " + location.uri + " was cancelled");
      fs::path target = directory / info.key.substr(strip);
      fs::create_directories(target.parent_path(), error);
      std::ofstream out(target, std::ios::binary | std::ios::trunc);
      if (error || !out) return Internal("cannot write '" + target.string() + "'");
      Status got = objects.Get(info.key, out);
      out.close();
      if (!got.ok()) {
        return got.WithContext("downloading s3://" + location.bucket + "/" +
                               info.key.substr(bucket_prefix.size()));
      }
      if (!out) return Internal("cannot write '" + target.string() + "'");
      ++written;
    }
    if (!page->truncated || page->objects.empty()) break;
    after = page->objects.back().key;
  }
  return written;
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

Status UploadFile(storage::ObjectStore& objects, const fs::path& file,
                  const std::string& store_key) {
  std::error_code error;
  uintmax_t size = fs::file_size(file, error);
  if (error) return NotFound("'" + file.string() + "' does not exist");
  std::ifstream in(file, std::ios::binary);
  if (!in) return Internal("cannot read '" + file.string() + "'");
  auto put = objects.Put(store_key, in, size);
  return put.ok() ? Status::Ok() : put.status();
}

}  // namespace trainyard::server::sagemaker
