#include "common/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace trainyard {
namespace fs = std::filesystem;

namespace {
Status ErrnoStatus(const std::string& what, const fs::path& path) {
  std::string message = what + " '" + path.string() + "': " + std::strerror(errno);
  if (errno == ENOSPC || errno == EDQUOT) return DiskFull(message);
  return Internal(message);
}

// Beside `path`, so that the rename stays on one file system. Unique per process and per call,
// so two threads writing the same path never share a temporary file.
fs::path TemporaryBeside(const fs::path& path) {
  static std::atomic<uint64_t> counter{0};
  fs::path temporary = path;
  temporary += ".tmp." + std::to_string(getpid()) + "." + std::to_string(++counter);
  return temporary;
}
}  // namespace

Result<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!fs::exists(path)) return NotFound("file '" + path.string() + "' does not exist");
    return ErrnoStatus("cannot open", path);
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return ErrnoStatus("cannot read", path);
  return buffer.str();
}

namespace {

Status WriteContent(int fd, const std::string& content, const fs::path& path) {
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("cannot write", path);
    written += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

Status WriteFile(const fs::path& path, const std::string& content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("cannot create", path);
  Status status = WriteContent(fd, content, path);
  ::close(fd);
  return status;
}

namespace {

Status WriteThroughTemporary(const fs::path& path, const std::string& content,
                             Durability durability, mode_t mode) {
  fs::path temporary = TemporaryBeside(path);
  // O_EXCL: a file left at that name (perhaps with other permissions) is never written into.
  ::unlink(temporary.c_str());
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoStatus("cannot create", temporary);
  if (Status status = WriteContent(fd, content, temporary); !status.ok()) {
    ::close(fd);
    ::unlink(temporary.c_str());
    return status;
  }
  if (durability == Durability::kDurable) ::fdatasync(fd);
  ::close(fd);
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    Status status = ErrnoStatus("cannot rename into", path);
    ::unlink(temporary.c_str());
    return status;
  }
  return Status::Ok();
}

}  // namespace

Status WriteFileAtomic(const fs::path& path, const std::string& content, Durability durability) {
  return WriteThroughTemporary(path, content, durability, 0644);
}

Status WritePrivateFileAtomic(const fs::path& path, const std::string& content) {
  return WriteThroughTemporary(path, content, Durability::kDurable, 0600);
}

// Not fs::copy_file: libstdc++ turns a short sendfile, which is what a full disk gives, into
// EIO ("Input/output error"); here the failing call's own errno is reported (DiskFull for
// ENOSPC and EDQUOT).
Status CopyFileContents(const fs::path& source, const fs::path& destination) {
  int in = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return ErrnoStatus("cannot open", source);
  struct stat info;
  if (::fstat(in, &info) != 0) {
    Status failed = ErrnoStatus("cannot stat", source);
    ::close(in);
    return failed;
  }
  int out =
      ::open(destination.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, info.st_mode & 07777);
  if (out < 0) {
    Status failed = ErrnoStatus("cannot create", destination);
    ::close(in);
    return failed;
  }
  Status copied = Status::Ok();
  bool kernel_copy = true;  // copy_file_range, until the file systems refuse it
  std::vector<char> buffer;
  while (copied.ok()) {
    if (kernel_copy) {
      ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, 1 << 30, 0);
      if (n > 0) continue;
      if (n == 0) break;
      if (errno == EINTR) continue;
      if (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP ||
          errno == EPERM) {
        kernel_copy = false;
        continue;
      }
      copied = ErrnoStatus("cannot write", destination);
      break;
    }
    if (buffer.empty()) buffer.resize(1 << 20);
    ssize_t n = ::read(in, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      copied = ErrnoStatus("cannot read", source);
    } else if (n == 0) {
      break;
    } else {
      for (ssize_t done = 0; done < n && copied.ok();) {
        ssize_t w = ::write(out, buffer.data() + done, static_cast<size_t>(n - done));
        if (w < 0 && errno == EINTR) continue;
        if (w < 0)
          copied = ErrnoStatus("cannot write", destination);
        else
          done += w;
      }
    }
  }
  ::close(in);
  if (::close(out) != 0 && copied.ok()) copied = ErrnoStatus("cannot write", destination);
  return copied;
}

Status CopyFileAtomic(const fs::path& source, const fs::path& destination) {
  fs::path temporary = TemporaryBeside(destination);
  Status copied = CopyFileContents(source, temporary);
  std::error_code error;
  if (copied.ok()) fs::rename(temporary, destination, error);
  if (!copied.ok() || error) {
    std::error_code ignored;  // the failure reported is the copy's, not this cleanup's
    fs::remove(temporary, ignored);
    if (!copied.ok()) return copied.WithContext("cannot copy '" + source.string() + "'");
    return Internal("cannot copy '" + source.string() + "' to '" + destination.string() +
                    "': " + error.message());
  }
  return Status::Ok();
}

Status MakeDirectories(const fs::path& path) {
  std::error_code error;
  fs::create_directories(path, error);
  if (error) return Internal("cannot create directory '" + path.string() + "': " + error.message());
  return Status::Ok();
}

Result<std::vector<std::string>> ListFilesRecursive(const fs::path& directory) {
  std::vector<std::string> files;
  std::error_code error;
  fs::recursive_directory_iterator it(directory, error), end;
  if (error) return NotFound("cannot list '" + directory.string() + "': " + error.message());
  for (; it != end; it.increment(error)) {
    if (error) return Internal("cannot list '" + directory.string() + "': " + error.message());
    if (it->is_regular_file()) files.push_back(fs::relative(it->path(), directory).string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

Status SyncFileSystem(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open", path);
  int result = ::syncfs(fd);
  Status status = result == 0 ? Status::Ok() : ErrnoStatus("cannot sync the file system of", path);
  ::close(fd);
  return status;
}

std::optional<fs::path> FindExecutable(const std::string& name, const std::string& search_path) {
  size_t start = 0;
  while (start <= search_path.size()) {
    size_t end = search_path.find(':', start);
    if (end == std::string::npos) end = search_path.size();
    fs::path candidate = fs::path(search_path.substr(start, end - start)) / name;
    if (end > start && ::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return std::nullopt;
}

Status CopyInto(const fs::path& source, const fs::path& destination_directory) {
  TY_RETURN_IF_ERROR(MakeDirectories(destination_directory));
  std::error_code error;
  auto failed = [&](const Status& status) {
    return status.WithContext("cannot copy '" + source.string() + "' to '" +
                              destination_directory.string() + "'");
  };
  if (fs::is_regular_file(source, error)) {
    if (Status copied = CopyFileContents(source, destination_directory / source.filename());
        !copied.ok()) {
      return failed(copied);
    }
    return Status::Ok();
  }
  if (!fs::is_directory(source, error)) {
    return NotFound("'" + source.string() + "' is neither a file nor a directory");
  }
  // As fs::copy(recursive) does: directories made, files copied, symbolic links followed.
  fs::recursive_directory_iterator it(source, error), end;
  for (; !error && it != end; it.increment(error)) {
    fs::path target = destination_directory / fs::relative(it->path(), source);
    std::error_code entry_error;
    if (it->is_directory(entry_error)) {
      if (Status made = MakeDirectories(target); !made.ok()) return failed(made);
    } else if (it->is_regular_file(entry_error)) {
      if (Status copied = CopyFileContents(it->path(), target); !copied.ok()) return failed(copied);
    }
  }
  if (error) {
    return Internal("cannot copy '" + source.string() + "' to '" + destination_directory.string() +
                    "': " + error.message());
  }
  return Status::Ok();
}

}  // namespace trainyard
