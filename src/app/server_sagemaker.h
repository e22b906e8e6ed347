// The server's SageMaker pieces, built from its sagemaker_* settings: the sagemaker executor
// (docs/sagemaker.md) and the SageMaker-compatible endpoint (docs/sagemaker-endpoint.md).
#pragma once

#include <filesystem>
#include <memory>

#include "app/server_options.h"
#include "common/environment.h"
#include "executor/local/local_executor.h"
#include "executor/sagemaker/sagemaker_executor.h"
#include "server/http/http_server.h"
#include "server/s3/s3_credentials.h"
#include "server/sagemaker/sagemaker_api.h"

namespace trainyard::app {

// The executor when settings.role_arn is set; null when it is not. Endpoints and region follow
// the AWS SDKs' variables (AWS_ENDPOINT_URL_SAGEMAKER, AWS_ENDPOINT_URL_CLOUDWATCH_LOGS,
// AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL; AWS_REGION, ...) where the settings say nothing;
// credentials come from the SDKs' default chain. InvalidArgument naming the setting.
Result<std::unique_ptr<executor::SageMakerExecutor>> MakeSageMakerExecutor(
    const SageMakerSettings& settings, const std::filesystem::path& work_dir,
    const EnvironmentMap& environment);

// The SageMaker-compatible endpoint on its own listener, over the S3 endpoint's store and keys.
// Its jobs run on a local executor of their own (detached, in <data_dir>/sagemaker-jobs, so that
// they outlive a server restart as the REST API's local jobs do), or on the container executor
// (settings.endpoint_executor "container", which needs --container-runtime).
class SageMakerEndpoint {
 public:
  // `container` may be null; `local` is the server's local executor configuration, whose
  // work_dir is replaced.
  static Result<std::unique_ptr<SageMakerEndpoint>> Start(const ServerOptions& options,
                                                          storage::ObjectStore& objects,
                                                          const server::S3KeyPair& keys,
                                                          executor::LocalExecutorOptions local,
                                                          executor::Executor* container);
  ~SageMakerEndpoint();  // stops listening and following; running jobs go on
  uint16_t port() const { return http_->port(); }

 private:
  SageMakerEndpoint() = default;
  std::unique_ptr<executor::LocalExecutor> local_;
  std::unique_ptr<server::SageMakerApi> api_;
  std::unique_ptr<server::HttpServer> http_;
};

}  // namespace trainyard::app
