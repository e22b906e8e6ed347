#include "archive/unpacker.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "archive/entry_path.h"
#include "archive/symlink_check.h"

namespace trainyard::archive::internal {
namespace fs = std::filesystem;

namespace {

std::string Quote(const std::string& path) {
  return "'" + path + "'";
}

Status ErrnoStatus(const std::string& what) {
  return Internal(what + ": " + std::strerror(errno));
}

std::string ReaderError(struct ::archive* reader) {
  const char* message = archive_error_string(reader);
  return message != nullptr ? message : "unknown error";
}

class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  // Closes now so that a late write error (NFS, quotas) is reported rather than lost.
  int Close() {
    int result = ::close(fd_);
    fd_ = -1;
    return result;
  }

 private:
  int fd_;
};

// The bytes a ratio allows past the floor, without overflow.
uint64_t RatioAllowance(uint64_t ratio, uint64_t read_bytes, uint64_t floor) {
  if (ratio == 0 || read_bytes > UINT64_MAX / ratio) return UINT64_MAX;
  return std::max(floor, ratio * read_bytes);
}

}  // namespace

Unpacker::Unpacker(fs::path staging, const UnpackLimits& limits, uint64_t archive_bytes,
                   uint64_t free_bytes)
    : staging_(std::move(staging)), limits_(limits), archive_bytes_(archive_bytes) {
  total_limit_ = limits.max_total_bytes;
  total_limit_text_ = limits.max_total_description.empty()
                          ? "the limit of " + std::to_string(limits.max_total_bytes) + " bytes"
                          : limits.max_total_description;
  if (limits.keep_free_bytes > 0 && free_bytes != UINT64_MAX) {
    uint64_t room = free_bytes > limits.keep_free_bytes ? free_bytes - limits.keep_free_bytes : 0;
    if (room < total_limit_) {
      total_limit_ = room;
      total_limit_text_ = "the free space of the destination's disk (" +
                          std::to_string(free_bytes) + " bytes, of which " +
                          std::to_string(limits.keep_free_bytes) + " stay free)";
    }
  }
}

Status Unpacker::ExtractAll(struct ::archive* reader) {
  for (;;) {
    struct ::archive_entry* entry = nullptr;
    int result = archive_read_next_header(reader, &entry);
    if (result == ARCHIVE_EOF) return Status::Ok();
    // ARCHIVE_WARN only reports a lossy name conversion or similar; the entry itself is usable.
    if (result < ARCHIVE_WARN) {
      return InvalidArgument("is corrupt or not a zip/tar archive: " + ReaderError(reader));
    }
    if (++entries_ > limits_.max_entries) {
      return ResourceExhausted("more than " + std::to_string(limits_.max_entries) +
                               " entries (the limit)");
    }
    entry_start_read_ = archive_filter_bytes(reader, -1);
    entry_written_ = 0;
    TY_RETURN_IF_ERROR(ExtractEntry(reader, entry));
  }
}

Status Unpacker::ExtractEntry(struct ::archive* reader, struct ::archive_entry* entry) {
  const char* name = archive_entry_pathname(entry);
  if (name == nullptr) name = archive_entry_pathname_utf8(entry);
  if (name == nullptr) return InvalidArgument("an entry has a name that cannot be decoded");
  TY_ASSIGN_OR_RETURN(std::string path, NormalizeEntryPath(name));

  if (const char* target = archive_entry_hardlink(entry)) return MakeHardlink(path, target);
  mode_t type = archive_entry_filetype(entry);
  if (type == AE_IFDIR) return path.empty() ? Status::Ok() : MakeDirectories(path, true);
  if (path.empty()) return InvalidArgument("entry '" + std::string(name) + "' is not a directory");
  if (type == AE_IFREG) return WriteRegularFile(reader, entry, path);
  if (type == AE_IFLNK) return RecordSymlink(path, archive_entry_symlink(entry));
  return InvalidArgument("entry " + Quote(path) +
                         " is a device, fifo or socket; only files, directories and links may be "
                         "unpacked");
}

Status Unpacker::WriteRegularFile(struct ::archive* reader, struct ::archive_entry* entry,
                                  const std::string& path) {
  TY_RETURN_IF_ERROR(PrepareFileSlot(path));
  fs::path full = staging_ / path;
  // The kernel applies the umask; setuid/setgid/sticky bits are dropped on purpose.
  mode_t mode = archive_entry_perm(entry) & 0777;
  int fd = ::open(full.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoStatus("cannot create " + Quote(path));
  FdCloser closer(fd);
  TY_RETURN_IF_ERROR(WriteData(reader, fd, path));
  if (archive_entry_mtime_is_set(entry)) {
    struct timespec times[2] = {{0, UTIME_OMIT},
                                {archive_entry_mtime(entry), archive_entry_mtime_nsec(entry)}};
    ::futimens(fd, times);  // best effort: a wrong timestamp is not worth failing the unpack
  }
  if (closer.Close() != 0) return ErrnoStatus("cannot write " + Quote(path));
  files_.insert(path);
  return Status::Ok();
}

Status Unpacker::WriteData(struct ::archive* reader, int fd, const std::string& path) {
  uint64_t file_end = 0;
  for (;;) {
    const void* block = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    int result = archive_read_data_block(reader, &block, &size, &offset);
    if (offset < 0) return InvalidArgument("entry " + Quote(path) + " has a negative offset");
    if (result == ARCHIVE_EOF) {
      // A sparse tar entry can end in a hole: the final offset is then past the last block.
      if (static_cast<uint64_t>(offset) <= file_end) return Status::Ok();
      TY_RETURN_IF_ERROR(CountBytes(reader, path, 0, offset));
      if (::ftruncate(fd, offset) != 0) return ErrnoStatus("cannot write " + Quote(path));
      return Status::Ok();
    }
    // Zip reports a bad CRC or a size that contradicts the header as ARCHIVE_WARN: corrupt data.
    if (result != ARCHIVE_OK) {
      return InvalidArgument("entry " + Quote(path) + " is corrupt: " + ReaderError(reader));
    }
    uint64_t end = static_cast<uint64_t>(offset) + size;
    TY_RETURN_IF_ERROR(CountBytes(reader, path, size, end));
    const char* data = static_cast<const char*>(block);
    while (size > 0) {
      ssize_t written = ::pwrite(fd, data, size, offset);
      if (written < 0 && errno == EINTR) continue;
      if (written < 0) return ErrnoStatus("cannot write " + Quote(path));
      data += written;
      size -= static_cast<size_t>(written);
      offset += written;
    }
    if (end > file_end) file_end = end;
  }
}

// Checked before each block is written, so no more than a limit ever reaches the disk. The end
// offset is checked too: a sparse entry could otherwise claim a huge logical size for free.
Status Unpacker::CountBytes(struct ::archive* reader, const std::string& path, uint64_t size,
                            uint64_t end_offset) {
  if (size > total_limit_ - std::min(total_limit_, bytes_written_) || end_offset > total_limit_) {
    return ResourceExhausted("unpacked size passes " + total_limit_text_);
  }
  const uint64_t ratio = limits_.max_expansion_ratio;
  uint64_t archive_allowance = RatioAllowance(ratio, archive_bytes_, limits_.expansion_floor_bytes);
  if (bytes_written_ + size > archive_allowance || end_offset > archive_allowance) {
    return ResourceExhausted("unpacks to more than " + std::to_string(archive_allowance) +
                             " bytes, over " + std::to_string(ratio) + " times its own " +
                             std::to_string(archive_bytes_) +
                             " bytes (the expansion limit: a zip bomb?)");
  }
  // What the archive file gave for this entry so far (the compressed bytes, headers included).
  int64_t read_now = archive_filter_bytes(reader, -1);
  uint64_t entry_read =
      read_now > entry_start_read_ ? static_cast<uint64_t>(read_now - entry_start_read_) : 0;
  uint64_t entry_allowance = RatioAllowance(ratio, entry_read, limits_.expansion_floor_bytes);
  uint64_t entry_end = std::max(entry_written_ + size, end_offset);
  if (entry_end > entry_allowance) {
    return ResourceExhausted("entry " + Quote(path) + " expands more than " +
                             std::to_string(ratio) + " times the " + std::to_string(entry_read) +
                             " compressed bytes read for it, past " +
                             std::to_string(limits_.expansion_floor_bytes) +
                             " bytes (the expansion limit: a zip bomb?)");
  }
  bytes_written_ += size;
  entry_written_ += size;
  return Status::Ok();
}

Status Unpacker::MakeHardlink(const std::string& path, std::string_view target) {
  Result<std::string> normalized = NormalizeEntryPath(target);
  if (!normalized.ok() || normalized->empty()) {
    return InvalidArgument("hardlink " + Quote(path) + " -> '" + std::string(target) +
                           "' escapes the destination");
  }
  // Only to a file this archive wrote: that file's parents are real directories in staging, so
  // link() cannot be steered anywhere else, and nothing outside gets a second name inside.
  if (!files_.contains(*normalized)) {
    return InvalidArgument("hardlink " + Quote(path) + " -> " + Quote(*normalized) +
                           " does not point to a file unpacked earlier from the archive");
  }
  if (path == *normalized) return Status::Ok();
  TY_RETURN_IF_ERROR(PrepareFileSlot(path));
  if (::linkat(AT_FDCWD, (staging_ / *normalized).c_str(), AT_FDCWD, (staging_ / path).c_str(),
               0) != 0) {
    return ErrnoStatus("cannot create hardlink " + Quote(path));
  }
  files_.insert(path);
  return Status::Ok();
}

Status Unpacker::RecordSymlink(const std::string& path, const char* target) {
  if (target == nullptr || *target == '\0') {
    return InvalidArgument("symlink " + Quote(path) + " has no target");
  }
  // Catch the obvious escapes now, before spending time on the rest of the archive.
  if (!TargetStaysInsideLexically(path, target)) {
    return InvalidArgument("symlink " + Quote(path) + " -> '" + target +
                           "' escapes the destination");
  }
  TY_RETURN_IF_ERROR(RefuseThroughSymlink(path, false));
  TY_RETURN_IF_ERROR(MakeDirectories(path, false));
  struct stat info;
  if (::lstat((staging_ / path).c_str(), &info) == 0) {
    return InvalidArgument("entry " + Quote(path) + " is both a symlink and a file or directory");
  }
  symlinks_[path] = target;  // a repeated symlink: the later one wins, as with tar
  return Status::Ok();
}

Status Unpacker::CreateAndCheckSymlinks(const fs::path& destination) {
  for (const auto& [path, target] : symlinks_) {
    if (::symlink(target.c_str(), (staging_ / path).c_str()) != 0) {
      return ErrnoStatus("cannot create symlink " + Quote(path));
    }
  }
  // Only now is the tree final: a symlink created later can change where an earlier one leads.
  for (const auto& [path, target] : symlinks_) {
    TY_RETURN_IF_ERROR(CheckSymlinkStaysInside(staging_, destination, path));
  }
  return Status::Ok();
}

Status Unpacker::PrepareFileSlot(const std::string& path) {
  TY_RETURN_IF_ERROR(RefuseThroughSymlink(path, true));
  TY_RETURN_IF_ERROR(MakeDirectories(path, false));
  fs::path full = staging_ / path;
  struct stat info;
  if (::lstat(full.c_str(), &info) != 0) return Status::Ok();
  if (S_ISDIR(info.st_mode)) {
    return InvalidArgument("entry " + Quote(path) + " is both a directory and a file");
  }
  if (::unlink(full.c_str()) != 0) return ErrnoStatus("cannot replace " + Quote(path));
  files_.erase(path);
  return Status::Ok();
}

Status Unpacker::MakeDirectories(const std::string& path, bool including_last) {
  if (including_last) TY_RETURN_IF_ERROR(RefuseThroughSymlink(path, true));
  size_t end = including_last ? path.size() : path.rfind('/');
  if (end == std::string::npos) return Status::Ok();
  for (size_t slash = path.find('/');; slash = path.find('/', slash + 1)) {
    std::string prefix = path.substr(0, std::min(slash, end));
    if (!directories_.contains(prefix)) {
      fs::path full = staging_ / prefix;
      if (::mkdir(full.c_str(), 0755) != 0) {
        struct stat info;
        if (errno != EEXIST) return ErrnoStatus("cannot create directory " + Quote(prefix));
        if (::lstat(full.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
          return InvalidArgument("entry " + Quote(path) + " needs " + Quote(prefix) +
                                 " to be a directory, but the archive has a file there");
        }
      }
      directories_.insert(prefix);
    }
    if (slash >= end) return Status::Ok();
  }
}

Status Unpacker::RefuseThroughSymlink(const std::string& path, bool including_last) const {
  if (symlinks_.empty()) return Status::Ok();
  for (size_t slash = path.find('/'); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    std::string prefix = path.substr(0, slash);
    if (symlinks_.contains(prefix)) {
      return InvalidArgument("entry " + Quote(path) + " goes through the symlink " + Quote(prefix));
    }
  }
  if (including_last && symlinks_.contains(path)) {
    return InvalidArgument("entry " + Quote(path) + " is both a symlink and a file or directory");
  }
  return Status::Ok();
}

}  // namespace trainyard::archive::internal
