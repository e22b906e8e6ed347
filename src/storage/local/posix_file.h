// Thin POSIX file helpers for the local object store: an owned descriptor, whole writes and
// positional reads that retry on EINTR, and uniquely named temp files that vanish unless kept.
// Each object is used by one thread at a time.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "common/status.h"

namespace trainyard::storage {

// Internal("<what> '<path>': <strerror(errno)>").
Status ErrnoStatus(const std::string& what, const std::filesystem::path& path);

class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor();
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(other.release()) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release();

 private:
  int fd_ = -1;
};

Status WriteAll(int fd, const char* data, size_t size, const std::filesystem::path& path);
// Reads up to `size` bytes at `offset`; fewer only at the end of the file.
Result<size_t> ReadAt(int fd, char* data, size_t size, uint64_t offset,
                      const std::filesystem::path& path);
// fsyncs a directory so that a rename into it survives a power loss.
Status SyncDirectory(const std::filesystem::path& directory);

// A new, empty file in `directory` with a name no other thread or process uses. Removed when
// the object goes unless Keep() was called (after a successful rename).
class TempFile {
 public:
  static Result<TempFile> Create(const std::filesystem::path& directory, const std::string& stem);
  ~TempFile();
  TempFile(TempFile&& other) noexcept;
  TempFile& operator=(TempFile&&) = delete;

  int fd() const { return fd_.get(); }
  const std::filesystem::path& path() const { return path_; }
  Status Close();
  void Keep() { keep_ = true; }

 private:
  TempFile(FileDescriptor fd, std::filesystem::path path)
      : fd_(std::move(fd)), path_(std::move(path)) {}
  FileDescriptor fd_;
  std::filesystem::path path_;
  bool keep_ = false;
};

}  // namespace trainyard::storage
