// The S3 endpoint's key pair when none is configured: generated at the first start and kept in
// a file (`trainyard server` uses <data-dir>/s3-credentials.json, mode 0600), so that the
// endpoint is never unauthenticated and clients keep working across restarts. Thread-safe
// (no state); the secret is never logged.
#pragma once

#include <filesystem>
#include <string>

#include "common/status.h"

namespace trainyard::server {

struct S3KeyPair {
  std::string access_key_id;      // 20 characters, "TY" + 18 of A-Z0-9
  std::string secret_access_key;  // 40 characters of A-Za-z0-9
};

// A fresh random key pair.
S3KeyPair GenerateS3KeyPair();

// Reads {"access_key_id": ..., "secret_access_key": ...} from `file`; when it does not exist,
// generates a pair and writes it there with mode 0600 (*created set). InvalidArgument naming the
// file when it exists but is not such a document; Internal when it cannot be written.
Result<S3KeyPair> LoadOrCreateS3KeyPair(const std::filesystem::path& file, bool* created);

}  // namespace trainyard::server
