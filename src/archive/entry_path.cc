#include "archive/entry_path.h"

namespace trainyard::archive::internal {

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> components;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view component = path.substr(start, end - start);
    if (!component.empty() && component != ".") components.emplace_back(component);
    start = end + 1;
  }
  return components;
}

Result<std::string> NormalizeEntryPath(std::string_view name) {
  if (name.empty()) return InvalidArgument("an entry has an empty name");
  std::string quoted = "entry '" + std::string(name) + "'";
  if (name.front() == '/') return InvalidArgument(quoted + " has an absolute path");
  std::string normalized;
  for (const std::string& component : SplitPath(name)) {
    if (component == "..") return InvalidArgument(quoted + " escapes the destination");
    if (!normalized.empty()) normalized += '/';
    normalized += component;
  }
  return normalized;
}

bool TargetStaysInsideLexically(std::string_view link_path, std::string_view target) {
  if (target.empty() || target.front() == '/') return false;
  std::vector<std::string> resolved = SplitPath(link_path);
  if (!resolved.empty()) resolved.pop_back();  // a relative target starts at the link's directory
  for (const std::string& component : SplitPath(target)) {
    if (component != "..") {
      resolved.push_back(component);
    } else if (resolved.empty()) {
      return false;
    } else {
      resolved.pop_back();
    }
  }
  return true;
}

}  // namespace trainyard::archive::internal
