#include <string_view>

#include "metadata/metadata_store.h"
#include "metadata/postgres_metadata_store.h"
#include "metadata/sqlite_metadata_store.h"

namespace trainyard::metadata {

Result<MetadataStorePtr> OpenMetadataStore(const std::string& url) {
  constexpr std::string_view kFilePrefix = "sqlite://";
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    TY_ASSIGN_OR_RETURN(auto store, PostgresMetadataStore::Open({.url = url}));
    return MetadataStorePtr(std::move(store));
  }
  std::string path;
  if (url == "sqlite::memory:") {
    path = ":memory:";
  } else if (url.starts_with(kFilePrefix) && url.size() > kFilePrefix.size() + 1 &&
             url[kFilePrefix.size()] == '/') {
    // "sqlite:///abs/path.db": the path is absolute, so the server's working directory never
    // decides where its records live.
    path = url.substr(kFilePrefix.size());
  } else {
    return InvalidArgument("metadata store URL '" + url +
                           "' is not supported; use sqlite:///absolute/path.db, "
                           "sqlite::memory: or postgresql://host/database");
  }
  TY_ASSIGN_OR_RETURN(auto store, SqliteMetadataStore::Open({.path = path}));
  return MetadataStorePtr(std::move(store));
}

}  // namespace trainyard::metadata
