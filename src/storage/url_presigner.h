// UrlPresigner: what an object store that can mint presigned URLs offers besides ObjectStore
// (the S3 store): one method on one object for a while, for a client that holds no credentials
// (a training job's input and outputs in object-store staging, docs/slurm.md). Thread-safe.
#pragma once

#include <chrono>
#include <string>

#include "common/status.h"
#include "storage/object_store.h"

namespace trainyard::storage {

class UrlPresigner {
 public:
  virtual ~UrlPresigner() = default;

  // A URL by which a client holding no credentials may send one `method` request ("GET",
  // "PUT", "HEAD") for the object `key`, for `expires` (1 s to 7 days) from now, signed with
  // the store's own credentials as they are now (a session token goes into the URL too, and
  // the URL stops working when those credentials expire, whatever `expires` says). `endpoint`,
  // where not empty, is the store's address as the client reaches it ("http://10.0.0.5:9000":
  // the URL is then path-style there); empty, the store's own. InvalidArgument naming the
  // field for a bad key, method, endpoint or expiry; the credentials' own error when they
  // cannot be had.
  virtual Result<std::string> PresignedUrl(const std::string& key, const std::string& method,
                                           std::chrono::seconds expires,
                                           const std::string& endpoint = "") = 0;
};

// The store's presigner, or null where it mints no URLs (the local store: trainyard's S3
// endpoint presigns for it).
inline UrlPresigner* PresignerOf(ObjectStore& store) {
  return dynamic_cast<UrlPresigner*>(&store);
}

}  // namespace trainyard::storage
