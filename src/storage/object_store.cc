// The defaults of ObjectStore's optional methods.
#include "storage/object_store.h"

namespace trainyard::storage {

Result<std::optional<std::filesystem::path>> ObjectStore::LocalFile(const std::string& key) {
  TY_RETURN_IF_ERROR(ValidateObjectKey(key));
  return std::optional<std::filesystem::path>();
}

Result<std::optional<std::string>> ObjectStore::PresignedUrl(const std::string& key,
                                                             const std::string& method,
                                                             std::chrono::seconds expires,
                                                             const std::string& endpoint) {
  TY_RETURN_IF_ERROR(ValidateObjectKey(key));
  return std::optional<std::string>();
}

}  // namespace trainyard::storage
