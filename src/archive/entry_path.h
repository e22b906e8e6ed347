// Lexical checks on the names stored in an archive, before anything touches the disk.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace trainyard::archive::internal {

// The entry name as a clean relative path: "./a//b/" becomes "a/b". Returns "" for the archive
// root itself ("." or "./"). InvalidArgument, naming the entry, for an empty or absolute name or
// one with a ".." component: such an entry could only be meant to land outside the destination.
Result<std::string> NormalizeEntryPath(std::string_view name);

// Splits "a/b/c" into {"a", "b", "c"}, dropping empty and "." components.
std::vector<std::string> SplitPath(std::string_view path);

// Whether a symlink at `link_path` (normalized) pointing to `target` stays inside the root when
// read purely as text. A necessary check only: symlinks inside the tree can still bend the real
// resolution, which CheckSymlinksStayInside (symlink_check.h) handles once the tree exists.
bool TargetStaysInsideLexically(std::string_view link_path, std::string_view target);

}  // namespace trainyard::archive::internal
