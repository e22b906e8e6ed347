#include "storage/local/sidecar.h"

#include <stdio.h>

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "storage/local/posix_file.h"

namespace trainyard::storage {
namespace fs = std::filesystem;

FileIdentity FileIdentity::Of(const struct stat& info) {
  return {static_cast<uint64_t>(info.st_ino), static_cast<uint64_t>(info.st_size),
          static_cast<int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec};
}

namespace {

// Throws nlohmann::json::exception for a missing field or one of the wrong type.
Sidecar EntryFromJson(const nlohmann::json& json) {
  Sidecar sidecar;
  sidecar.key = json.at("key").get<std::string>();
  sidecar.sha256_hex = json.at("sha256").get<std::string>();
  sidecar.content_type = json.at("content_type").get<std::string>();
  if (json.contains("metadata")) {
    sidecar.metadata = json.at("metadata").get<std::map<std::string, std::string>>();
  }
  sidecar.data.inode = json.at("inode").get<uint64_t>();
  sidecar.data.size = json.at("size").get<uint64_t>();
  sidecar.data.mtime_ns = json.at("mtime_ns").get<int64_t>();
  return sidecar;
}

nlohmann::json EntryToJson(const Sidecar& sidecar) {
  return {{"key", sidecar.key},
          {"sha256", sidecar.sha256_hex},
          {"content_type", sidecar.content_type},
          {"metadata", sidecar.metadata},
          {"inode", sidecar.data.inode},
          {"size", sidecar.data.size},
          {"mtime_ns", sidecar.data.mtime_ns}};
}

}  // namespace

const Sidecar* SidecarFile::Find(const std::string& key, const FileIdentity& identity) const {
  if (current.key == key && current.data == identity) return &current;
  if (previous && previous->key == key && previous->data == identity) return &*previous;
  return nullptr;
}

std::optional<SidecarFile> ReadSidecar(const fs::path& path) {
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) return std::nullopt;
  nlohmann::json json = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return std::nullopt;
  try {
    SidecarFile file{EntryFromJson(json), std::nullopt};
    if (json.contains("previous")) file.previous = EntryFromJson(json.at("previous"));
    return file;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // a field missing or of the wrong type: treat as no sidecar
  }
}

Status WriteSidecar(const fs::path& path, const SidecarFile& sidecar,
                    const fs::path& temp_directory) {
  nlohmann::json json = EntryToJson(sidecar.current);
  if (sidecar.previous) json["previous"] = EntryToJson(*sidecar.previous);
  // Replace, not throw, on invalid UTF-8: keys are validated, but this must never throw.
  std::string text = json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  TY_ASSIGN_OR_RETURN(TempFile temp, TempFile::Create(temp_directory, "meta-"));
  TY_RETURN_IF_ERROR(WriteAll(temp.fd(), text.data(), text.size(), temp.path()));
  // No fsync: a sidecar lost or torn by a power cut parses as missing or stale, and is rebuilt.
  TY_RETURN_IF_ERROR(temp.Close());
  TY_RETURN_IF_ERROR(MakeDirectories(path.parent_path()));
  if (::rename(temp.path().c_str(), path.c_str()) != 0) {
    return ErrnoStatus("cannot rename into", path);
  }
  temp.Keep();
  return Status::Ok();
}

}  // namespace trainyard::storage
