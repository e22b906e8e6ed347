#include "executor/container/registry_credentials.h"

#include <sys/stat.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/files.h"
#include "common/log.h"
#include "executor/container/image_puller.h"

namespace trainyard::executor {
namespace fs = std::filesystem;

namespace {

std::string HostOfReference(const std::string& reference) {
  return reference.substr(0, reference.find('/'));
}

}  // namespace

RegistryCredentials::RegistryCredentials(RegistryCredentialsOptions options)
    : options_(std::move(options)), token_file_(options_.directory / "config.json") {}

bool RegistryCredentials::UsesToken(const std::string& reference) const {
  return options_.ecr_tokens != nullptr && IsEcrReference(reference);
}

int RegistryCredentials::tokens_fetched() const {
  std::lock_guard lock(mutex_);
  return tokens_fetched_;
}

bool RegistryCredentials::DueForRenewal(const Registry& registry, TimePoint now) const {
  if (!registry.token) return true;
  // Renewed with min(margin, a quarter of its life) left: a 12-hour ECR token an hour before it
  // expires, a short one (a test's) in time too, so that a pull that starts with it ends first.
  auto life = registry.token->expires_at - registry.fetched_at;
  auto margin = std::min<TimePoint::duration>(options_.renew_margin, life / 4);
  return now >= registry.token->expires_at - margin;
}

Status RegistryCredentials::WriteTokenFile() {
  nlohmann::json document = nlohmann::json::object();
  if (!options_.user_auth_file.empty()) {
    // Read again each time: `podman login --authfile` may have changed it. Its contents are
    // credentials: nothing of them is quoted.
    auto text = ReadFile(options_.user_auth_file);
    if (!text.ok()) {
      return Internal("cannot read the auth file '" + options_.user_auth_file.string() +
                      "': " + text.status().message());
    }
    document = nlohmann::json::parse(*text, nullptr, false);
    if (!document.is_object()) {
      return Internal("the auth file '" + options_.user_auth_file.string() +
                      "' is no longer a JSON object");
    }
  }
  if (!document.contains("auths") || !document["auths"].is_object()) {
    document["auths"] = nlohmann::json::object();
  }
  for (const auto& [host, registry] : registries_) {
    if (registry.token) document["auths"][host] = {{"auth", registry.token->auth}};
  }
  std::error_code error;
  fs::create_directories(options_.directory, error);
  if (error) {
    return Internal("cannot make the directory '" + options_.directory.string() +
                    "' for the registry tokens: " + error.message());
  }
  // Only the server's user may enter it (the file itself is 0600 too).
  if (::chmod(options_.directory.c_str(), 0700) != 0) {
    return Internal("cannot make '" + options_.directory.string() + "' private");
  }
  return WritePrivateFileAtomic(token_file_, document.dump(2) + "\n");
}

Result<fs::path> RegistryCredentials::AuthFileFor(const std::string& reference) {
  if (!UsesToken(reference)) return options_.user_auth_file;
  const std::string host = HostOfReference(reference);
  std::unique_lock lock(mutex_);
  Registry& registry = registries_[host];
  // Another pull is fetching this registry's token: wait for it and share it.
  fetched_.wait(lock, [&] { return !registry.fetching; });
  if (DueForRenewal(registry, options_.clock())) {
    registry.fetching = true;
    lock.unlock();
    const TimePoint asked_at = options_.clock();
    Result<RegistryToken> token = options_.ecr_tokens->FetchToken(host);
    lock.lock();
    registry.fetching = false;
    fetched_.notify_all();
    ++tokens_fetched_;
    if (token.ok()) {
      registry.token = *token;
      registry.fetched_at = asked_at;
      Logger("executor")
          .info("registry={} image={} token fetched, expires={}", host, reference,
                FormatIso8601(token->expires_at));
    } else if (registry.token && options_.clock() < registry.token->expires_at) {
      // A renewal that failed while the token still works: pulled with it, as the SDKs keep
      // using credentials while their source is briefly down.
      Logger("executor")
          .warn("registry={} image={} token not renewed, the current one used: {}", host, reference,
                token.status().message());
    } else {
      Logger("executor")
          .warn("registry={} image={} token not fetched: {}", host, reference,
                token.status().message());
      return Status(token.status().code(),
                    "no token for " + host + ": " + token.status().message());
    }
  }
  // Written for every pull: the user's file may have changed since.
  Status written = WriteTokenFile();
  if (!written.ok()) {
    return Status(written.code(), "no auth file for " + host + ": " + written.message());
  }
  return token_file_;
}

}  // namespace trainyard::executor
