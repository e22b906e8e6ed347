// LocalObjectStore: an ObjectStore on a local (or NFS-like POSIX) directory.
//
// Layout under the root:
//   objects/<key>                   the bytes, one file per object ("a/b.csv" -> objects/a/b.csv)
//   meta/<hh>/<sha256(key)>.json    sidecar: SHA-256, content type, metadata, and which data
//                                   file it describes (see sidecar.h). Named by the key's hash
//                                   so that no key's sidecar can collide with another key's
//                                   directory ("a" and "a.json/b") or exceed NAME_MAX. The
//                                   directory meta/<hh>/ is also the lock (flock) of its keys:
//                                   a Put's sidecar and data commit under it, so body and
//                                   metadata are one version (last writer wins for both).
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

#include "storage/local/posix_file.h"
#include "storage/object_store.h"

namespace trainyard::storage {

struct LocalObjectStoreOptions {
  std::filesystem::path root;  // absolute; created if missing
  // Open removes the files under root/tmp that a dead process left (a killed Put or copy): each
  // live Put holds a lock on its temp file, so those without one go at once. Files older than
  // this go too, whatever their lock (0: all of them, for a store one process alone uses), and
  // on a file system without locks only those.
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
  // The data file stays open: a Put that renames another file into place does not change it.
  Result<std::unique_ptr<ObjectReader>> OpenVersion(const std::string& key) override;
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
  // Locks the keys whose sidecars share `sidecar_path`'s directory (flock on meta/<hh>/):
  // LOCK_SH to read one version's data and metadata, LOCK_EX to commit a Put or a Delete. Held
  // until the descriptor closes; works across the processes that share the root.
  Result<FileDescriptor> LockKey(const std::filesystem::path& sidecar_path, int operation) const;
  // The object's data, opened, and its info (Head's answer).
  struct Opened {
    FileDescriptor fd;
    std::filesystem::path path;
    ObjectInfo info;
  };
  Result<Opened> OpenWithInfo(const std::string& key);
  // The info of the data open as `fd` (`info`: its fstat) whose sidecar has no entry for it:
  // hashed, with the default content type, and stored while that data is still in place.
  Result<ObjectInfo> Rebuild(const std::string& key, int fd, const std::filesystem::path& path,
                             const struct stat& info);
  Status CollectKeys(const std::filesystem::path& directory, const std::string& key_prefix,
                     const std::string& name_filter, std::vector<std::string>& keys) const;

  LocalObjectStoreOptions options_;
  std::filesystem::path objects_dir_;
  std::filesystem::path meta_dir_;
  std::filesystem::path tmp_dir_;
};

}  // namespace trainyard::storage
