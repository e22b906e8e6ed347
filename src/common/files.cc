#include "common/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace trainyard {
namespace fs = std::filesystem;

namespace {
Status ErrnoStatus(const std::string& what, const fs::path& path) {
  return Internal(what + " '" + path.string() + "': " + std::strerror(errno));
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

Status WriteFileAtomic(const fs::path& path, const std::string& content, Durability durability) {
  fs::path temporary = TemporaryBeside(path);
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
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

Status CopyFileAtomic(const fs::path& source, const fs::path& destination) {
  fs::path temporary = TemporaryBeside(destination);
  std::error_code error;
  fs::copy_file(source, temporary, fs::copy_options::overwrite_existing, error);
  if (!error) fs::rename(temporary, destination, error);
  if (error) {
    std::error_code ignored;  // the failure reported is the copy's, not this cleanup's
    fs::remove(temporary, ignored);
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
  if (fs::is_directory(source, error)) {
    fs::copy(source, destination_directory,
             fs::copy_options::recursive | fs::copy_options::overwrite_existing, error);
  } else if (fs::is_regular_file(source, error)) {
    fs::copy_file(source, destination_directory / source.filename(),
                  fs::copy_options::overwrite_existing, error);
  } else {
    return NotFound("'" + source.string() + "' is neither a file nor a directory");
  }
  if (error) {
    return Internal("cannot copy '" + source.string() + "' to '" + destination_directory.string() +
                    "': " + error.message());
  }
  return Status::Ok();
}

}  // namespace trainyard
