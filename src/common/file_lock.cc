#include "common/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace trainyard {

Result<FileLock> FileLock::Acquire(const std::filesystem::path& file, bool create,
                                   const std::string& held_message) {
  int flags = O_RDONLY | O_CLOEXEC | (create ? O_CREAT : 0);
  int fd = ::open(file.c_str(), flags, 0644);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound("'" + file.string() + "' does not exist");
    return Internal("cannot open '" + file.string() + "': " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK) return FailedPrecondition(held_message);
    return Internal("cannot lock '" + file.string() + "': " + std::strerror(error));
  }
  return FileLock(fd);
}

FileLock::FileLock(FileLock&& other) noexcept : fd_(other.fd_) {
  other.fd_ = -1;
}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the lock
}

}  // namespace trainyard
