#include "app/ecr_token_source.h"

#include <cctype>

#include "aws/credentials_chain.h"
#include "aws/crypto.h"
#include "aws/ecr_authorization.h"

namespace trainyard::app {

EcrTokenSourceOptions EcrTokenSourceOptionsFrom(const std::string& endpoint_setting,
                                                const EnvironmentMap& environment) {
  EcrTokenSourceOptions options;
  options.endpoint = endpoint_setting;
  for (const char* variable : {"AWS_ENDPOINT_URL_ECR", "AWS_ENDPOINT_URL"}) {
    if (!options.endpoint.empty()) break;
    auto it = environment.find(variable);
    if (it != environment.end()) options.endpoint = it->second;
  }
  auto home = environment.find("HOME");
  options.credentials = aws::MakeDefaultCredentialsChain(
      environment,
      home == environment.end() ? std::filesystem::path() : std::filesystem::path(home->second));
  return options;
}

aws::JsonServiceClient& EcrTokenSource::ClientFor(const std::string& region) {
  std::lock_guard lock(mutex_);
  std::unique_ptr<aws::JsonServiceClient>& client = clients_[region];
  if (!client) {
    aws::JsonServiceOptions service =
        aws::EcrServiceOptions(region, options_.endpoint, options_.credentials);
    service.max_attempts = options_.max_attempts;
    service.retry_base_delay = options_.retry_base_delay;
    service.connect_timeout = options_.connect_timeout;
    service.total_timeout = options_.total_timeout;
    client = std::make_unique<aws::JsonServiceClient>(std::move(service));
  }
  return *client;
}

namespace {

// AWS's signature errors (InvalidSignatureException) quote the canonical request they expected,
// headers and all, the session token among them: that part never goes further.
Status WithoutQuotedRequest(const Status& status) {
  const std::string& message = status.message();
  size_t quote = message.find("The Canonical String");
  if (quote == std::string::npos) return status;
  std::string kept = message.substr(0, quote);
  while (!kept.empty() && std::isspace(static_cast<unsigned char>(kept.back()))) kept.pop_back();
  return Status(status.code(), kept + " (AWS's quote of the signed request left out)");
}

}  // namespace

Result<executor::RegistryToken> EcrTokenSource::FetchToken(const std::string& host) {
  TY_ASSIGN_OR_RETURN(aws::EcrRegistry registry, aws::ParseEcrRegistryHost(host));
  auto answer = aws::GetEcrAuthorization(ClientFor(registry.region), registry.account);
  if (!answer.ok()) return WithoutQuotedRequest(answer.status());
  const aws::EcrAuthorization& authorization = *answer;
  return executor::RegistryToken{
      .auth = aws::Base64Encode(authorization.username + ":" + authorization.password),
      .expires_at = authorization.expires_at};
}

}  // namespace trainyard::app
