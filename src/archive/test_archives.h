// Builds archives entry by entry for the tests, hostile ones included: libarchive's writer stores
// whatever name, link target or type it is given, which the zip/tar commands refuse to do.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace trainyard::archive::testing {

struct TestEntry {
  enum class Type { kFile, kDirectory, kSymlink, kHardlink, kFifo };
  Type type = Type::kFile;
  std::string path;
  std::string content;  // kFile
  std::string target;   // kSymlink, kHardlink
  int mode = 0644;
};

enum class Format { kZip, kTar, kTarGz };

void WriteTestArchive(const std::filesystem::path& path, Format format,
                      const std::vector<TestEntry>& entries);

TestEntry File(std::string path, std::string content, int mode = 0644);
TestEntry Directory(std::string path);
TestEntry Symlink(std::string path, std::string target);
TestEntry Hardlink(std::string path, std::string target);
TestEntry Fifo(std::string path);

// The names stored in an archive, in order, read back with libarchive.
std::vector<std::string> ListArchive(const std::filesystem::path& path);

}  // namespace trainyard::archive::testing
