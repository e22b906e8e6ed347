// LocalObjectStore: an ObjectStore on a local (or NFS-like POSIX) directory.
//
// Layout under the root:
//   objects/<key>                   the bytes, one file per object ("a/b.csv" -> objects/a/b.csv)
//   meta/<hh>/<sha256(key)>.json    sidecar: SHA-256, content type, and which data file it
//                                   describes (see sidecar.h). Named by the key's hash so that
//                                   no key's sidecar can collide with another key's directory
//                                   ("a" and "a.json/b") or exceed NAME_MAX.
//   tmp/                            Puts in progress; same filesystem, so rename is atomic.
//
// Thread-safety: safe from many threads, and from many processes sharing the root; there is no
// in-memory state beyond the options. Limits of the filesystem show through: a key cannot be
// both an object and a prefix of others ("a" and "a/b": FailedPrecondition), and a key segment
// longer than 255 bytes is refused with InvalidArgument.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>

#include "storage/object_store.h"

namespace trainyard::storage {

struct LocalObjectStoreOptions {
  std::filesystem::path root;  // absolute; created if missing
  // Open removes files under root/tmp older than this: a crashed Put leaves its temp file. A
  // younger one may belong to a Put in progress in another process sharing the root.
  std::chrono::seconds stale_temp_age{3600};
};

class LocalObjectStore : public ObjectStore {
 public:
  // Creates the layout and removes stale temp files. InvalidArgument for a relative root;
  // Internal when the directories cannot be created.
  static Result<std::unique_ptr<LocalObjectStore>> Open(LocalObjectStoreOptions options);

  Result<ObjectInfo> Put(const std::string& key, std::istream& source, uint64_t size,
                         const PutOptions& options = {}) override;
  Result<ObjectInfo> Head(const std::string& key) override;
  Status Get(const std::string& key, std::ostream& sink,
             std::optional<ByteRange> range = {}) override;
  Result<ListPage> List(const std::string& prefix, const std::string& start_after = "",
                        size_t max_keys = 1000) override;
  Status Delete(const std::string& key) override;
  // objects/<key>: see ObjectStore::LocalFile.
  Result<std::optional<std::filesystem::path>> LocalFile(const std::string& key) override;

  const std::filesystem::path& root() const { return options_.root; }

 private:
  explicit LocalObjectStore(LocalObjectStoreOptions options);

  // Where the object's bytes lie, whether or not it exists: objects/<key>, after
  // ValidateObjectKey and a check that it stays under objects/.
  Result<std::filesystem::path> ObjectPath(const std::string& key) const;

  std::filesystem::path SidecarPath(const std::string& key) const;
  // Moves a finished temp file to `object_path`, creating parents; see the .cc for races.
  Status PlaceObject(const std::string& key, const std::filesystem::path& temp_path,
                     const std::filesystem::path& object_path);
  // The object's info from its open descriptor, rebuilding a missing or stale sidecar.
  Result<ObjectInfo> Describe(const std::string& key, int fd, const std::filesystem::path& path);
  Status CollectKeys(const std::filesystem::path& directory, const std::string& key_prefix,
                     const std::string& name_filter, std::vector<std::string>& keys) const;

  LocalObjectStoreOptions options_;
  std::filesystem::path objects_dir_;
  std::filesystem::path meta_dir_;
  std::filesystem::path tmp_dir_;
};

}  // namespace trainyard::storage
