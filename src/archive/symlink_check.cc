#include "archive/symlink_check.h"

#include <sys/stat.h>

#include <deque>
#include <vector>

#include "archive/entry_path.h"

namespace trainyard::archive::internal {
namespace fs = std::filesystem;

namespace {

// Matches the kernel's limit (MAXSYMLINKS): beyond it resolution fails with ELOOP anyway.
constexpr int kMaxSymlinkHops = 40;

struct Lookup {
  bool is_symlink = false;
  fs::path where;  // the symlink itself, when is_symlink
};

// Staging wins over the destination, as it will after the merge. Anything missing in both is
// treated as a plain directory still to come, which can only make the walk stricter.
Lookup Find(const fs::path& staging, const fs::path& destination, const std::string& relative) {
  for (const fs::path* root : {&staging, &destination}) {
    fs::path full = *root / relative;
    struct stat info;
    if (::lstat(full.c_str(), &info) == 0) return {S_ISLNK(info.st_mode), full};
  }
  return {};
}

std::string Join(const std::vector<std::string>& components, const std::string& last) {
  std::string joined;
  for (const std::string& component : components) joined += component + '/';
  return joined + last;
}

}  // namespace

Status CheckSymlinkStaysInside(const fs::path& staging, const fs::path& destination,
                               const std::string& link_path) {
  std::error_code error;
  std::string target = fs::read_symlink(staging / link_path, error).string();
  if (error) return Internal("cannot read symlink '" + link_path + "': " + error.message());
  Status escapes =
      InvalidArgument("symlink '" + link_path + "' -> '" + target + "' escapes the destination");
  if (target.empty() || target.front() == '/') return escapes;

  // `resolved` only ever holds components that are not symlinks, so joining them is safe.
  std::vector<std::string> resolved = SplitPath(link_path);
  resolved.pop_back();
  std::deque<std::string> pending;
  for (std::string& component : SplitPath(target)) pending.push_back(std::move(component));
  int hops = 0;
  while (!pending.empty()) {
    std::string component = std::move(pending.front());
    pending.pop_front();
    if (component == "..") {
      if (resolved.empty()) return escapes;
      resolved.pop_back();
      continue;
    }
    Lookup found = Find(staging, destination, Join(resolved, component));
    if (!found.is_symlink) {
      resolved.push_back(std::move(component));
      continue;
    }
    if (++hops > kMaxSymlinkHops) {
      return InvalidArgument("symlink '" + link_path + "' -> '" + target + "' loops");
    }
    std::string next = fs::read_symlink(found.where, error).string();
    if (error) return Internal("cannot read symlink '" + found.where.string() + "'");
    if (next.empty() || next.front() == '/') return escapes;
    std::vector<std::string> expanded = SplitPath(next);
    pending.insert(pending.begin(), expanded.begin(), expanded.end());
  }
  return Status::Ok();
}

}  // namespace trainyard::archive::internal
