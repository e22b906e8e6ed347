#include "aws/credentials_chain.h"

#include "aws/container_provider.h"
#include "aws/environment_provider.h"
#include "aws/imds_provider.h"
#include "aws/shared_files_provider.h"

namespace trainyard::aws {

Result<TimedCredentials> ChainProvider::Fetch() {
  std::string reasons;
  for (auto& [name, provider] : providers_) {
    auto result = provider->Fetch();
    if (result.ok()) return result;
    reasons += (reasons.empty() ? "" : "; ") + name + ": " + result.status().message();
    if (result.status().code() != StatusCode::kNotFound) {
      return Status(result.status().code(), "AWS credentials from " + name + " failed: " + reasons);
    }
  }
  return Status(StatusCode::kUnauthenticated, "no AWS credentials found: " + reasons);
}

Result<TimedCredentials> CachingProvider::Fetch() {
  std::lock_guard lock(mutex_);
  TimePoint now = options_.clock();
  if (cached_ && (!cached_->expiration || *cached_->expiration - now > options_.refresh_before)) {
    return *cached_;
  }
  auto fetched = inner_->Fetch();
  if (fetched.ok()) {
    cached_ = *fetched;
    return fetched;
  }
  if (cached_ && *cached_->expiration > now) return *cached_;
  cached_.reset();
  return fetched;
}

CredentialsProviderPtr MakeDefaultCredentialsChain(const EnvironmentMap& environment,
                                                   const std::filesystem::path& home,
                                                   CachingProviderOptions options) {
  std::vector<ChainProvider::NamedProvider> providers;
  providers.emplace_back("environment", std::make_unique<EnvironmentProvider>(environment));
  providers.emplace_back("shared files", std::make_unique<SharedFilesProvider>(environment, home));
  providers.emplace_back("container", std::make_unique<ContainerProvider>(environment));
  providers.emplace_back("imds", std::make_unique<ImdsProvider>(environment));
  return std::make_unique<CachingProvider>(std::make_unique<ChainProvider>(std::move(providers)),
                                           std::move(options));
}

}  // namespace trainyard::aws
