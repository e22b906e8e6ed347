#include <sys/statvfs.h>

#include <cstdint>
#include <exception>

#include "archive/archive.h"
#include "archive/libarchive_handles.h"
#include "archive/staging.h"
#include "archive/unpacker.h"

namespace trainyard::archive {
namespace fs = std::filesystem;

namespace {

// libarchive reads ahead this much per read(): large enough that syscalls do not show up next to
// inflate, small enough not to matter for memory.
constexpr size_t kReadBlockSize = 1 << 20;

Result<internal::ArchiveReader> OpenReader(const fs::path& archive_path) {
  internal::ArchiveReader reader(archive_read_new());
  if (!reader) return Internal("cannot allocate an archive reader");
  // Only what IsArchiveName accepts: every extra format or filter is more parser exposed to
  // hostile bytes, and some libarchive filters shell out to external programs.
  archive_read_support_format_zip(reader.get());
  archive_read_support_format_tar(reader.get());
  archive_read_support_filter_gzip(reader.get());
  if (archive_read_open_filename(reader.get(), archive_path.c_str(), kReadBlockSize) !=
      ARCHIVE_OK) {
    const char* message = archive_error_string(reader.get());
    return InvalidArgument(std::string("is corrupt or not a zip/tar archive: ") +
                           (message != nullptr ? message : "unknown error"));
  }
  return reader;
}

// What the destination's filesystem has free for an unprivileged writer; UINT64_MAX when statvfs
// cannot tell (the write itself then reports a full disk).
uint64_t FreeBytes(const fs::path& destination) {
  struct statvfs info;
  if (::statvfs(destination.c_str(), &info) != 0) return UINT64_MAX;
  return static_cast<uint64_t>(info.f_bavail) * info.f_frsize;
}

Result<std::vector<std::string>> UnpackInto(const fs::path& archive_path,
                                            const fs::path& destination,
                                            const UnpackLimits& limits) {
  std::error_code error;
  if (!fs::exists(archive_path, error)) return NotFound("does not exist");
  if (fs::is_directory(archive_path, error)) return InvalidArgument("is a directory");
  if (!fs::is_directory(destination, error)) {
    return NotFound("destination '" + destination.string() + "' is not an existing directory");
  }
  uint64_t archive_bytes = fs::file_size(archive_path, error);
  if (error) return Internal("cannot read its size: " + error.message());
  TY_ASSIGN_OR_RETURN(internal::ArchiveReader reader, OpenReader(archive_path));
  TY_ASSIGN_OR_RETURN(fs::path staging, internal::CreateStagingDirectory(destination));
  internal::StagingCleanup cleanup(staging);

  internal::Unpacker unpacker(staging, limits, archive_bytes, FreeBytes(destination));
  TY_RETURN_IF_ERROR(unpacker.ExtractAll(reader.get()));
  reader.reset();  // closes the archive file before the slow part is over
  TY_RETURN_IF_ERROR(unpacker.CreateAndCheckSymlinks(destination));
  TY_ASSIGN_OR_RETURN(std::vector<std::string> plan, internal::PlanMerge(staging, destination));
  TY_RETURN_IF_ERROR(internal::ApplyMerge(staging, destination, plan));
  return unpacker.Files();
}

}  // namespace

Result<std::vector<std::string>> Unpack(const fs::path& archive_path, const fs::path& destination,
                                        const UnpackLimits& limits) {
  std::string context = "archive '" + archive_path.filename().string() + "'";
  try {
    Result<std::vector<std::string>> files = UnpackInto(archive_path, destination, limits);
    if (!files.ok()) return files.status().WithContext(context);
    return files;
  } catch (const std::exception& exception) {  // bad_alloc and the like; the staging dir is gone
    return Internal(context + ": unexpected error: " + exception.what());
  }
}

}  // namespace trainyard::archive
