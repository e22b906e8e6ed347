#include "app/server_command.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <thread>

#include "app/executor_registry.h"
#include "app/kill_at_step.h"
#include "app/object_store_staging.h"
#include "app/server_executors.h"
#include "app/server_sagemaker.h"
#include "app/server_webhooks.h"
#include "common/environment.h"
#include "common/file_lock.h"
#include "common/files.h"
#include "common/log.h"
#include "common/secret_mask.h"
#include "control/job_tokens.h"
#include "control/scheduler.h"
#include "metadata/buffered_progress_store.h"
#include "metadata/metadata_store.h"
#include "metadata/postgres_metadata_store.h"
#include "server/api/api_server.h"
#include "server/api/event_hub.h"
#include "server/api/openapi_document.h"
#include "server/http/http_server.h"
#include "server/s3/s3_api.h"
#include "server/s3/s3_credentials.h"
#include "server/sagemaker/channel_staging.h"
#include "storage/url_presigner.h"

namespace trainyard::app {
namespace fs = std::filesystem;

namespace {

// The command's error line on stderr, and its exit code.
int ServerFailure(const Status& status) {
  return ReportFailure("trainyard server", status);
}

constexpr char kVersion[] = "0.1.0";

// The built web UI: build/web for build/apps/trainyard (docs/web-ui.md).
fs::path WebDirBesideSelf() {
  std::error_code error;
  return fs::read_symlink("/proc/self/exe", error).parent_path().parent_path() / "web";
}

// The API token's hash lives in the data dir; the token itself is shown once, when made (and
// then put in *generated, to be masked in jobs' logs while this process runs).
Result<std::vector<std::string>> ApiTokenHashes(const ServerOptions& options,
                                                std::string* generated) {
  if (options.no_auth) return std::vector<std::string>{};
  if (!options.token.empty()) return std::vector<std::string>{control::TokenSha256(options.token)};
  fs::path hash_file = options.data_dir / "api-token.sha256";
  if (auto stored = ReadFile(hash_file); stored.ok()) {
    std::string hash = *stored;
    while (!hash.empty() && (hash.back() == '\n' || hash.back() == ' ')) hash.pop_back();
    if (hash.size() != 64) return InvalidArgument("'" + hash_file.string() + "' is not a SHA-256");
    return std::vector<std::string>{hash};
  }
  std::string token = control::NewJobToken();
  TY_RETURN_IF_ERROR(WriteFileAtomic(hash_file, control::TokenSha256(token) + "\n"));
  std::printf(
      "trainyard server: generated the API token (shown only this once; only its hash is kept "
      "in %s):\n\n  export TRAINYARD_TOKEN=%s\n\n",
      hash_file.c_str(), token.c_str());
  *generated = token;
  return std::vector<std::string>{control::TokenSha256(token)};
}

// The key pair of the AWS-compatible endpoints (S3, SageMaker). They always check signatures:
// without a configured pair, one is generated at the first start and kept in the data dir (mode
// 0600), so no address ever gets an open endpoint.
Result<server::S3KeyPair> EndpointKeys(const ServerOptions& options) {
  server::S3KeyPair keys{options.s3_access_key_id, options.s3_secret_access_key};
  if (!keys.access_key_id.empty()) return keys;
  fs::path file = options.data_dir / "s3-credentials.json";
  bool created = false;
  TY_ASSIGN_OR_RETURN(keys, server::LoadOrCreateS3KeyPair(file, &created));
  if (created) {
    std::printf(
        "trainyard server: generated the S3 key pair (printed only this once; kept in %s, "
        "mode 0600):\n\n  export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s\n\n",
        file.c_str(), keys.access_key_id.c_str(), keys.secret_access_key.c_str());
  }
  return keys;
}

// The S3 endpoint's read-only view of the datasets, through which a job in object-store staging
// fetches a dataset where it lies (docs/slurm.md). Its key pair is the server's alone, never
// given to a client (only URLs it presigns are), kept in the data dir (mode 0600) so that the
// URLs of jobs still queued stay valid across a restart.
Result<server::S3ReadOnlyView> DatasetsView(const ServerOptions& options) {
  bool created = false;
  TY_ASSIGN_OR_RETURN(server::S3KeyPair keys,
                      server::LoadOrCreateS3KeyPair(
                          options.data_dir / "s3-datasets-view-credentials.json", &created));
  if (created) Logger("app").info("S3 endpoint's datasets view: key pair generated");
  return server::S3ReadOnlyView{.access_key_id = keys.access_key_id,
                                .secret_access_key = keys.secret_access_key};
}

// The S3 endpoint (docs/s3.md) on its own listener, over the same object store.
Result<std::unique_ptr<server::HttpServer>> StartS3Endpoint(
    const ServerOptions& options, storage::ObjectStore& objects, const server::S3KeyPair& keys,
    const std::optional<server::S3ReadOnlyView>& datasets_view,
    std::unique_ptr<server::S3Api>& api) {
  server::S3ApiOptions s3;
  s3.objects = &objects;
  s3.secret_by_access_key_id = {{keys.access_key_id, keys.secret_access_key}};
  s3.read_only_view = datasets_view;
  api = std::make_unique<server::S3Api>(std::move(s3));
  server::HttpServerOptions http =
      ListenerOptions(options.http, options.s3_host, options.s3_port, "s3");
  http.error_document = server::S3ConnectionErrorDocument;
  server::S3Api* handler = api.get();
  return server::HttpServer::Start(
      http,
      [handler](const server::HttpRequest& request, server::BodyReader& body,
                server::ResponseWriter& response) { handler->Handle(request, body, response); });
}

// Each connection takes a descriptor: the soft limit (often 1,024) goes up to the hard one, so
// that max_connections are reachable before accept fails with EMFILE.
void RaiseOpenFileLimit(const ServerOptions& options) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    Logger("app").warn("open file limit unknown: getrlimit: {}", std::strerror(errno));
    return;
  }
  if (limit.rlim_cur < limit.rlim_max) {
    rlim_t before = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
      Logger("app").warn("open file limit stays {}: setrlimit to {}: {}", before, limit.rlim_max,
                         std::strerror(errno));
      getrlimit(RLIMIT_NOFILE, &limit);
    }
  }
  Logger("app").info("open file limit={} (hard limit {}); http_max_connections={} per listener",
                     limit.rlim_cur, limit.rlim_max, options.http.max_connections);
  if (limit.rlim_cur != RLIM_INFINITY &&
      limit.rlim_cur < static_cast<rlim_t>(options.http.max_connections) + 256) {
    Logger("app").warn(
        "open file limit {} is below http_max_connections {}: connections beyond the limit "
        "wait until others close (raise the hard limit: ulimit -Hn, LimitNOFILE=)",
        limit.rlim_cur, options.http.max_connections);
  }
}

// This machine's name, for the default replica id; "localhost" when it has none.
std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

std::string UrlHost(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

// Object-store staging (docs/slurm.md, docs/container.md): through the object store's own
// presigned URLs where it mints them (an s3:// store, with its credentials; `endpoint`, where set,
// is its address as the jobs reach it), else through the S3 endpoint: its key pair, and its URL
// as the jobs reach it: `endpoint`, else http://<s3_listen>, where a wildcard address is reached
// on loopback by a job on this host (`same_host`: the container executor's) and refused for one
// elsewhere. Each job's objects under <jobs_prefix><job>/ of the staging bucket (or of the
// store's staging/), each checkpoint under <checkpoints_prefix><name>/.
Result<std::shared_ptr<executor::JobStaging>> ObjectStaging(
    const ServerOptions& options, storage::ObjectStore& objects,
    const std::optional<server::S3KeyPair>& keys,
    const std::optional<server::S3ReadOnlyView>& datasets_view, std::string endpoint,
    bool same_host, const std::string& jobs_prefix, const std::string& checkpoints_prefix) {
  if (storage::UrlPresigner* presigner = storage::PresignerOf(objects)) {
    // A bad endpoint, or credentials that cannot be had, stop the server now, not each job.
    auto probe =
        presigner->PresignedUrl("staging/probe", "GET", std::chrono::seconds(60), endpoint);
    if (!probe.ok()) return probe.status().WithContext("presigning with the object store's own");
    Logger("app").info("staging=object-store through the object store's own URLs prefix={}{}{}",
                       jobs_prefix, endpoint.empty() ? "" : " endpoint=", endpoint);
    return std::shared_ptr<executor::JobStaging>(std::make_shared<ObjectStoreStaging>(
        ObjectStoreStagingOptions{.signer = ObjectStoreStagingOptions::Signer::kStore,
                                  .objects = &objects,
                                  .endpoint_url = endpoint,
                                  .jobs_prefix = jobs_prefix,
                                  .checkpoints_prefix = checkpoints_prefix}));
  }
  if (options.s3_host.empty() || !keys) {
    return FailedPrecondition(
        "needs an object store that presigns URLs (--objects s3://...; docs/object-stores.md) "
        "or the S3 endpoint (--s3-listen HOST:PORT; docs/s3.md), through which the jobs fetch "
        "the input and store the outputs");
  }
  if (endpoint.empty()) {
    std::string host = UrlHost(options.s3_host);
    const bool wildcard = host == "0.0.0.0" || host == "[::]";
    if (wildcard && same_host) host = "127.0.0.1";
    if (options.s3_port == 0 || (wildcard && !same_host)) {
      return InvalidArgument(
          "slurm_staging_endpoint: needed when --s3-listen names no host the nodes can reach or "
          "no fixed port (" +
          options.s3_host + ":" + std::to_string(options.s3_port) + ")");
    }
    endpoint = "http://" + host + ":" + std::to_string(options.s3_port);
  }
  Logger("app").info("staging=object-store endpoint={} bucket={} prefix={}", endpoint,
                     options.slurm.staging_bucket, jobs_prefix);
  return std::shared_ptr<executor::JobStaging>(std::make_shared<ObjectStoreStaging>(
      ObjectStoreStagingOptions{.objects = &objects,
                                .endpoint_url = endpoint,
                                .bucket = options.slurm.staging_bucket,
                                .credentials = {keys->access_key_id, keys->secret_access_key, ""},
                                .datasets_view = datasets_view,
                                .jobs_prefix = jobs_prefix,
                                .checkpoints_prefix = checkpoints_prefix}));
}

// Gives the executors in object-store staging a staging of their own under `jobs_prefix` and
// `checkpoints_prefix` (the container executor's under container-<prefix>), and the local
// executor its checkpoints under local-<checkpoints_prefix> of a store shared by servers: the REST
// API's jobs and the SageMaker endpoint's, and each executor's, stage their files and keep their
// checkpoints apart.
Status SetObjectStaging(const ServerOptions& options, storage::ObjectStore& objects,
                        const std::optional<server::S3KeyPair>& keys,
                        const std::optional<server::S3ReadOnlyView>& datasets_view,
                        const std::string& jobs_prefix, const std::string& checkpoints_prefix,
                        ExecutorSettings& settings) {
  if (settings.slurm && settings.slurm->executor.staging == executor::StagingMode::kObjectStore) {
    auto staging =
        ObjectStaging(options, objects, keys, datasets_view, options.slurm.staging_endpoint,
                      /*same_host=*/false, jobs_prefix, checkpoints_prefix);
    if (!staging.ok()) return staging.status().WithContext("slurm_staging object-store");
    settings.slurm->executor.job_staging = std::move(staging).value();
  }
  if (settings.container && settings.container->staging == executor::StagingMode::kObjectStore) {
    auto staging = ObjectStaging(options, objects, keys, datasets_view, "", /*same_host=*/true,
                                 "container-" + jobs_prefix, "container-" + checkpoints_prefix);
    if (!staging.ok()) return staging.status().WithContext("container_staging object-store");
    settings.container->job_staging = std::move(staging).value();
  }
  // The checkpoints of the executors whose jobs mount this machine's disk (local, container in
  // shared mode) in a store that presigns its own URLs (an s3:// store, which the servers sharing
  // a database share too), so that a retry that another server runs restores them
  // (docs/checkpoints.md). A file:// store mints none: they stay in the data dir. The container
  // executor's are where its object-store staging keeps them.
  if (storage::PresignerOf(objects) == nullptr) return Status::Ok();
  auto presigner = [&](const std::string& executor) {
    Logger("app").info("{} executor: checkpoints in the object store under staging/{}-{}", executor,
                       executor, checkpoints_prefix);
    return std::make_shared<ObjectStoreStaging>(
        ObjectStoreStagingOptions{.signer = ObjectStoreStagingOptions::Signer::kStore,
                                  .objects = &objects,
                                  .jobs_prefix = executor + "-" + jobs_prefix,
                                  .checkpoints_prefix = executor + "-" + checkpoints_prefix});
  };
  settings.local.checkpoint_presigner = presigner("local");
  if (settings.container && settings.container->staging == executor::StagingMode::kShared) {
    settings.container->checkpoint_presigner = presigner("container");
  }
  return Status::Ok();
}

int Serve(ServerOptions options) {
  // Block the stop signals in every thread; the main thread waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGUSR1);  // drain: claim no more jobs (docs/scale-out.md)
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  RaiseOpenFileLimit(options);

  std::error_code error;
  fs::create_directories(options.data_dir, error);
  options.data_dir = fs::absolute(options.data_dir);
  // One server per data dir: a second one would take the same queued jobs and run them twice.
  auto data_dir_lock =
      FileLock::Acquire(options.data_dir / "server.lock", /*create=*/true,
                        "another trainyard server is using the data dir '" +
                            options.data_dir.string() + "'; stop it, or give --data-dir another");
  if (!data_dir_lock.ok()) return ServerFailure(data_dir_lock.status());
  for (const char* sub : {"uploads", "work", "jobs"}) {
    if (Status made = MakeDirectories(options.data_dir / sub); !made.ok())
      return ServerFailure(made);
  }
  // The default store lies in the data dir, which this server alone uses (the lock above): every
  // temp file in it is a Put that a killed server left half done.
  const bool objects_in_data_dir = options.objects.empty();
  if (objects_in_data_dir) options.objects = "file://" + (options.data_dir / "objects").string();
  if (options.metadata.empty()) {
    options.metadata = "sqlite://" + (options.data_dir / "trainyard.db").string();
  }
  std::string generated_token;
  auto tokens = ApiTokenHashes(options, &generated_token);
  if (!tokens.ok()) return ServerFailure(tokens.status());
  // The key pair of the S3 and SageMaker endpoints, when either is on.
  std::optional<server::S3KeyPair> endpoint_keys;
  if (!options.s3_host.empty() || !options.sagemaker.listen_host.empty()) {
    auto keys = EndpointKeys(options);
    if (!keys.ok()) return ServerFailure(keys.status().WithContext("endpoint keys"));
    endpoint_keys = *keys;
  }
  std::optional<server::S3ReadOnlyView> datasets_view;
  if (!options.s3_host.empty()) {
    auto view = DatasetsView(options);
    if (!view.ok()) return ServerFailure(view.status().WithContext("S3 endpoint's datasets view"));
    datasets_view = *view;
  }

  // A PostgreSQL URL's password is one of the server's secrets.
  std::string metadata_password;
  if (auto url = metadata::ParsePostgresUrl(options.metadata); url.ok()) {
    metadata_password = url->password;
  }
  const EnvironmentMap environment = ParseEnvironment(environ);
  // What jobs must never show: the secrets of this server's environment (TRAINYARD_TOKEN,
  // TRAINYARD_S3_SECRET_ACCESS_KEY, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN...) and those it
  // was configured with. Jobs never get them (server_executors.h); one that finds one anyway
  // has it masked in what is stored of its log and failure (docs/security.md).
  const SecretMask secret_mask = SecretMask::FromEnvironment(
      environment,
      {options.token, options.s3_secret_access_key, generated_token,
       endpoint_keys ? endpoint_keys->secret_access_key : std::string(),
       datasets_view ? datasets_view->secret_access_key : std::string(), metadata_password});
  auto opened_metadata = metadata::OpenMetadataStore(options.metadata);
  if (!opened_metadata.ok()) return ServerFailure(opened_metadata.status().WithContext("metadata"));
  // The jobs' progress reports are written behind, in batches, and announced to the event hub
  // once written (metadata/buffered_progress_store.h); the hub is set before the API takes a
  // report, and cleared before it stops.
  std::atomic<server::EventHub*> progress_announced_to{nullptr};
  auto metadata = std::make_unique<metadata::BufferedProgressStore>(
      std::move(opened_metadata).value(),
      metadata::BufferedProgressOptions{.on_written = [&progress_announced_to] {
        if (server::EventHub* hub = progress_announced_to.load()) hub->Notify();
      }});
  auto objects = storage::OpenObjectStore(options.objects, environment, objects_in_data_dir);
  if (!objects.ok()) return ServerFailure(objects.status().WithContext("objects"));

  const StepHook kill_at_step = KillAtStep(environment, "trainyard server");
  auto executor_settings = ServerExecutorSettings(options, environment, kill_at_step);
  if (!executor_settings.ok()) return ServerFailure(executor_settings.status());
  if (Status staged = SetObjectStaging(options, **objects, endpoint_keys, datasets_view, "jobs/",
                                       "checkpoints/", *executor_settings);
      !staged.ok()) {
    return ServerFailure(staged);
  }
  // Before the scheduler's Start: its recovery asks the executors about every running job.
  auto opened = OpenConfiguredExecutors(*executor_settings);
  if (!opened.ok()) return ServerFailure(opened.status());
  const std::map<std::string, executor::ExecutorPtr> owned_executors = std::move(opened).value();
  std::map<std::string, executor::Executor*> executors;
  std::string executor_names;
  for (const auto& [name, executor] : owned_executors) {
    executors[name] = executor.get();
    executor_names += (executor_names.empty() ? "" : ", ") + name;
  }
  std::printf("trainyard server: executors: %s\n", executor_names.c_str());

  server::HttpServerOptions http = ListenerOptions(options.http, options.host, options.port, "api");
  // Bind first: the callback URL of the jobs needs the real port when the given one is 0.
  std::unique_ptr<server::EventHub> hub;
  std::unique_ptr<control::Scheduler> scheduler;
  std::unique_ptr<server::ApiServer> api;
  server::ApiServer* api_pointer = nullptr;
  auto started = server::HttpServer::Start(
      http, [&api_pointer](const server::HttpRequest& request, server::BodyReader& body,
                           server::ResponseWriter& response) {
        if (api_pointer == nullptr) {
          response.SetStatus(503);
          return;
        }
        api_pointer->Handle(request, body, response);
      });
  if (!started.ok()) return ServerFailure(started.status());
  std::unique_ptr<server::HttpServer> http_server = std::move(started).value();
  std::string url_host = UrlHost(options.host);
  if (url_host == "0.0.0.0" || url_host == "[::]") url_host = "127.0.0.1";
  std::string base_url = "http://" + url_host + ":" + std::to_string(http_server->port());

  // Servers sharing a PostgreSQL store write events this one is not told of: its hub reads the
  // store's event log at every poll too (docs/scale-out.md).
  const bool shared_store = metadata::ParsePostgresUrl(options.metadata).ok();
  hub = std::make_unique<server::EventHub>(
      *metadata, std::chrono::seconds(15), server::EventQueue::kDefaultMaxBytes,
      shared_store ? std::chrono::milliseconds(200) : std::chrono::milliseconds(0));
  control::SchedulerOptions scheduling;
  scheduling.work_dir = options.data_dir / "work";
  scheduling.max_running = options.max_running;
  scheduling.max_running_per_executor = options.executor_limits;
  scheduling.callback_base_url = options.public_url.empty() ? base_url : options.public_url;
  // Job ends wake the webhook dispatcher at once rather than at its next poll.
  std::atomic<notify::WebhookDispatcher*> webhook_dispatcher{nullptr};  // set once started
  scheduling.on_events = [&hub, &webhook_dispatcher] {
    hub->Notify();
    if (notify::WebhookDispatcher* dispatcher = webhook_dispatcher.load()) dispatcher->Wake();
  };
  scheduling.on_step = kill_at_step;
  scheduling.secret_mask = secret_mask;
  // With the S3 endpoint on, a REST job's sagemaker_submit_directory (s3://bucket/key) is an
  // object of its buckets, in the same store: the job's code is unpacked into /opt/ml/code.
  if (!options.s3_host.empty())
    scheduling.submit_directory_key = server::sagemaker::SubmitDirectoryKey;
  scheduling.owner_id = options.replica_id.empty() ? HostName() + ":" + options.data_dir.string()
                                                   : options.replica_id;
  scheduling.lease_duration = std::chrono::seconds(options.lease_seconds);
  // Replicas sharing the store take turns at freed slots rather than the one whose job freed it.
  scheduling.spread_claims = shared_store;
  Logger("app").info("replica_id={} lease_seconds={}", scheduling.owner_id, options.lease_seconds);
  scheduler = std::make_unique<control::Scheduler>(scheduling, *metadata, **objects, executors);
  if (Status ok = hub->Start(); !ok.ok()) return ServerFailure(ok);
  if (Status ok = scheduler->Start(); !ok.ok()) return ServerFailure(ok);
  auto webhooks = StartWebhooks(options, *metadata, scheduling.callback_base_url);
  if (!webhooks.ok()) return ServerFailure(webhooks.status().WithContext("webhooks"));
  webhook_dispatcher = webhooks->dispatcher.get();

  server::ApiServerOptions api_options;
  api_options.token_sha256s = *tokens;
  api_options.upload_temp_dir = options.data_dir / "uploads";
  api_options.openapi_json = server::OpenApiDocument();
  api_options.version = kVersion;
  api_options.web_dir = options.web_dir.empty() ? WebDirBesideSelf() : options.web_dir;
  api_options.secret_mask = secret_mask;
  api_options.link_signer = webhooks->link_signer;
  api_options.webhook_allow_private = options.webhook.allow_private;
  api_options.webhook_retry_window = std::chrono::hours(options.webhook.retry_hours);
  api_options.wake_webhooks = [dispatcher = webhooks->dispatcher.get()] { dispatcher->Wake(); };
  api = std::make_unique<server::ApiServer>(api_options, *metadata, **objects, *scheduler, *hub);

  std::unique_ptr<server::S3Api> s3_api;
  std::unique_ptr<server::HttpServer> s3_server;
  std::unique_ptr<SageMakerEndpoint> sagemaker_endpoint;
  if (endpoint_keys) {
    const server::S3KeyPair* keys = &*endpoint_keys;
    if (!options.s3_host.empty()) {
      auto s3_started = StartS3Endpoint(options, **objects, *keys, datasets_view, s3_api);
      if (!s3_started.ok()) return ServerFailure(s3_started.status().WithContext("S3 endpoint"));
      s3_server = std::move(s3_started).value();
      std::printf("trainyard server: S3 endpoint listening on http://%s:%d (docs/s3.md)\n",
                  UrlHost(options.s3_host).c_str(), static_cast<int>(s3_server->port()));
    }
    if (!options.sagemaker.listen_host.empty()) {
      // The endpoint's jobs stage their files apart from the REST API's.
      ExecutorSettings endpoint_executors = *executor_settings;
      if (Status staged =
              SetObjectStaging(options, **objects, endpoint_keys, datasets_view, "sagemaker-jobs/",
                               "sagemaker-checkpoints/", endpoint_executors);
          !staged.ok()) {
        return ServerFailure(staged.WithContext("SageMaker endpoint"));
      }
      // Its jobs reach the S3 endpoint where the staging's nodes do, else on this machine.
      std::string jobs_s3_url = options.slurm.staging_endpoint;
      if (jobs_s3_url.empty() && s3_server) {
        const std::string host = UrlHost(options.s3_host);
        jobs_s3_url = "http://" +
                      (host == "0.0.0.0" || host == "[::]" ? std::string("127.0.0.1") : host) +
                      ":" + std::to_string(s3_server->port());
      }
      auto started_endpoint =
          SageMakerEndpoint::Start(options, **objects, *keys, endpoint_executors, kill_at_step,
                                   secret_mask, scheduling.owner_id, jobs_s3_url);
      if (!started_endpoint.ok())
        return ServerFailure(started_endpoint.status().WithContext("SageMaker endpoint"));
      sagemaker_endpoint = std::move(started_endpoint).value();
      std::printf(
          "trainyard server: SageMaker endpoint listening on http://%s:%d "
          "(docs/sagemaker-endpoint.md)\n",
          UrlHost(options.sagemaker.listen_host).c_str(),
          static_cast<int>(sagemaker_endpoint->port()));
    }
  }

  // Ready (the API answers, no longer 503) once every listener is up: a client that saw the
  // API answer finds the S3 and SageMaker endpoints listening too.
  progress_announced_to = hub.get();  // no early return below: Stop clears it
  api_pointer = api.get();
  bool web_built = fs::exists(api_options.web_dir / "index.html", error);
  std::printf("trainyard server: web UI %s %s\n", web_built ? "from" : "NOT BUILT, looked in",
              api_options.web_dir.c_str());
  std::printf("trainyard server %s listening on %s (data in %s)\n", kVersion, base_url.c_str(),
              options.data_dir.c_str());
  std::fflush(stdout);

  int received = 0;
  while (sigwait(&stop_signals, &received) == 0 && received == SIGUSR1) {
    std::printf("trainyard server: %s received, draining: no more jobs are claimed here\n",
                strsignal(received));
    std::fflush(stdout);
    scheduler->StopClaiming();
  }
  std::printf("trainyard server: %s received, stopping\n", strsignal(received));
  std::fflush(stdout);
  http_server->Stop();
  // Every report acknowledged to a job is stored, and announced while the hub still runs.
  metadata->Stop();
  progress_announced_to = nullptr;
  if (s3_server) s3_server->Stop();
  sagemaker_endpoint.reset();
  hub->Stop();
  webhook_dispatcher = nullptr;
  webhooks->dispatcher->Stop();
  scheduler->Shutdown();
  api_pointer = nullptr;
  return 0;  // running local jobs go on; the next start adopts them
}

}  // namespace

void AddSlurmSettingFlags(CLI::App& command, const std::set<std::string>& keys,
                          std::vector<std::pair<std::string, std::string>>& given) {
  for (const auto& [key, help] : SlurmSettingKeys()) {
    if (!keys.empty() && !keys.contains(key)) continue;
    if (key == "slurm") {
      command.add_flag_callback(
          FlagOfSetting(key), [&given, key = key] { given.emplace_back(key, "true"); }, help);
      continue;
    }
    if (key == "slurm_sbatch_arg") {
      // Repeatable; a value that is an option itself goes after '=': --slurm-sbatch-arg=--qos=x
      command.add_option_function<std::vector<std::string>>(
          FlagOfSetting(key),
          [&given, key = key](const std::vector<std::string>& values) {
            for (const std::string& value : values) given.emplace_back(key, value);
          },
          help);
      continue;
    }
    command.add_option_function<std::string>(
        FlagOfSetting(key),
        [&given, key = key](const std::string& value) { given.emplace_back(key, value); }, help);
  }
}

void AddServerCommand(CLI::App& cli, ServerCommand& state) {
  CLI::App* server = cli.add_subcommand("server", "Run the trainyard control plane (REST API)");
  state.command = server;
  server->footer(R"(
Embedded defaults: metadata in SQLite, objects and job files in --data-dir, jobs run by the local
executor. Settings come from --config (a JSON object with the keys data_dir, listen, objects,
metadata, max_running, replica_id, lease_seconds, executor_limits ({"local": 2}), public_url, token,
progress_interval_seconds, wrapper, web_dir, container_runtime, container_image, container_gpus,
container_cpus, container_memory, container_pull, container_auth_file, container_ecr_registry,
container_ecr_endpoint_url, container_staging, s3_listen, s3_access_key_id, s3_secret_access_key, log_level,
log_format, job_env_passthrough (["PYTHONPATH"]) and the http_*, sagemaker_* and webhook_* keys
of the --http-*, --sagemaker-* and --webhook-* flags), then TRAINYARD_* variables (TRAINYARD_DATA_DIR, TRAINYARD_LISTEN, TRAINYARD_LOG_LEVEL,
TRAINYARD_SAGEMAKER_ROLE_ARN, TRAINYARD_JOB_ENV_PASSTHROUGH, ...), then these flags. The log
(one line per API request, and every error the server works around) goes to stderr.

Example:
  trainyard server --data-dir ~/trainyard --listen 127.0.0.1:8080 --max-running 4)");
  ServerFlags& flags = state.flags;
  auto optional_string = [server](const char* name, std::optional<std::string>& target,
                                  const char* help) {
    server->add_option_function<std::string>(
        name, [&target](const std::string& value) { target = value; }, help);
  };
  server->add_option("--config", flags.config_file, "A JSON config file");
  optional_string("--data-dir", flags.data_dir,
                  "Where metadata, objects and jobs live "
                  "(default ./trainyard-data)");
  optional_string("--listen", flags.listen, "HOST:PORT to listen on (default 127.0.0.1:8080)");
  optional_string("--objects", flags.objects, "Object store URI (default file://DATA_DIR/objects)");
  optional_string("--metadata", flags.metadata,
                  "Metadata URL: sqlite:///PATH (default sqlite://DATA_DIR/trainyard.db) or "
                  "postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=...&pool_size=N] "
                  "(docs/scale-out.md)");
  optional_string("--public-url", flags.public_url,
                  "The URL jobs use to reach this server (default http://LISTEN)");
  optional_string("--token", flags.token,
                  "The API token clients must send (default: generated at the first start)");
  optional_string("--wrapper", flags.wrapper, "The trainyard-wrap binary for local jobs");
  optional_string("--web-dir", flags.web_dir,
                  "The built web UI, served at / (default: web/ beside the binary's directory)");
  optional_string("--s3-listen", flags.s3_listen,
                  "HOST:PORT of the S3-compatible endpoint (docs/s3.md; off by default). Keys: "
                  "TRAINYARD_S3_ACCESS_KEY_ID/SECRET_ACCESS_KEY, else generated");
  optional_string("--container-runtime", flags.container_runtime,
                  "Enable the container executor with podman or docker (docs/container.md)");
  optional_string("--container-image", flags.container_image,
                  "The image of container jobs whose sweep names none");
  optional_string("--container-cpus", flags.container_cpus, "--cpus of each container");
  optional_string("--container-memory", flags.container_memory, "--memory of each container");
  optional_string("--container-pull", flags.container_pull,
                  "When a job's image is pulled: always, missing (default: when not on this "
                  "host) or never (a missing image is refused at submit)");
  optional_string("--container-auth-file", flags.container_auth_file,
                  "Registry credentials in the runtime's auth.json format (a path; its contents "
                  "never reach a command line or a log)");
  optional_string("--container-ecr-registry", flags.container_ecr_registry,
                  "HOST[:PORT] that ECR-form images (ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO) "
                  "are pulled from instead");
  optional_string("--container-ecr-endpoint-url", flags.container_ecr_endpoint_url,
                  "ECR's API for the tokens of ECR-form images pulled as given (default: "
                  "AWS_ENDPOINT_URL_ECR, AWS_ENDPOINT_URL, else AWS's)");
  optional_string("--container-staging", flags.container_staging,
                  "How container jobs get their input and return their outputs: shared (the job "
                  "root mounted at /opt/ml; default) or object-store (nothing mounted: through "
                  "presigned URLs of an s3:// object store, else of the S3 endpoint, "
                  "--s3-listen)");
  server->add_flag("--container-gpus", flags.container_gpus, "Give each container all GPUs");
  server->add_option_function<int>(
      "--max-running", [&flags](int value) { flags.max_running = value; },
      "Jobs running at once (default 2; with several servers on one metadata store, counted "
      "over all of them)");
  optional_string("--replica-id", flags.replica_id,
                  "This server's name among the servers sharing a metadata store (default "
                  "HOSTNAME:DATA_DIR; docs/scale-out.md)");
  server->add_option_function<int>(
      "--lease-seconds", [&flags](int value) { flags.lease_seconds = value; },
      "How long this server's hold on a running job lasts without renewal before another "
      "server sharing the metadata store takes it over (default 30)");
  server->add_option("--executor-limit", flags.executor_limits,
                     "Jobs running at once on one executor: NAME=N (repeatable)");
  server->add_option("--job-env-passthrough", flags.job_env_passthrough,
                     "A host variable that local jobs get beyond the allowlist (docs/security.md): "
                     "NAME (repeatable, or NAME,NAME); never TRAINYARD_*, AWS_* or a credential");
  server->add_option_function<int>(
      "--progress-interval", [&flags](int value) { flags.progress_interval_seconds = value; },
      "Seconds between a job's progress reports (default 5)");
  server->add_flag("--no-auth", flags.no_auth,
                   "Accept requests without a token (loopback addresses only)");
  optional_string("--log-level", flags.log_level,
                  "trace, debug, info (default), warn, error or off");
  optional_string("--log-format", flags.log_format,
                  "text (default) or json: one object a line, for log collectors");
  for (const auto& [key, help] : SageMakerSettingKeys()) {
    server->add_option_function<std::string>(
        FlagOfSetting(key),
        [&flags, key = key](const std::string& value) { flags.sagemaker[key] = value; }, help);
  }
  AddSlurmSettingFlags(*server, {}, flags.slurm);
  for (const auto& [key, help] : HttpSettingKeys()) {
    server->add_option_function<std::string>(
        FlagOfSetting(key),
        [&flags, key = key](const std::string& value) { flags.http[key] = value; }, help);
  }
  for (const auto& [key, help] : WebhookSettingKeys()) {
    if (key == "webhook_allow_private") {
      server->add_flag_callback(
          FlagOfSetting(key), [&flags, key = key] { flags.webhook[key] = "true"; }, help);
      continue;
    }
    server->add_option_function<std::string>(
        FlagOfSetting(key),
        [&flags, key = key](const std::string& value) { flags.webhook[key] = value; }, help);
  }
}

std::optional<int> RunServerCommand(const ServerCommand& state) {
  if (state.command == nullptr || !state.command->parsed()) return std::nullopt;
  auto options = LoadServerOptions(state.flags, ParseEnvironment(environ));
  if (!options.ok()) return ServerFailure(options.status());
  if (Status configured = ConfigureLogging(options->log); !configured.ok())
    return ServerFailure(configured);
  return Serve(std::move(options).value());
}

}  // namespace trainyard::app
