#include "wrapper/channel_unpacker.h"

#include <algorithm>
#include <filesystem>
#include <optional>

#include "common/files.h"

namespace trainyard::wrapper {
namespace fs = std::filesystem;

namespace {

// Every archive in the tree under `directory`, as sorted paths relative to it. Directory symlinks
// are not followed: they could lead out of the channel.
Result<std::vector<std::string>> FindArchives(const fs::path& directory) {
  std::vector<std::string> archives;
  std::error_code error;
  fs::recursive_directory_iterator entries(directory, error);
  for (; !error && entries != fs::recursive_directory_iterator(); entries.increment(error)) {
    const fs::directory_entry& entry = *entries;
    if (entry.is_regular_file(error) && archive::IsArchiveName(entry.path().filename().string())) {
      archives.push_back(entry.path().lexically_relative(directory).generic_string());
    }
  }
  if (error) {
    return Internal("cannot list '" + directory.string() + "': " + error.message());
  }
  std::sort(archives.begin(), archives.end());
  return archives;
}

// The bytes of the regular files under `directory` (symlinks not followed).
Result<uint64_t> BytesUnder(const fs::path& directory) {
  uint64_t total = 0;
  std::error_code error;
  fs::recursive_directory_iterator entries(directory, error);
  for (; !error && entries != fs::recursive_directory_iterator(); entries.increment(error)) {
    std::error_code size_error;
    if (entries->is_regular_file(size_error)) {
      uint64_t size = entries->file_size(size_error);
      if (!size_error) total += size;
    }
  }
  if (error) return Internal("cannot list '" + directory.string() + "': " + error.message());
  return total;
}

// What the job's volume holds: counted once under the ML root, then kept up to date as each
// archive is replaced by its files (one walk of the tree, not one per archive).
struct VolumeUse {
  uint64_t volume_bytes = 0;  // 0: the job set no VolumeSizeInGB
  std::optional<uint64_t> used_bytes;
};

// `limits`, lowered to what the job's volume has left when that is less.
Result<archive::UnpackLimits> LimitsWithinVolume(const contract::MlRoot& root,
                                                 const archive::UnpackLimits& limits,
                                                 VolumeUse& volume) {
  if (volume.volume_bytes == 0) return limits;
  if (!volume.used_bytes) {
    TY_ASSIGN_OR_RETURN(volume.used_bytes, BytesUnder(root.root()));
  }
  uint64_t used = *volume.used_bytes;
  uint64_t left = volume.volume_bytes > used ? volume.volume_bytes - used : 0;
  if (left >= limits.max_total_bytes) return limits;
  archive::UnpackLimits lowered = limits;
  lowered.max_total_bytes = left;
  lowered.max_total_description =
      "the job's VolumeSizeInGB (" + std::to_string(volume.volume_bytes) + " bytes, of which " +
      std::to_string(used) + " are already used: " + std::to_string(left) + " left)";
  return lowered;
}

// After an archive of `archive_bytes` was replaced by `files` (relative to `directory`).
void CountUnpacked(const fs::path& directory, const std::vector<std::string>& files,
                   uint64_t archive_bytes, VolumeUse& volume) {
  if (!volume.used_bytes) return;
  uint64_t used = *volume.used_bytes;
  for (const std::string& file : files) {
    std::error_code error;
    uint64_t size = fs::file_size(directory / file, error);
    if (!error) used += size;
  }
  *volume.used_bytes = used > archive_bytes ? used - archive_bytes : 0;
}

Result<std::vector<std::string>> UnpackChannelArchives(const contract::MlRoot& root,
                                                       const std::string& channel,
                                                       const fs::path& directory,
                                                       const archive::UnpackLimits& limits,
                                                       VolumeUse& volume) {
  TY_ASSIGN_OR_RETURN(std::vector<std::string> archives, FindArchives(directory));
  for (const std::string& relative_path : archives) {
    fs::path archive_path = directory / relative_path;
    TY_ASSIGN_OR_RETURN(archive::UnpackLimits archive_limits,
                        LimitsWithinVolume(root, limits, volume));
    std::error_code size_error;
    uint64_t archive_bytes = fs::file_size(archive_path, size_error);
    auto unpacked = archive::Unpack(archive_path, archive_path.parent_path(), archive_limits);
    if (!unpacked.ok()) {
      return unpacked.status().WithContext("cannot unpack '" + channel + "/" + relative_path + "'");
    }
    std::error_code error;
    if (!fs::remove(archive_path, error) && error) {
      return Internal("cannot remove '" + channel + "/" + relative_path +
                      "' after unpacking it: " + error.message());
    }
    CountUnpacked(archive_path.parent_path(), *unpacked, size_error ? 0 : archive_bytes, volume);
  }
  return archives;
}

}  // namespace

Result<std::map<std::string, contract::ChannelContents>> PrepareChannels(
    const contract::MlRoot& root, const std::vector<contract::ChannelConfig>& channels,
    const KeptArchives& kept, const archive::UnpackLimits& limits, uint64_t volume_bytes) {
  std::map<std::string, contract::ChannelContents> contents;
  VolumeUse volume{.volume_bytes = volume_bytes};
  for (const contract::ChannelConfig& channel : channels) {
    fs::path directory = root.channel_dir(channel.name);
    TY_RETURN_IF_ERROR(MakeDirectories(directory));
    contract::ChannelContents& channel_contents = contents[channel.name];
    if (!kept.Keeps(channel.name)) {
      TY_ASSIGN_OR_RETURN(channel_contents.unpacked_archives,
                          UnpackChannelArchives(root, channel.name, directory, limits, volume));
    }
    TY_ASSIGN_OR_RETURN(channel_contents.files, ListFilesRecursive(directory));
  }
  return contents;
}

std::vector<std::string> KeptChannelsNotInJob(
    const KeptArchives& kept, const std::vector<contract::ChannelConfig>& channels) {
  std::vector<std::string> unknown;
  for (const std::string& name : kept.channels) {
    bool in_job = std::any_of(channels.begin(), channels.end(),
                              [&](const contract::ChannelConfig& c) { return c.name == name; });
    if (!in_job) unknown.push_back(name);
  }
  return unknown;
}

}  // namespace trainyard::wrapper
