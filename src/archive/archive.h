// Unpacking and packing of job inputs and outputs: zip, tar and tar.gz.
//
// Archives come from users (training data, pretrained models), so Unpack treats every archive as
// hostile: nothing it writes can land outside the destination, a zip bomb is cut off by counting
// the bytes actually written, and a failed unpack leaves the destination exactly as it was.
//
// Error codes:
//   InvalidArgument    hostile or corrupt archive (escaping path, link pointing out, device entry,
//                      bad CRC, not a zip/tar at all). The message names the archive and the
//                      reason: "archive 'data.zip': entry '../evil.txt' escapes the destination".
//   ResourceExhausted  the archive passes UnpackLimits (size, expansion ratio, free space or
//                      entry count); the message names the limit. Kept apart from InvalidArgument
//                      because a legitimate but large archive lands here too and the caller may
//                      want to say "raise the limit" rather than "your file is broken".
//   AlreadyExists      an entry would replace something already in the destination.
//   NotFound           the archive or the destination does not exist.
//   Internal           the local filesystem failed (disk full, permissions).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/status.h"

namespace trainyard::archive {

// What one archive may unpack to. A zip bomb is stopped by whichever limit it reaches first; the
// bytes are counted as they are written (a sparse entry's holes included), never taken from
// headers.
struct UnpackLimits {
  uint64_t max_total_bytes = 64ull << 30;  // sum of entry sizes actually written
  // What max_total_bytes stands for, in messages ("the job's VolumeSizeInGB ..."); empty: "the
  // limit of N bytes".
  std::string max_total_description;
  uint64_t max_entries = 1'000'000;  // every entry counts: files, directories, links
  // Bytes written per byte read from the archive file, for the whole archive (against its size)
  // and for each entry (against the compressed bytes read for it); 0 turns the check off. Real
  // data rarely passes 20:1 (text, CSV); a zip of zeros is 1000:1.
  uint64_t max_expansion_ratio = 100;
  // The ratio applies only beyond this many bytes, so that small archives of very repetitive
  // files (a config of blanks, an all-zero mask) always unpack.
  uint64_t expansion_floor_bytes = 16ull << 20;
  // Space left free on the destination's filesystem (statvfs when the unpack starts): the
  // archive may write at most the free space minus this; 0 turns the check off.
  uint64_t keep_free_bytes = 256ull << 20;
};

// True for names ending .zip, .tar, .tar.gz, .tgz (case-insensitive), with something before the
// suffix (".zip" alone is a hidden file, not an archive).
bool IsArchiveName(const std::string& file_name);

// Unpacks `archive_path` (zip, tar or gzip-compressed tar, recognized by content, not by name)
// into `destination`, an existing directory.
//
// Safe against hostile input: refuses entries with absolute paths or a ".." component, symlinks
// whose target resolves outside `destination` (absolute targets always count as outside),
// hardlinks to anything but a regular file of the same archive, entries that would be written
// through a symlink, and device/fifo/socket entries. Stops as soon as the bytes written, the
// expansion ratio, the free space or the entry count pass `limits` (bytes are counted as written,
// header sizes are never trusted, and each block is checked before it is written, so no more than
// a limit ever reaches the disk).
//
// All-or-nothing: entries are extracted into a hidden staging directory inside `destination`
// (".trainyard-unpack-XXXXXX") and moved into place only when the whole archive succeeded; on any
// failure the staging directory is removed. Existing directories in `destination` are merged into;
// an existing file, symlink, or a directory where the archive has a file, is never replaced
// (AlreadyExists naming it).
//
// Keeps the permission bits of files (e.g. the executable flag, minus the umask; never setuid)
// and their modification time; ownership and directory modes are not restored.
//
// Returns the regular files written (hardlinks included, symlinks and directories not), as sorted
// paths relative to `destination`.
Result<std::vector<std::string>> Unpack(const std::filesystem::path& archive_path,
                                        const std::filesystem::path& destination,
                                        const UnpackLimits& limits = {});

// Packs the contents of `directory` into a gzip-compressed tar at `archive_path`, entries at the
// archive root ("model.json", "sub/x.bin", no leading "./"), as SageMaker packs /opt/ml/model
// into model.tar.gz. Directories and symlinks are stored as such; sockets and devices are refused.
// The archive is written to a temp file beside `archive_path` and renamed into place, so a reader
// never sees half an archive; `archive_path` may lie inside `directory` (it is not packed into
// itself). An empty directory gives a valid empty tar.gz. File contents are streamed in chunks.
Status PackTarGz(const std::filesystem::path& directory, const std::filesystem::path& archive_path);

}  // namespace trainyard::archive
