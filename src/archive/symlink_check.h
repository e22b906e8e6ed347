// The real-resolution check for symlinks an archive created.
//
// A lexical check is not enough: with "d/p -> .." and "q -> d/p/..", "q" reads as "d" but the
// kernel resolves it to the parent of the root. So once every entry exists, each symlink is
// followed component by component the way the kernel would, through the staging tree laid over
// the destination (the tree it will be merged into), and refused if it ever climbs above the root.
#pragma once

#include <filesystem>
#include <string>

#include "common/status.h"

namespace trainyard::archive::internal {

// `link_path` is the symlink's normalized path, relative to both `staging` (where it exists) and
// `destination`. InvalidArgument naming the link and its target if it resolves outside, or if
// following it loops.
Status CheckSymlinkStaysInside(const std::filesystem::path& staging,
                               const std::filesystem::path& destination,
                               const std::string& link_path);

}  // namespace trainyard::archive::internal
