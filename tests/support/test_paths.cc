#include "support/test_paths.h"

#include <stdlib.h>

#include <cstdlib>
#include <stdexcept>

namespace trainyard::testing {
namespace fs = std::filesystem;

namespace {
fs::path FromEnvironment(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value && *value ? fs::path(value) : fs::path(fallback);
}
}  // namespace

fs::path BuildDir() {
  return FromEnvironment("TRAINYARD_BUILD_DIR", TRAINYARD_DEFAULT_BUILD_DIR);
}
fs::path SourceDir() {
  return FromEnvironment("TRAINYARD_SOURCE_DIR", TRAINYARD_DEFAULT_SOURCE_DIR);
}

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "trainyard-test-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

}  // namespace trainyard::testing
