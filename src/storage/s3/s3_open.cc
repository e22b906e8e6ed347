// MakeS3ObjectStore's checks, and the s3:// URI with the SDKs' environment (endpoint override,
// region, credentials chain).
#include <algorithm>
#include <cctype>

#include "aws/credentials_chain.h"
#include "aws/shared_files_provider.h"
#include "aws/uri_encode.h"
#include "storage/s3/s3_object_store_impl.h"

namespace trainyard::storage {
namespace {

constexpr uint64_t kMinPartSize = 5ull << 20;
constexpr uint64_t kMaxSinglePut = 5ull << 30;

// S3's rules for new buckets: 3-63 of a-z, 0-9, '.', '-', starting and ending with a letter
// or digit.
bool ValidBucketName(const std::string& name) {
  if (name.size() < 3 || name.size() > 63) return false;
  if (name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") != std::string::npos) {
    return false;
  }
  return std::isalnum(static_cast<unsigned char>(name.front())) &&
         std::isalnum(static_cast<unsigned char>(name.back())) && name.find("..") == name.npos;
}

std::string Lookup(const EnvironmentMap& environment, const std::string& name) {
  auto found = environment.find(name);
  return found == environment.end() ? "" : found->second;
}

}  // namespace

Result<ObjectStorePtr> MakeS3ObjectStore(S3ObjectStoreOptions options) {
  if (!ValidBucketName(options.bucket)) {
    return InvalidArgument("S3 bucket '" + options.bucket +
                           "' is not a valid bucket name (3 to 63 of a-z, 0-9, '.', '-')");
  }
  if (!options.prefix.empty() && !ValidateObjectKey(options.prefix).ok()) {
    return InvalidArgument("S3 prefix '" + options.prefix +
                           "' must be a key-like path without leading or trailing '/'");
  }
  if (!options.endpoint.empty() && !options.endpoint.starts_with("http://") &&
      !options.endpoint.starts_with("https://")) {
    return InvalidArgument("S3 endpoint '" + options.endpoint +
                           "' must start with http:// or https://");
  }
  if (options.region.empty()) return InvalidArgument("S3 region must not be empty");
  if (options.part_size < kMinPartSize || options.part_size > kMaxSinglePut) {
    return InvalidArgument("S3 part size must be between 5 MiB and 5 GiB");
  }
  if (options.multipart_threshold > kMaxSinglePut) {
    return InvalidArgument("S3 multipart threshold must be at most 5 GiB (S3's largest PUT)");
  }
  if (options.parallel_parts < 1 || options.parallel_parts > 64) {
    return InvalidArgument("S3 parallel parts must be between 1 and 64");
  }
  if (options.max_attempts < 1) return InvalidArgument("S3 max attempts must be at least 1");
  if (!options.credentials) return InvalidArgument("S3 store needs a credentials provider");
  // AWS's certificates cover "*.s3.<region>.amazonaws.com": a dotted bucket cannot be a
  // virtual host there.
  if (options.endpoint.empty() && options.bucket.find('.') != std::string::npos) {
    options.path_style = true;
  }
  return ObjectStorePtr(std::make_unique<s3::S3ObjectStore>(std::move(options)));
}

Result<ObjectStorePtr> OpenS3ObjectStore(const std::string& uri, const EnvironmentMap& environment,
                                         const std::filesystem::path& home) {
  constexpr char kScheme[] = "s3://";
  if (!uri.starts_with(kScheme)) {
    return InvalidArgument("S3 object store URI '" + uri + "' must start with s3://");
  }
  std::string rest = uri.substr(sizeof(kScheme) - 1);
  std::string query;
  if (size_t mark = rest.find('?'); mark != std::string::npos) {
    query = rest.substr(mark + 1);
    rest = rest.substr(0, mark);
  }
  S3ObjectStoreOptions options;
  size_t slash = rest.find('/');
  options.bucket = rest.substr(0, slash);
  if (slash != std::string::npos) options.prefix = rest.substr(slash + 1);
  while (options.prefix.ends_with('/')) options.prefix.pop_back();

  options.endpoint = Lookup(environment, "AWS_ENDPOINT_URL_S3");
  if (options.endpoint.empty()) options.endpoint = Lookup(environment, "AWS_ENDPOINT_URL");
  std::string addressing = "auto", region;
  size_t start = 0;
  while (start < query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    std::string pair = query.substr(start, end - start);
    start = end + 1;
    size_t equals = pair.find('=');
    std::string name = pair.substr(0, equals);
    std::string value = equals == std::string::npos ? "" : aws::UriDecode(pair.substr(equals + 1));
    if (name == "endpoint") {
      options.endpoint = value;
    } else if (name == "addressing_style") {
      addressing = value;
    } else if (name == "region") {
      region = value;
    } else {
      return InvalidArgument("S3 object store URI '" + uri + "': unknown setting '" + name +
                             "' (known: endpoint, addressing_style, region)");
    }
  }
  if (addressing != "auto" && addressing != "path" && addressing != "virtual") {
    return InvalidArgument("S3 object store URI '" + uri +
                           "': addressing_style must be auto, path or virtual");
  }
  options.path_style = addressing == "path" || (addressing == "auto" && !options.endpoint.empty());
  if (region.empty()) {
    Result<std::string> resolved = aws::ResolveRegion(environment, home);
    if (resolved.ok()) {
      region = *resolved;
    } else if (resolved.status().code() == StatusCode::kNotFound) {
      region = "us-east-1";  // as the AWS CLI does for S3 when nothing says otherwise
    } else {
      return resolved.status();
    }
  }
  options.region = region;
  options.credentials = aws::MakeDefaultCredentialsChain(environment, home);
  return MakeS3ObjectStore(std::move(options));
}

}  // namespace trainyard::storage
