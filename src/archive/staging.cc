#include "archive/staging.h"

#include <fcntl.h>  // AT_FDCWD
#include <stdio.h>  // renameat2
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace trainyard::archive::internal {
namespace fs = std::filesystem;

namespace {

enum class Kind { kMissing, kDirectory, kOther };

Kind KindOf(const fs::path& path) {
  struct stat info;
  if (::lstat(path.c_str(), &info) != 0) return Kind::kMissing;
  return S_ISDIR(info.st_mode) ? Kind::kDirectory : Kind::kOther;
}

Status PlanInto(const fs::path& staging, const fs::path& destination, const std::string& relative,
                std::vector<std::string>& plan) {
  std::error_code error;
  std::vector<std::string> names;
  for (fs::directory_iterator it(staging / relative, error), end; !error && it != end;
       it.increment(error)) {
    names.push_back(it->path().filename().string());
  }
  if (error) return Internal("cannot list staging directory: " + error.message());
  std::sort(names.begin(), names.end());  // so the error names the same path every time
  for (const std::string& name : names) {
    std::string path = relative.empty() ? name : relative + '/' + name;
    Kind there = KindOf(destination / path);
    if (there == Kind::kMissing) {
      plan.push_back(path);
    } else if (there == Kind::kDirectory && KindOf(staging / path) == Kind::kDirectory &&
               destination / path != staging) {
      TY_RETURN_IF_ERROR(PlanInto(staging, destination, path, plan));
    } else {
      return AlreadyExists("'" + path + "' already exists in the destination");
    }
  }
  return Status::Ok();
}

// rename() that never replaces: RENAME_NOREPLACE where the filesystem has it, else a check just
// before (racy, but only against other writers of the same destination).
int RenameNoReplace(const fs::path& from, const fs::path& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return -1;
  if (KindOf(to) != Kind::kMissing) {
    errno = EEXIST;
    return -1;
  }
  return ::rename(from.c_str(), to.c_str());
}

}  // namespace

Result<fs::path> CreateStagingDirectory(const fs::path& destination) {
  std::string name = (destination / ".trainyard-unpack-XXXXXX").string();
  if (::mkdtemp(name.data()) == nullptr) {
    return Internal("cannot create a staging directory in '" + destination.string() +
                    "': " + std::strerror(errno));
  }
  return fs::path(name);
}

StagingCleanup::~StagingCleanup() {
  std::error_code ignored;  // nothing to report to from a destructor; the dir is hidden anyway
  fs::remove_all(staging_, ignored);
}

Result<std::vector<std::string>> PlanMerge(const fs::path& staging, const fs::path& destination) {
  std::vector<std::string> plan;
  TY_RETURN_IF_ERROR(PlanInto(staging, destination, "", plan));
  return plan;
}

Status ApplyMerge(const fs::path& staging, const fs::path& destination,
                  const std::vector<std::string>& plan) {
  for (size_t moved = 0; moved < plan.size(); ++moved) {
    const std::string& path = plan[moved];
    if (RenameNoReplace(staging / path, destination / path) == 0) continue;
    int rename_errno = errno;
    while (moved > 0) {
      --moved;
      ::rename((destination / plan[moved]).c_str(), (staging / plan[moved]).c_str());
    }
    if (rename_errno == EEXIST || rename_errno == ENOTEMPTY) {
      return AlreadyExists("'" + path + "' already exists in the destination");
    }
    return Internal("cannot move '" + path + "' into '" + destination.string() +
                    "': " + std::strerror(rename_errno));
  }
  return Status::Ok();
}

}  // namespace trainyard::archive::internal
