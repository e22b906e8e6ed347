#include "wrapper/channel_unpacker.h"

#include <filesystem>

#include "common/files.h"

namespace trainyard::wrapper {
namespace fs = std::filesystem;

Result<std::map<std::string, contract::ChannelContents>> PrepareChannels(
    const contract::MlRoot& root, const std::vector<contract::ChannelConfig>& channels,
    bool unpack_archives, const archive::UnpackLimits& limits) {
  std::map<std::string, contract::ChannelContents> contents;
  for (const contract::ChannelConfig& channel : channels) {
    fs::path directory = root.channel_dir(channel.name);
    TY_RETURN_IF_ERROR(MakeDirectories(directory));
    contract::ChannelContents& channel_contents = contents[channel.name];
    if (unpack_archives) {
      std::vector<fs::path> archives;
      for (const fs::directory_entry& entry : fs::directory_iterator(directory)) {
        if (entry.is_regular_file() && archive::IsArchiveName(entry.path().filename().string())) {
          archives.push_back(entry.path());
        }
      }
      std::sort(archives.begin(), archives.end());
      for (const fs::path& archive_path : archives) {
        std::string name = channel.name + "/" + archive_path.filename().string();
        auto unpacked = archive::Unpack(archive_path, directory, limits);
        if (!unpacked.ok()) return unpacked.status().WithContext("cannot unpack '" + name + "'");
        std::error_code error;
        fs::remove(archive_path, error);
        channel_contents.unpacked_archives.push_back(archive_path.filename().string());
      }
    }
    TY_ASSIGN_OR_RETURN(channel_contents.files, ListFilesRecursive(directory));
  }
  return contents;
}

}  // namespace trainyard::wrapper
