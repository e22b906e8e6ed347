// The SDKs' default chain and a cache over any provider.
#pragma once

#include <chrono>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "aws/credentials_provider.h"
#include "common/environment.h"

namespace trainyard::aws {

// Tries its providers in order; the first that yields credentials wins. A provider that answers
// NotFound ("not configured here") passes to the next; any other error stops the chain, as in the
// SDKs (a broken source must not silently give way to another identity). Thread-safe when every
// provider is.
class ChainProvider : public CredentialsProvider {
 public:
  // `name` labels each provider in the combined error.
  using NamedProvider = std::pair<std::string, CredentialsProviderPtr>;
  explicit ChainProvider(std::vector<NamedProvider> providers) : providers_(std::move(providers)) {}

  // When every provider answers NotFound: Unauthenticated "no AWS credentials found: name:
  // reason; ...". When one fails otherwise: that error's code, with its reason and the reasons of
  // the providers before it.
  Result<TimedCredentials> Fetch() override;

 private:
  std::vector<NamedProvider> providers_;
};

struct CachingProviderOptions {
  // Refresh credentials expiring within this margin (the SDKs use 5 to 15 minutes).
  std::chrono::seconds refresh_before{std::chrono::minutes(5)};
  Clock clock = [] { return std::chrono::system_clock::now(); };
};

// Returns the last credentials fetched until they come within `refresh_before` of their
// expiration (credentials without one are kept for good), then fetches again. When that refresh
// fails but the cached credentials have not expired yet, they are returned (as the SDKs keep
// using credentials while the source is briefly down); otherwise the error is. Thread-safe: one
// fetch at a time, callers wait for it.
class CachingProvider : public CredentialsProvider {
 public:
  explicit CachingProvider(CredentialsProviderPtr inner, CachingProviderOptions options = {})
      : inner_(std::move(inner)), options_(std::move(options)) {}

  Result<TimedCredentials> Fetch() override;

 private:
  CredentialsProviderPtr inner_;
  CachingProviderOptions options_;
  std::mutex mutex_;
  std::optional<TimedCredentials> cached_;
};

// CachingProvider over ChainProvider: environment, shared files, container, IMDS, the SDKs'
// order. Nothing is read until the first Fetch.
CredentialsProviderPtr MakeDefaultCredentialsChain(const EnvironmentMap& environment,
                                                   const std::filesystem::path& home,
                                                   CachingProviderOptions options = {});

}  // namespace trainyard::aws
