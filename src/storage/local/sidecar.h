// The metadata file kept beside each object of a LocalObjectStore (SHA-256, content type).
//
// A sidecar records which data file it describes (inode, size, mtime: rename keeps all three),
// so that a sidecar written for a Put that crashed is recognised as stale instead of reporting a
// SHA-256 the data does not have.
//
// A Put writes the sidecar before it renames its data into place, both under the key's lock
// (LocalObjectStore), and the sidecar keeps the entry of the data it replaces beside the new
// one: whichever file the name holds, after a crash between the two steps too, the sidecar
// describes it. The data's rename is the one commit point of a Put, body and metadata alike.
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

// What one sidecar file holds: the entry of the newest Put, and the entry of the data that Put
// replaces, kept until the next Put (the data in place is one of the two).
struct SidecarFile {
  Sidecar current;
  std::optional<Sidecar> previous;

  // The entry that describes `key`'s data of `identity`, or nullptr (stale: recompute).
  const Sidecar* Find(const std::string& key, const FileIdentity& identity) const;
};

// nullopt when there is none or it cannot be parsed (both mean "recompute"). Reads the format
// of earlier versions (one entry, no "previous") too.
std::optional<SidecarFile> ReadSidecar(const std::filesystem::path& path);
// Atomic: written to a temp file in `temp_directory` (same filesystem), then renamed into place.
Status WriteSidecar(const std::filesystem::path& path, const SidecarFile& sidecar,
                    const std::filesystem::path& temp_directory);

}  // namespace trainyard::storage
