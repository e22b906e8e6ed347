// RegistryCredentials: the auth file a container runtime pulls an image with. For most images it
// is the user's (--container-auth-file, or none: the runtime's default). For an image of the ECR
// form (ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY, pulled as given), it is a file of the
// server's own that holds the user's entries plus a token for that registry, fetched from a
// RegistryTokenSource (ECR's GetAuthorizationToken through the AWS credentials chain: app's
// EcrTokenSource) and fetched again before it expires.
//
// The file is `<directory>/config.json` (a name docker reads through DOCKER_CONFIG too; podman
// through REGISTRY_AUTH_FILE), in a directory only the server's user may enter (0700), the file
// itself 0600 from its first byte, replaced atomically (a pull reading it never sees half of it).
// Tokens are never logged and never on a command line.
//
// A token is renewed when less than min(renew_margin, a quarter of its life) is left, so that a
// pull that starts with it ends before it expires. One fetch at a time per registry: concurrent
// pulls of one registry's images wait for the one fetch and share its token.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/status.h"
#include "common/time_format.h"

namespace trainyard::executor {

// What a registry's entry in an auth file holds: the base64 of "USER:PASSWORD", as `podman
// login` writes it ("auth"), and when it stops working.
struct RegistryToken {
  std::string auth;  // a secret: never logged
  TimePoint expires_at;
};

// Where tokens come from. Implementations are thread-safe.
class RegistryTokenSource {
 public:
  virtual ~RegistryTokenSource() = default;
  // A fresh token for the registry `host` ("123456789012.dkr.ecr.eu-west-1.amazonaws.com").
  // Errors name the cause and never a secret: Unauthenticated (no credentials to ask with),
  // PermissionDenied (refused), Unavailable (not reachable), others as they come.
  virtual Result<RegistryToken> FetchToken(const std::string& host) = 0;
};

struct RegistryCredentialsOptions {
  // The user's auth file (--container-auth-file); empty: none. Its entries are copied into the
  // file with tokens, read again each time that file is written.
  std::filesystem::path user_auth_file;
  // Where the file with tokens is written (<directory>/config.json); created 0700.
  std::filesystem::path directory;
  // Tokens for ECR-form registries; null: ECR-form images are pulled with the user's file.
  std::shared_ptr<RegistryTokenSource> ecr_tokens;
  // A token is renewed when less than min(renew_margin, a quarter of its life) is left.
  std::chrono::seconds renew_margin{std::chrono::hours(1)};
  std::function<TimePoint()> clock = [] { return std::chrono::system_clock::now(); };
};

class RegistryCredentials {
 public:
  explicit RegistryCredentials(RegistryCredentialsOptions options);

  // The auth file to pull `reference` with: for an ECR-form reference with a token source, the
  // file with tokens, its registry's token fetched first when there is none or it is due for
  // renewal; otherwise the user's file (empty: the runtime's default). Errors: the token
  // source's code, its message prefixed with "no token for HOST: " (never a secret); Internal
  // when the file cannot be written.
  Result<std::filesystem::path> AuthFileFor(const std::string& reference);

  // Whether `reference` would be pulled with a fetched token.
  bool UsesToken(const std::string& reference) const;

  // How many fetches were made, failed ones included (for tests).
  int tokens_fetched() const;

  const std::filesystem::path& token_file() const { return token_file_; }

 private:
  struct Registry {
    bool fetching = false;
    std::optional<RegistryToken> token;
    TimePoint fetched_at;
  };
  bool DueForRenewal(const Registry& registry, TimePoint now) const;
  // Writes the user's entries plus every token held; with mutex_ held.
  Status WriteTokenFile();

  RegistryCredentialsOptions options_;
  std::filesystem::path token_file_;
  mutable std::mutex mutex_;
  std::condition_variable fetched_;
  std::map<std::string, Registry> registries_;  // by host
  int tokens_fetched_ = 0;
};

}  // namespace trainyard::executor
