// Where tests find the built binaries and the source tree, and a temp dir per test.
#pragma once

#include <filesystem>
#include <string>

namespace trainyard::testing {

// $TRAINYARD_BUILD_DIR / $TRAINYARD_SOURCE_DIR, set by ctest (see trainyard_test in CMake).
std::filesystem::path BuildDir();
std::filesystem::path SourceDir();

// A fresh directory under the system temp dir, removed when the object goes.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace trainyard::testing
