#include "storage/local/local_object_store.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <istream>
#include <memory>
#include <ostream>
#include <vector>

#include "common/files.h"
#include "common/log.h"
#include "storage/local/posix_file.h"
#include "storage/local/sidecar.h"
#include "storage/sha256.h"

namespace trainyard::storage {
namespace fs = std::filesystem;

namespace {

// Objects stream through a buffer of this size, so memory stays constant whatever their size.
constexpr size_t kChunkBytes = 1 << 20;
constexpr char kDefaultContentType[] = "application/octet-stream";
// A temp file younger than this is kept even when unlocked: its TempFile may be between its
// open and its flock.
constexpr std::chrono::seconds kTempLockGrace{2};
// Put retries placing the file when a concurrent Delete prunes the directory it just created.
constexpr int kPlaceAttempts = 5;

// The buffer that streams `bytes` bytes: no larger than they need, and left uninitialized (most
// objects are small, and zeroing a whole chunk for each cost more than copying them).
size_t BufferSize(uint64_t bytes) {
  return static_cast<size_t>(std::clamp<uint64_t>(bytes, 1, kChunkBytes));
}

std::string Quoted(const std::string& key) {
  return "'" + key + "'";
}

Status NotFoundStatus(const std::string& key) {
  return NotFound("object " + Quoted(key) + " not found");
}

TimePoint MtimeOf(const struct stat& info) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::seconds(info.st_mtim.tv_sec) + std::chrono::nanoseconds(info.st_mtim.tv_nsec)));
}

// Opens an object's data file; NotFound for a missing key or a directory (a prefix of keys).
Result<FileDescriptor> OpenObject(const std::string& key, const fs::path& path, struct stat& info) {
  // O_NOFOLLOW: the store never makes symlinks, so one planted in the tree is not followed out.
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    if (errno == ENOENT || errno == ENOTDIR) return NotFoundStatus(key);
    return ErrnoStatus("cannot open object " + Quoted(key) + " at", path);
  }
  if (::fstat(fd.get(), &info) != 0) return ErrnoStatus("cannot stat", path);
  if (!S_ISREG(info.st_mode)) return NotFoundStatus(key);
  return fd;
}

Result<std::string> HashFile(int fd, const fs::path& path) {
  Sha256 hasher;
  std::vector<char> buffer(kChunkBytes);
  for (uint64_t offset = 0;;) {
    TY_ASSIGN_OR_RETURN(size_t n, ReadAt(fd, buffer.data(), buffer.size(), offset, path));
    if (n == 0) break;
    hasher.Update(buffer.data(), n);
    offset += n;
  }
  return hasher.FinishHex();
}

// Whether no live process writes the temp file at `path`: TempFile holds an flock on each
// while it lives, and the kernel drops it when its process dies, however it dies (in any PID
// namespace, and across NFS clients). nullopt where the file system has no such locks.
std::optional<bool> Abandoned(const fs::path& path) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (!fd.valid()) return std::nullopt;
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) return true;
  if (errno == EWOULDBLOCK) return false;
  return std::nullopt;
}

Status RemoveStaleTempFiles(const fs::path& tmp_dir, std::chrono::seconds max_age) {
  std::error_code error;
  auto now = fs::file_time_type::clock::now();
  for (fs::directory_iterator it(tmp_dir, error), end; !error && it != end; it.increment(error)) {
    std::error_code entry_error;
    auto modified = it->last_write_time(entry_error);
    if (entry_error) continue;  // another process removed it first
    // Unlocked: left by a process that died (a killed upload or copy), removed at once; but
    // not in the instant between a TempFile's open and its flock. Locked: a live Put of
    // another process sharing the root, kept, unless the store is exclusive (max_age 0).
    // Without locks, the age alone decides.
    bool stale = modified <= now - max_age;
    if (!stale) {
      std::optional<bool> abandoned = Abandoned(it->path());
      stale = abandoned ? *abandoned && modified <= now - kTempLockGrace : false;
    }
    // Errors on single entries are ignored: another process may remove the same file first.
    if (stale) fs::remove(it->path(), entry_error);
  }
  if (error) return Internal("cannot clean '" + tmp_dir.string() + "': " + error.message());
  return Status::Ok();
}

Status RemoveSidecar(const fs::path& sidecar_path) {
  if (::unlink(sidecar_path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus("cannot delete the metadata at", sidecar_path);
  }
  return Status::Ok();
}

}  // namespace

LocalObjectStore::LocalObjectStore(LocalObjectStoreOptions options)
    : options_(std::move(options)),
      objects_dir_(options_.root / "objects"),
      meta_dir_(options_.root / "meta"),
      tmp_dir_(options_.root / "tmp") {}

Result<std::unique_ptr<LocalObjectStore>> LocalObjectStore::Open(LocalObjectStoreOptions options) {
  if (!options.root.is_absolute()) {
    return InvalidArgument("object store root '" + options.root.string() + "' is not absolute");
  }
  options.root = options.root.lexically_normal();
  std::unique_ptr<LocalObjectStore> store(new LocalObjectStore(std::move(options)));
  for (const fs::path& directory : {store->objects_dir_, store->meta_dir_, store->tmp_dir_}) {
    TY_RETURN_IF_ERROR(MakeDirectories(directory));
  }
  TY_RETURN_IF_ERROR(RemoveStaleTempFiles(store->tmp_dir_, store->options_.stale_temp_age));
  return store;
}

Result<fs::path> LocalObjectStore::ObjectPath(const std::string& key) const {
  TY_RETURN_IF_ERROR(ValidateObjectKey(key));
  for (size_t start = 0; start <= key.size();) {
    size_t slash = std::min(key.find('/', start), key.size());
    if (slash - start > NAME_MAX) {
      return InvalidArgument("invalid object key " + Quoted(key) + ": a segment is longer than " +
                             std::to_string(NAME_MAX) + " bytes, which a local store cannot hold");
    }
    start = slash + 1;
  }
  // ValidateObjectKey already rules out "..", "." and absolute keys; this checks the result
  // again so that a future change to the key rules cannot open a way out of the root.
  fs::path path = objects_dir_ / key;
  fs::path relative = path.lexically_normal().lexically_relative(objects_dir_);
  if (relative.empty() || *relative.begin() == ".." || relative.is_absolute()) {
    return InvalidArgument("invalid object key " + Quoted(key) + ": it leaves the store root");
  }
  return path;
}

fs::path LocalObjectStore::SidecarPath(const std::string& key) const {
  Sha256 hasher;
  hasher.Update(key.data(), key.size());
  std::string hex = hasher.FinishHex();
  return meta_dir_ / hex.substr(0, 2) / (hex + ".json");
}

Result<ObjectInfo> LocalObjectStore::Put(const std::string& key, std::istream& source,
                                         uint64_t size, const PutOptions& options) {
  TY_ASSIGN_OR_RETURN(fs::path object_path, ObjectPath(key));
  TY_ASSIGN_OR_RETURN(std::optional<std::string> expected_sha, CheckPutOptions(key, options));

  TY_ASSIGN_OR_RETURN(TempFile temp, TempFile::Create(tmp_dir_, "put-"));
  Sha256 hasher;
  const size_t buffer_size = BufferSize(size);
  auto buffer = std::make_unique_for_overwrite<char[]>(buffer_size);
  uint64_t received = 0;
  while (received < size) {
    auto wanted = static_cast<std::streamsize>(std::min<uint64_t>(buffer_size, size - received));
    source.read(buffer.get(), wanted);
    std::streamsize got = source.gcount();
    if (got > 0) {
      hasher.Update(buffer.get(), static_cast<size_t>(got));
      TY_RETURN_IF_ERROR(WriteAll(temp.fd(), buffer.get(), static_cast<size_t>(got), temp.path()));
      received += static_cast<uint64_t>(got);
    }
    if (got < wanted) break;
  }
  if (received < size) {
    return InvalidArgument("object " + Quoted(key) + ": the source ended after " +
                           std::to_string(received) + " of " + std::to_string(size) + " bytes");
  }
  std::string sha = hasher.FinishHex();
  if (expected_sha && sha != *expected_sha) {
    return InvalidArgument("object " + Quoted(key) + ": SHA-256 of the data is " + sha +
                           ", expected " + *expected_sha);
  }
  if (::fsync(temp.fd()) != 0) return ErrnoStatus("cannot sync", temp.path());
  struct stat info;
  if (::fstat(temp.fd(), &info) != 0) return ErrnoStatus("cannot stat", temp.path());
  TY_RETURN_IF_ERROR(temp.Close());

  Sidecar sidecar{key, sha,
                  options.content_type.empty() ? kDefaultContentType : options.content_type,
                  options.metadata, FileIdentity::Of(info)};
  // The commit, under the key's lock so that no other Put or Delete of the key comes between
  // its two steps: the sidecar goes first, keeping the entry of the data in place, then the
  // data's rename makes body and metadata visible at once. A crash in between leaves the old
  // data with its own entry; concurrent Puts of the key commit one after the other, the last
  // one's body and metadata together.
  fs::path sidecar_path = SidecarPath(key);
  TY_ASSIGN_OR_RETURN(FileDescriptor lock, LockKey(sidecar_path, LOCK_EX));
  SidecarFile sidecar_file{sidecar, std::nullopt};
  struct stat in_place;
  if (::lstat(object_path.c_str(), &in_place) == 0 && S_ISREG(in_place.st_mode)) {
    std::optional<SidecarFile> existing = ReadSidecar(sidecar_path);
    if (const Sidecar* entry = existing ? existing->Find(key, FileIdentity::Of(in_place)) : nullptr)
      sidecar_file.previous = *entry;
  }
  TY_RETURN_IF_ERROR(WriteSidecar(sidecar_path, sidecar_file, tmp_dir_));
  if (Status placed = PlaceObject(key, temp.path(), object_path); !placed.ok()) {
    // The data stayed out: the sidecar goes back to describing what is in place (or nothing),
    // so that no entry is left for data the store never held.
    Status restored =
        sidecar_file.previous
            ? WriteSidecar(sidecar_path, {*sidecar_file.previous, std::nullopt}, tmp_dir_)
            : RemoveSidecar(sidecar_path);
    WarnIfFailed("storage", restored, "key={} the metadata of a failed Put could not be undone",
                 key);
    return placed;
  }
  temp.Keep();
  return ObjectInfo{key, size, sha, MtimeOf(info), sidecar.content_type, sidecar.metadata};
}

Result<FileDescriptor> LocalObjectStore::LockKey(const fs::path& sidecar_path,
                                                 int operation) const {
  fs::path directory = sidecar_path.parent_path();
  FileDescriptor fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid() && errno == ENOENT) {
    TY_RETURN_IF_ERROR(MakeDirectories(directory));
    fd = FileDescriptor(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  }
  if (!fd.valid()) return ErrnoStatus("cannot open", directory);
  while (::flock(fd.get(), operation) != 0) {
    if (errno != EINTR) return ErrnoStatus("cannot lock", directory);
  }
  return fd;  // closing it releases the lock
}

Status LocalObjectStore::PlaceObject(const std::string& key, const fs::path& temp_path,
                                     const fs::path& object_path) {
  for (int attempt = 0; attempt < kPlaceAttempts; ++attempt) {
    std::error_code error;
    fs::create_directories(object_path.parent_path(), error);
    // A concurrent Delete pruned a parent between its creation and its child's (the Delete of
    // another key's last object removes the directories it leaves empty): create them again.
    if (error == std::errc::no_such_file_or_directory) continue;
    if (error == std::errc::not_a_directory || error == std::errc::file_exists) {
      return FailedPrecondition("object " + Quoted(key) +
                                " cannot be stored: a prefix of its key is an object");
    }
    if (error) {
      return Internal("cannot create directories for object " + Quoted(key) + ": " +
                      error.message());
    }
    if (::rename(temp_path.c_str(), object_path.c_str()) == 0) {
      return SyncDirectory(object_path.parent_path());
    }
    if (errno == ENOENT) continue;  // a concurrent Delete pruned the parent: create it again
    if (errno == EISDIR) {
      // Only an empty directory (left by a crash mid-Delete) may go; otherwise other keys
      // live under this one.
      if (::rmdir(object_path.c_str()) == 0) continue;
      return FailedPrecondition("object " + Quoted(key) +
                                " cannot be stored: other objects' keys start with '" + key + "/'");
    }
    if (errno == ENOTDIR) {
      return FailedPrecondition("object " + Quoted(key) +
                                " cannot be stored: a prefix of its key is an object");
    }
    return ErrnoStatus("cannot rename into", object_path);
  }
  return Internal("object " + Quoted(key) + ": its directory kept vanishing during the Put");
}

Result<LocalObjectStore::Opened> LocalObjectStore::OpenWithInfo(const std::string& key) {
  TY_ASSIGN_OR_RETURN(fs::path path, ObjectPath(key));
  fs::path sidecar_path = SidecarPath(key);
  // Shared with other readers; no Put or Delete of the key commits while the data is opened
  // and its entry read, so the two belong to one version.
  TY_ASSIGN_OR_RETURN(FileDescriptor lock, LockKey(sidecar_path, LOCK_SH));
  struct stat info;
  TY_ASSIGN_OR_RETURN(FileDescriptor fd, OpenObject(key, path, info));
  FileIdentity identity = FileIdentity::Of(info);
  std::optional<SidecarFile> sidecar = ReadSidecar(sidecar_path);
  if (const Sidecar* entry = sidecar ? sidecar->Find(key, identity) : nullptr) {
    ObjectInfo found{key,           identity.size,       entry->sha256_hex,
                     MtimeOf(info), entry->content_type, entry->metadata};
    return Opened{std::move(fd), std::move(path), std::move(found)};
  }
  lock = FileDescriptor();  // hashing may take long: let Puts of the key go on meanwhile
  TY_ASSIGN_OR_RETURN(ObjectInfo rebuilt, Rebuild(key, fd.get(), path, info));
  return Opened{std::move(fd), std::move(path), std::move(rebuilt)};
}

Result<ObjectInfo> LocalObjectStore::Head(const std::string& key) {
  TY_ASSIGN_OR_RETURN(Opened opened, OpenWithInfo(key));
  return std::move(opened.info);
}

Result<ObjectInfo> LocalObjectStore::Rebuild(const std::string& key, int fd, const fs::path& path,
                                             const struct stat& info) {
  // Missing or stale (a store written before sidecars kept the previous entry, or one damaged):
  // hash the file we hold open, so that the digest matches this very data. The content type
  // and metadata of a stale sidecar belonged to another version.
  TY_ASSIGN_OR_RETURN(std::string sha, HashFile(fd, path));
  FileIdentity identity = FileIdentity::Of(info);
  Sidecar rebuilt{key, sha, kDefaultContentType, {}, identity};
  fs::path sidecar_path = SidecarPath(key);
  TY_ASSIGN_OR_RETURN(FileDescriptor lock, LockKey(sidecar_path, LOCK_EX));
  std::optional<SidecarFile> sidecar = ReadSidecar(sidecar_path);
  if (const Sidecar* entry = sidecar ? sidecar->Find(key, identity) : nullptr) {
    rebuilt = *entry;  // another reader rebuilt it meanwhile
  } else if (struct stat in_place;
             ::lstat(path.c_str(), &in_place) == 0 && FileIdentity::Of(in_place) == identity) {
    // Only while this data is still the one in place: otherwise a Put has replaced it and
    // its sidecar is right. Failing to cache the digest does not make the answer wrong.
    WarnIfFailed("storage", WriteSidecar(sidecar_path, {rebuilt, std::nullopt}, tmp_dir_),
                 "key={} the rebuilt metadata could not be stored", key);
  }
  return ObjectInfo{key,           identity.size,        rebuilt.sha256_hex,
                    MtimeOf(info), rebuilt.content_type, rebuilt.metadata};
}

namespace {

// Streams `range` of the data open as `fd` (`size` bytes) into `sink`. Reading through a
// descriptor opened earlier gives one version even if a Put replaces the file meanwhile: the
// rename swaps the name, not the inode held.
Status ReadOpenObject(const std::string& key, int fd, const fs::path& path, uint64_t size,
                      std::ostream& sink, std::optional<ByteRange> range) {
  uint64_t offset = range ? range->offset : 0;
  if (offset > size || (range && range->length && *range->length > size - offset)) {
    return InvalidArgument("object " + Quoted(key) + ": range starting at " +
                           std::to_string(offset) + " is past its end (" + std::to_string(size) +
                           " bytes)");
  }
  uint64_t end = range && range->length ? offset + *range->length : size;
  const size_t buffer_size = BufferSize(end - offset);
  auto buffer = std::make_unique_for_overwrite<char[]>(buffer_size);
  while (offset < end) {
    size_t wanted = static_cast<size_t>(std::min<uint64_t>(buffer_size, end - offset));
    TY_ASSIGN_OR_RETURN(size_t n, ReadAt(fd, buffer.get(), wanted, offset, path));
    if (n == 0) return Internal("object " + Quoted(key) + " was truncated while being read");
    sink.write(buffer.get(), static_cast<std::streamsize>(n));
    if (!sink) return Internal("cannot write object " + Quoted(key) + " to the sink");
    offset += n;
  }
  return Status::Ok();
}

class LocalObjectReader : public ObjectReader {
 public:
  LocalObjectReader(FileDescriptor fd, fs::path path, ObjectInfo info)
      : fd_(std::move(fd)), path_(std::move(path)), info_(std::move(info)) {}
  const ObjectInfo& info() const override { return info_; }
  Status Read(std::ostream& sink, std::optional<ByteRange> range) override {
    return ReadOpenObject(info_.key, fd_.get(), path_, info_.size, sink, range);
  }

 private:
  FileDescriptor fd_;
  fs::path path_;
  ObjectInfo info_;
};

}  // namespace

Status LocalObjectStore::Get(const std::string& key, std::ostream& sink,
                             std::optional<ByteRange> range) {
  TY_ASSIGN_OR_RETURN(fs::path path, ObjectPath(key));
  struct stat info;
  TY_ASSIGN_OR_RETURN(FileDescriptor fd, OpenObject(key, path, info));
  return ReadOpenObject(key, fd.get(), path, static_cast<uint64_t>(info.st_size), sink, range);
}

Result<std::unique_ptr<ObjectReader>> LocalObjectStore::OpenVersion(const std::string& key) {
  TY_ASSIGN_OR_RETURN(Opened opened, OpenWithInfo(key));
  return std::unique_ptr<ObjectReader>(std::make_unique<LocalObjectReader>(
      std::move(opened.fd), std::move(opened.path), std::move(opened.info)));
}

Result<std::optional<fs::path>> LocalObjectStore::LocalFile(const std::string& key) {
  TY_ASSIGN_OR_RETURN(fs::path path, ObjectPath(key));
  struct stat info;
  TY_ASSIGN_OR_RETURN(FileDescriptor fd, OpenObject(key, path, info));
  return std::optional<fs::path>(path);
}

Status LocalObjectStore::Delete(const std::string& key) {
  TY_ASSIGN_OR_RETURN(fs::path path, ObjectPath(key));
  fs::path sidecar_path = SidecarPath(key);
  {
    // No Put of the key commits between the two unlinks (its data would stay without metadata).
    TY_ASSIGN_OR_RETURN(FileDescriptor lock, LockKey(sidecar_path, LOCK_EX));
    // EISDIR: the key names a prefix of other keys, not an object: there is nothing to delete.
    if (::unlink(path.c_str()) != 0 && errno != ENOENT && errno != ENOTDIR && errno != EISDIR) {
      return ErrnoStatus("cannot delete object " + Quoted(key) + " at", path);
    }
    if (::unlink(sidecar_path.c_str()) != 0 && errno != ENOENT) {
      return ErrnoStatus("cannot delete the metadata of object " + Quoted(key) + " at",
                         sidecar_path);
    }
  }
  // Prune directories the object leaves empty, so that List never walks dead branches and the
  // key can later become a prefix. rmdir refuses a non-empty directory, which ends the walk.
  for (fs::path parent = path.parent_path(); parent != objects_dir_ && parent != parent.root_path();
       parent = parent.parent_path()) {
    if (::rmdir(parent.c_str()) != 0) break;
  }
  return Status::Ok();
}

}  // namespace trainyard::storage
