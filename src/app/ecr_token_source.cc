#include "app/ecr_token_source.h"

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

Result<executor::RegistryToken> EcrTokenSource::FetchToken(const std::string& host) {
  TY_ASSIGN_OR_RETURN(aws::EcrRegistry registry, aws::ParseEcrRegistryHost(host));
  auto answer = aws::GetEcrAuthorization(ClientFor(registry.region), registry.account);
  if (!answer.ok()) return answer.status();
  const aws::EcrAuthorization& authorization = *answer;
  return executor::RegistryToken{
      .auth = aws::Base64Encode(authorization.username + ":" + authorization.password),
      .expires_at = authorization.expires_at};
}

}  // namespace trainyard::app
