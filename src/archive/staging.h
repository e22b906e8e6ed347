// The hidden directory an archive is unpacked into before it becomes visible, and the merge that
// makes it visible.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/status.h"

namespace trainyard::archive::internal {

// Creates a fresh ".trainyard-unpack-XXXXXX" inside `destination`. Inside, not in /tmp, so the
// final moves are renames on one filesystem rather than copies.
Result<std::filesystem::path> CreateStagingDirectory(const std::filesystem::path& destination);

// Removes the staging directory on scope exit, whatever happened. After a successful merge it
// only holds the shells of directories that were merged into existing ones.
class StagingCleanup {
 public:
  explicit StagingCleanup(std::filesystem::path staging) : staging_(std::move(staging)) {}
  ~StagingCleanup();
  StagingCleanup(const StagingCleanup&) = delete;
  StagingCleanup& operator=(const StagingCleanup&) = delete;

 private:
  std::filesystem::path staging_;
};

// What to rename from `staging` into `destination` (paths relative to both): whole subtrees where
// the destination has nothing, descending only where both hold a real directory. AlreadyExists,
// naming the path, where anything else is in the way: nothing is ever replaced.
Result<std::vector<std::string>> PlanMerge(const std::filesystem::path& staging,
                                           const std::filesystem::path& destination);

// Renames the planned paths, each refusing to replace anything (so a file that appeared since
// PlanMerge is not clobbered). On failure, moves back what it had moved, keeping all-or-nothing.
Status ApplyMerge(const std::filesystem::path& staging, const std::filesystem::path& destination,
                  const std::vector<std::string>& plan);

}  // namespace trainyard::archive::internal
