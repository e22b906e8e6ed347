#include "wrapper/channel_unpacker.h"

#include <algorithm>
#include <filesystem>

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

Result<std::vector<std::string>> UnpackChannelArchives(const std::string& channel,
                                                       const fs::path& directory,
                                                       const archive::UnpackLimits& limits) {
  TY_ASSIGN_OR_RETURN(std::vector<std::string> archives, FindArchives(directory));
  for (const std::string& relative_path : archives) {
    fs::path archive_path = directory / relative_path;
    auto unpacked = archive::Unpack(archive_path, archive_path.parent_path(), limits);
    if (!unpacked.ok()) {
      return unpacked.status().WithContext("cannot unpack '" + channel + "/" + relative_path + "'");
    }
    std::error_code error;
    if (!fs::remove(archive_path, error) && error) {
      return Internal("cannot remove '" + channel + "/" + relative_path +
                      "' after unpacking it: " + error.message());
    }
  }
  return archives;
}

}  // namespace

Result<std::map<std::string, contract::ChannelContents>> PrepareChannels(
    const contract::MlRoot& root, const std::vector<contract::ChannelConfig>& channels,
    const KeptArchives& kept, const archive::UnpackLimits& limits) {
  std::map<std::string, contract::ChannelContents> contents;
  for (const contract::ChannelConfig& channel : channels) {
    fs::path directory = root.channel_dir(channel.name);
    TY_RETURN_IF_ERROR(MakeDirectories(directory));
    contract::ChannelContents& channel_contents = contents[channel.name];
    if (!kept.Keeps(channel.name)) {
      TY_ASSIGN_OR_RETURN(channel_contents.unpacked_archives,
                          UnpackChannelArchives(channel.name, directory, limits));
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
