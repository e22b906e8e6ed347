// The defaults of ObjectStore's optional methods.
#include "storage/object_store.h"

namespace trainyard::storage {

Result<std::optional<std::filesystem::path>> ObjectStore::LocalFile(const std::string& key) {
  TY_RETURN_IF_ERROR(ValidateObjectKey(key));
  return std::optional<std::filesystem::path>();
}

}  // namespace trainyard::storage
