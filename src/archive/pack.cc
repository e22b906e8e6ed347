#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <utility>
#include <vector>

#include "archive/archive.h"
#include "archive/libarchive_handles.h"

namespace trainyard::archive {
namespace fs = std::filesystem;

namespace {

constexpr size_t kChunkSize = 1 << 20;

Status ErrnoStatus(const std::string& what) {
  return Internal(what + ": " + std::strerror(errno));
}

Status WriterStatus(struct ::archive* writer, const std::string& what) {
  const char* message = archive_error_string(writer);
  return Internal(what + ": " + (message != nullptr ? message : "unknown error"));
}

// Removes the temp archive unless it was renamed into place.
class TempFile {
 public:
  explicit TempFile(fs::path path) : path_(std::move(path)) {}
  ~TempFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  void Release() { path_.clear(); }

 private:
  fs::path path_;
};

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int Close() { return ::close(std::exchange(fd_, -1)); }

 private:
  int fd_;
};

// Everything under `root` except `skip` (the archive being written, when it lies inside), as
// sorted relative paths: sorted so that the same tree always gives the same archive.
Result<std::vector<std::string>> ListEntries(const fs::path& root,
                                             const std::vector<fs::path>& skip) {
  std::vector<std::string> entries;
  std::error_code error;
  fs::recursive_directory_iterator it(root, error), end;
  for (; !error && it != end; it.increment(error)) {
    if (std::find(skip.begin(), skip.end(), it->path()) != skip.end()) continue;
    entries.push_back(it->path().lexically_relative(root).generic_string());
  }
  if (error) return Internal("cannot list '" + root.string() + "': " + error.message());
  std::sort(entries.begin(), entries.end());
  return entries;
}

Status CopyContents(struct ::archive* writer, const fs::path& file, const std::string& name,
                    int64_t expected_size, std::vector<char>& buffer) {
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus("cannot open '" + file.string() + "'");
  // Grown as the files need (one byte more than the file, to see it grow), up to a chunk:
  // zeroing a whole chunk to pack a few small files costs more than packing them.
  auto wanted = static_cast<size_t>(std::min<int64_t>(expected_size + 1, kChunkSize));
  if (buffer.size() < wanted) buffer.resize(wanted);
  int64_t copied = 0;
  for (;;) {
    ssize_t got = ::read(fd.get(), buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return ErrnoStatus("cannot read '" + file.string() + "'");
    if (got == 0) break;
    copied += got;
    // The header already promised expected_size bytes; a file that grew cannot be packed right.
    if (copied > expected_size) break;
    if (archive_write_data(writer, buffer.data(), static_cast<size_t>(got)) != got) {
      return WriterStatus(writer, "cannot pack '" + name + "'");
    }
  }
  if (copied != expected_size) {
    return FailedPrecondition("file '" + file.string() + "' changed size while being packed");
  }
  return Status::Ok();
}

Status AddEntry(struct ::archive* writer, const fs::path& root, const std::string& name,
                std::vector<char>& buffer) {
  fs::path full = root / name;
  struct stat info;
  if (::lstat(full.c_str(), &info) != 0) return ErrnoStatus("cannot stat '" + full.string() + "'");
  internal::ArchiveEntry entry(archive_entry_new());
  archive_entry_set_pathname(entry.get(), name.c_str());
  // Ownership stays 0/0 with no names: the reader's user owns what it unpacks anyway, and local
  // user names have no business in a model artifact. Whole seconds keep the headers plain ustar.
  archive_entry_set_perm(entry.get(), info.st_mode & 0777);
  archive_entry_set_mtime(entry.get(), info.st_mtim.tv_sec, 0);
  std::string link_target;
  if (S_ISDIR(info.st_mode)) {
    archive_entry_set_filetype(entry.get(), AE_IFDIR);
  } else if (S_ISREG(info.st_mode)) {
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_size(entry.get(), info.st_size);
  } else if (S_ISLNK(info.st_mode)) {
    std::error_code error;
    link_target = fs::read_symlink(full, error).string();
    if (error) return Internal("cannot read symlink '" + full.string() + "': " + error.message());
    archive_entry_set_filetype(entry.get(), AE_IFLNK);
    archive_entry_set_symlink(entry.get(), link_target.c_str());
  } else {
    return InvalidArgument("cannot pack '" + full.string() +
                           "': only files, directories and symlinks can be packed");
  }
  if (archive_write_header(writer, entry.get()) < ARCHIVE_WARN) {
    return WriterStatus(writer, "cannot pack '" + name + "'");
  }
  if (!S_ISREG(info.st_mode)) return Status::Ok();
  return CopyContents(writer, full, name, info.st_size, buffer);
}

Status PackInto(const fs::path& directory, const fs::path& archive_path) {
  std::error_code error;
  if (!fs::is_directory(directory, error)) {
    return NotFound("directory '" + directory.string() + "' to pack does not exist");
  }
  fs::path root = fs::canonical(directory, error);
  if (error) return Internal("cannot resolve '" + directory.string() + "': " + error.message());
  fs::path target = fs::weakly_canonical(archive_path, error);
  if (error) return Internal("cannot resolve '" + archive_path.string() + "': " + error.message());

  std::string temp_name = target.string() + ".tmp-XXXXXX";
  Fd fd(::mkstemp(temp_name.data()));
  if (fd.get() < 0) return ErrnoStatus("cannot create '" + temp_name + "'");
  TempFile temp(temp_name);
  ::fchmod(fd.get(), 0644);  // mkstemp's 0600 would hide the artifact from other readers

  TY_ASSIGN_OR_RETURN(std::vector<std::string> entries, ListEntries(root, {target, temp_name}));
  internal::ArchiveWriter writer(archive_write_new());
  if (!writer) return Internal("cannot allocate an archive writer");
  if (archive_write_add_filter_gzip(writer.get()) != ARCHIVE_OK ||
      archive_write_set_format_pax_restricted(writer.get()) != ARCHIVE_OK ||
      archive_write_open_fd(writer.get(), fd.get()) != ARCHIVE_OK) {
    return WriterStatus(writer.get(), "cannot start '" + archive_path.string() + "'");
  }
  std::vector<char> buffer;
  for (const std::string& name : entries) {
    TY_RETURN_IF_ERROR(AddEntry(writer.get(), root, name, buffer));
  }
  if (archive_write_close(writer.get()) != ARCHIVE_OK) {
    return WriterStatus(writer.get(), "cannot finish '" + archive_path.string() + "'");
  }
  // Durable before visible: after the rename nobody should find a truncated archive.
  if (::fsync(fd.get()) != 0 || fd.Close() != 0) {
    return ErrnoStatus("cannot write '" + temp_name + "'");
  }
  if (::rename(temp_name.c_str(), target.c_str()) != 0) {
    return ErrnoStatus("cannot rename '" + temp_name + "' to '" + target.string() + "'");
  }
  temp.Release();
  return Status::Ok();
}

}  // namespace

Status PackTarGz(const fs::path& directory, const fs::path& archive_path) {
  try {
    return PackInto(directory, archive_path);
  } catch (const std::exception& exception) {
    return Internal("cannot pack '" + directory.string() +
                    "': unexpected error: " + exception.what());
  }
}

}  // namespace trainyard::archive
