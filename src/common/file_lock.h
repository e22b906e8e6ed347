// FileLock: an exclusive lock (flock) on a file, held until the FileLock is destroyed. The kernel
// drops it when the process dies, however it dies, so a lock left by a killed process never
// needs cleaning up. Close-on-exec: the processes this one starts never hold it. Move-only.
#pragma once

#include <filesystem>
#include <string>

#include "common/status.h"

namespace trainyard {

class FileLock {
 public:
  // Locks `file`, creating it when `create` is set. FailedPrecondition with `held_message` when
  // another process holds it; NotFound when it is missing and not to be created.
  static Result<FileLock> Acquire(const std::filesystem::path& file, bool create,
                                  const std::string& held_message);
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace trainyard
