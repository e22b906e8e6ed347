// SecretMask: the server's own secrets (its API token, its S3 and AWS secret keys...), replaced
// by "****" wherever a job's log line or failure reason holds one, before it is stored. A job
// that printed one (read from a file, guessed, or once inherited) leaves no copy in the metadata
// store, the stored training.log or GetLogEvents.
//
// Values shorter than kMinSecretLength are no meaningful secrets and would mask common words;
// they are ignored. A secret is never logged by this class. A plain value: copy it freely.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/environment.h"
#include "common/status.h"

namespace trainyard {

inline constexpr size_t kMinSecretLength = 8;
inline constexpr std::string_view kSecretMaskText = "****";

class SecretMask {
 public:
  SecretMask() = default;
  // Values shorter than kMinSecretLength, or holding a line break, are dropped.
  explicit SecretMask(const std::vector<std::string>& secrets);

  // The values of the variables of `environment` whose name IsSecretName (common/environment.h),
  // plus `more` (secrets from flags or config files).
  static SecretMask FromEnvironment(const EnvironmentMap& environment,
                                    const std::vector<std::string>& more = {});

  bool empty() const { return secrets_.empty(); }
  size_t size() const { return secrets_.size(); }

  // `text` with every occurrence of a secret replaced by kSecretMaskText; a longer secret is
  // replaced before a shorter one it contains.
  std::string Apply(std::string_view text) const;
  // Masks the file in place, line by line (a secret never spans lines), through a temp file
  // renamed over it; a file with nothing to mask is left as it is. NotFound when it does not
  // exist; Internal when it cannot be read or written.
  Status ApplyToFile(const std::filesystem::path& file) const;

 private:
  std::vector<std::string> secrets_;  // longest first
};

}  // namespace trainyard
