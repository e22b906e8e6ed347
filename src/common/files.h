// Small filesystem helpers that return Status instead of throwing.
//
// WriteFileAtomic and CopyFileAtomic write through a temp file in the same directory, renamed
// into place: a reader never sees a half-written file, which matters for files other processes
// poll (job state, job.json).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace trainyard {

// Whether WriteFileAtomic waits for the data to reach the disk. Atomicity (no reader ever sees a
// half-written file) holds either way; durability across a power loss needs kDurable.
enum class Durability { kDurable, kAtomicOnly };

Result<std::string> ReadFile(const std::filesystem::path& path);
// Writes `content` to `path` in place (created or truncated), not atomically: for files nobody
// reads before the writer is done, such as a job root laid out before its job starts.
Status WriteFile(const std::filesystem::path& path, const std::string& content);
Status WriteFileAtomic(const std::filesystem::path& path, const std::string& content,
                       Durability durability = Durability::kDurable);
// WriteFileAtomic (durable) of a file only its owner may read (mode 0600 from its first byte,
// whatever the umask): keys and tokens.
Status WritePrivateFileAtomic(const std::filesystem::path& path, const std::string& content);
// Copies a regular file's bytes and permission bits to `destination` (created, or truncated),
// in place. On failure the errno of the call that failed: DiskFull for ENOSPC or EDQUOT
// ("No space left on device"), else Internal, naming the path.
Status CopyFileContents(const std::filesystem::path& source,
                        const std::filesystem::path& destination);
// Copies the file `source` to `destination` through a temporary file beside it, renamed into
// place: a reader never sees half a copy (not synced). As CopyFileContents on failure.
Status CopyFileAtomic(const std::filesystem::path& source,
                      const std::filesystem::path& destination);
Status MakeDirectories(const std::filesystem::path& path);
// Regular files under `directory`, as sorted paths relative to it ("a/b.csv").
Result<std::vector<std::string>> ListFilesRecursive(const std::filesystem::path& directory);
// Flushes everything written to the file system that holds `path` (syncfs): one call makes a
// whole directory of files written with kAtomicOnly durable.
Status SyncFileSystem(const std::filesystem::path& path);
// The first executable called `name` in the directories of `search_path` ("/usr/bin:/bin", the
// format of $PATH), or nullopt.
std::optional<std::filesystem::path> FindExecutable(const std::string& name,
                                                    const std::string& search_path);
// Copies a file, or a directory's contents, into `destination_directory` (created if missing).
Status CopyInto(const std::filesystem::path& source,
                const std::filesystem::path& destination_directory);

}  // namespace trainyard
