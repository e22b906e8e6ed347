// LocalObjectStore::List: walks only the directory the prefix points into, then sorts.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "storage/local/local_object_store.h"
#include "storage/local/posix_file.h"

namespace trainyard::storage {
namespace fs = std::filesystem;

Status LocalObjectStore::CollectKeys(const fs::path& directory, const std::string& key_prefix,
                                     const std::string& name_filter,
                                     std::vector<std::string>& keys) const {
  std::error_code error;
  fs::directory_iterator it(directory, error), end;
  // A directory pruned by a concurrent Delete just has no keys left.
  if (error == std::errc::no_such_file_or_directory || error == std::errc::not_a_directory) {
    return Status::Ok();
  }
  for (; !error && it != end; it.increment(error)) {
    std::string name = it->path().filename().string();
    if (!name.starts_with(name_filter)) continue;
    std::error_code type_error;
    fs::file_status status = it->symlink_status(type_error);
    if (type_error) continue;  // vanished meanwhile
    if (fs::is_directory(status)) {
      TY_RETURN_IF_ERROR(CollectKeys(it->path(), key_prefix + name + "/", "", keys));
    } else if (fs::is_regular_file(status)) {
      keys.push_back(key_prefix + name);
    }
  }
  if (error && error != std::errc::no_such_file_or_directory) {
    return Internal("cannot list '" + directory.string() + "': " + error.message());
  }
  return Status::Ok();
}

Result<ListPage> LocalObjectStore::List(const std::string& prefix, const std::string& start_after,
                                        size_t max_keys) {
  if (max_keys == 0) max_keys = 1000;
  // Only the directory named by the prefix up to its last '/' can hold matching keys, and in it
  // only entries whose name starts with the rest. A directory part that is no valid key (say
  // "../") cannot start any valid key, so the answer is an empty page, not a walk outside.
  size_t slash = prefix.rfind('/');
  std::string directory_part = slash == std::string::npos ? "" : prefix.substr(0, slash);
  std::string name_filter = slash == std::string::npos ? prefix : prefix.substr(slash + 1);
  ListPage page;
  fs::path start = objects_dir_;
  std::string key_prefix;
  if (!directory_part.empty()) {
    Result<fs::path> path = ObjectPath(directory_part);
    if (!path.ok()) return page;
    start = *path;
    key_prefix = directory_part + "/";
  } else if (slash != std::string::npos) {
    return page;  // prefix starts with '/': no key does
  }

  std::vector<std::string> keys;
  TY_RETURN_IF_ERROR(CollectKeys(start, key_prefix, name_filter, keys));
  std::sort(keys.begin(), keys.end());
  auto first = std::upper_bound(keys.begin(), keys.end(), start_after);
  for (auto it = first; it != keys.end(); ++it) {
    if (page.objects.size() == max_keys) {
      page.truncated = true;
      break;
    }
    // Files someone put in the tree by hand may not be valid keys; they are not objects.
    if (!ValidateObjectKey(*it).ok()) continue;
    Result<ObjectInfo> info = Head(*it);
    if (info.status().code() == StatusCode::kNotFound) continue;  // deleted while listing
    if (!info.ok()) return info.status();
    page.objects.push_back(std::move(*info));
  }
  return page;
}

}  // namespace trainyard::storage
