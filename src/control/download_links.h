// Download links that need no API token: a job's artifact (model, predictions, log, ...) at
//   /api/v1/jobs/<job>/artifacts/<artifact>?expires=<unix seconds>&signature=<hex>
// where the signature is HMAC-SHA256 of "<job>\n<artifact>\n<expires>" with the server's link
// key (kept in <data_dir>/link-signing.key, mode 0600). Whoever holds the link may download that
// one artifact until it expires; webhooks hand such links to their receivers (docs/webhooks.md).
//
// Thread-safe: the signer is immutable once made.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "common/status.h"
#include "common/time_format.h"

namespace trainyard::control {

class DownloadLinkSigner {
 public:
  // `key`: the raw secret (at least 32 bytes in use).
  explicit DownloadLinkSigner(std::string key) : key_(std::move(key)) {}

  // The query string ("expires=...&signature=...") that lets `artifact` of `job` be read until
  // `expires`.
  std::string SignQuery(const std::string& job, const std::string& artifact,
                        TimePoint expires) const;
  // Ok when `signature` (hex) signs exactly this job, artifact and `expires` (unix seconds as
  // text) and `now` is not past it; compared in constant time. PermissionDenied naming why
  // otherwise ("the link expired at ...", "the link's signature is not valid").
  Status Check(const std::string& job, const std::string& artifact, const std::string& expires,
               const std::string& signature, TimePoint now) const;

 private:
  std::string Signature(const std::string& job, const std::string& artifact,
                        const std::string& expires) const;
  std::string key_;
};

// Reads the link key from `file`, or makes a random one and writes it there (mode 0600) when the
// file does not exist. InvalidArgument when the file holds something that is not a key.
Result<std::string> LoadOrCreateLinkKey(const std::filesystem::path& file);

}  // namespace trainyard::control
