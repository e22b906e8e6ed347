#include "storage/local/posix_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>

namespace trainyard::storage {
namespace fs = std::filesystem;

Status ErrnoStatus(const std::string& what, const fs::path& path) {
  std::string message = what + " '" + path.string() + "': " + std::strerror(errno);
  // A full disk (or quota) is the caller's to report as such (HTTP 507), not an internal error.
  if (errno == ENOSPC || errno == EDQUOT) return DiskFull(message);
  return Internal(message);
}

FileDescriptor::~FileDescriptor() {
  if (fd_ >= 0) ::close(fd_);
}

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

int FileDescriptor::release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

Status WriteAll(int fd, const char* data, size_t size, const fs::path& path) {
  size_t written = 0;
  while (written < size) {
    ssize_t n = ::write(fd, data + written, size - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("cannot write", path);
    written += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Result<size_t> ReadAt(int fd, char* data, size_t size, uint64_t offset, const fs::path& path) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, data + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("cannot read", path);
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

Status SyncDirectory(const fs::path& directory) {
  FileDescriptor fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus("cannot open directory", directory);
  if (::fsync(fd.get()) != 0) return ErrnoStatus("cannot sync directory", directory);
  return Status::Ok();
}

Result<TempFile> TempFile::Create(const fs::path& directory, const std::string& stem) {
  // pid + counter keeps names unique across threads and processes; the random part keeps a
  // reused pid from meeting a file a crashed process left behind (O_EXCL catches the rest).
  static std::atomic<uint64_t> counter{0};
  static const uint64_t random_part = std::random_device{}();
  for (int attempt = 0; attempt < 8; ++attempt) {
    fs::path path = directory / (stem + std::to_string(::getpid()) + "-" +
                                 std::to_string(random_part) + "-" + std::to_string(++counter));
    // 0644 less the umask, like every file trainyard writes (mkstemp would force 0600).
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      // Held while the file lives: a store opening later tells a live Put's file from one a
      // dead process left (LocalObjectStore::Open). Where the file system has no locks, the
      // age of the file decides instead, so a failure here is no error.
      (void)::flock(fd, LOCK_EX | LOCK_NB);
      return TempFile(FileDescriptor(fd), path);
    }
    if (errno != EEXIST) return ErrnoStatus("cannot create temp file", path);
  }
  return Internal("cannot find a free temp file name in '" + directory.string() + "'");
}

TempFile::TempFile(TempFile&& other) noexcept
    : fd_(std::move(other.fd_)), path_(std::move(other.path_)), keep_(other.keep_) {
  other.keep_ = true;  // the moved-from object must not unlink our file
}

TempFile::~TempFile() {
  if (!keep_ && !path_.empty()) ::unlink(path_.c_str());
}

Status TempFile::Close() {
  if (fd_.valid() && ::close(fd_.release()) != 0) return ErrnoStatus("cannot close", path_);
  return Status::Ok();
}

}  // namespace trainyard::storage
