// The metadata file kept beside each object of a LocalObjectStore (SHA-256, content type).
//
// A sidecar records which data file it describes (inode, size, mtime: rename keeps all three),
// so that a sidecar written for a Put that crashed, or that lost a race with another Put of the
// same key, is recognised as stale instead of reporting a SHA-256 the data does not have.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "common/status.h"

namespace trainyard::storage {

struct FileIdentity {
  uint64_t inode = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;

  static FileIdentity Of(const struct stat& info);
  bool operator==(const FileIdentity&) const = default;
};

struct Sidecar {
  std::string key;
  std::string sha256_hex;
  std::string content_type;
  std::map<std::string, std::string> metadata;  // the Put's user metadata
  FileIdentity data;
};

// nullopt when there is none or it cannot be parsed (both mean "recompute").
std::optional<Sidecar> ReadSidecar(const std::filesystem::path& path);
// Atomic: written to a temp file in `temp_directory` (same filesystem), then renamed into place.
Status WriteSidecar(const std::filesystem::path& path, const Sidecar& sidecar,
                    const std::filesystem::path& temp_directory);

}  // namespace trainyard::storage
