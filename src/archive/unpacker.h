// Reads the entries of an open libarchive reader into a staging directory, enforcing the rules
// Unpack promises. Messages name entries but not the archive: Unpack adds that context.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "archive/archive.h"
#include "common/status.h"

struct archive;
struct archive_entry;

namespace trainyard::archive::internal {

class Unpacker {
 public:
  // `archive_bytes`: the size of the archive file, against which the expansion ratio of the
  // whole archive is measured. `free_bytes`: what the destination's filesystem had free at the
  // start (UINT64_MAX when unknown).
  Unpacker(std::filesystem::path staging, const UnpackLimits& limits, uint64_t archive_bytes,
           uint64_t free_bytes);

  // Extracts every entry. Symlinks are only recorded: creating them last means no entry can ever
  // be written through one, whatever order the archive lists them in.
  Status ExtractAll(struct ::archive* reader);
  // Creates the recorded symlinks and checks, on the finished tree laid over `destination`, that
  // each resolves inside it.
  Status CreateAndCheckSymlinks(const std::filesystem::path& destination);
  // The regular files extracted (hardlinks included), sorted, relative to the staging directory.
  std::vector<std::string> Files() const { return {files_.begin(), files_.end()}; }

 private:
  Status ExtractEntry(struct ::archive* reader, struct ::archive_entry* entry);
  Status WriteRegularFile(struct ::archive* reader, struct ::archive_entry* entry,
                          const std::string& path);
  Status WriteData(struct ::archive* reader, int fd, const std::string& path);
  Status MakeHardlink(const std::string& path, std::string_view target);
  Status RecordSymlink(const std::string& path, const char* target);
  // Makes room for a file at `path`: its parents as real directories, and any file an earlier
  // entry left there removed (a later entry wins, as with tar).
  Status PrepareFileSlot(const std::string& path);
  Status MakeDirectories(const std::string& path, bool including_last);
  Status RefuseThroughSymlink(const std::string& path, bool including_last) const;
  // Checks `size` more bytes of the current entry (whose data ends at `end_offset`) against
  // every limit, before they are written, and counts them.
  Status CountBytes(struct ::archive* reader, const std::string& path, uint64_t size,
                    uint64_t end_offset);

  std::filesystem::path staging_;
  UnpackLimits limits_;
  uint64_t total_limit_ = 0;  // the lowest of max_total_bytes and the free space
  std::string total_limit_text_;
  uint64_t archive_bytes_ = 0;
  uint64_t bytes_written_ = 0;
  int64_t entry_start_read_ = 0;  // archive file bytes read when the current entry began
  uint64_t entry_written_ = 0;
  uint64_t entries_ = 0;
  std::set<std::string> files_;
  std::unordered_set<std::string> directories_;  // known to exist as real directories
  std::map<std::string, std::string> symlinks_;  // path -> target, created at the end
};

}  // namespace trainyard::archive::internal
