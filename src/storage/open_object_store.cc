// OpenObjectStore: the one place that maps a URI scheme to a backend.
#include "common/environment.h"
#include "storage/local/local_object_store.h"
#include "storage/object_store.h"
#include "storage/s3/s3_object_store.h"

namespace trainyard::storage {
namespace {

constexpr char kFileScheme[] = "file://";
constexpr char kS3Scheme[] = "s3://";
constexpr char kSupported[] = "(supported: file://, s3://)";

}  // namespace

Result<ObjectStorePtr> OpenObjectStore(const std::string& uri, const EnvironmentMap& environment,
                                       bool exclusive) {
  if (uri.starts_with(kS3Scheme)) {
    auto home = environment.find("HOME");
    return OpenS3ObjectStore(uri, environment, home == environment.end() ? "" : home->second);
  }
  if (!uri.starts_with(kFileScheme)) {
    return InvalidArgument("unsupported object store URI '" + uri + "' " + kSupported);
  }
  // Only "file:///abs/path": an authority ("file://host/...") or a relative path is refused
  // rather than guessed at. Percent-escapes are not decoded; the path is taken as written.
  std::string path = uri.substr(std::string(kFileScheme).size());
  if (path.empty() || path.front() != '/') {
    return InvalidArgument("object store URI '" + uri +
                           "' must name an absolute path, as in file:///srv/trainyard/objects");
  }
  LocalObjectStoreOptions options{.root = path};
  if (exclusive) options.stale_temp_age = std::chrono::seconds(0);
  TY_ASSIGN_OR_RETURN(auto store, LocalObjectStore::Open(options));
  return ObjectStorePtr(std::move(store));
}

}  // namespace trainyard::storage
