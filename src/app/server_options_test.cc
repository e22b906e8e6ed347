#include "app/server_options.h"

#include <gtest/gtest.h>

#include "app/server_command.h"
#include "app/server_executors.h"
#include "common/files.h"
#include "support/test_paths.h"

namespace trainyard::app {
namespace {

TEST(ServerOptionsTest, FileThenEnvironmentThenFlags) {
  testing::TempDir temp;
  std::string config = (temp.path() / "server.json").string();
  ASSERT_TRUE(WriteFileAtomic(config, R"({"listen": "127.0.0.1:9000", "max_running": 3,
                                          "data_dir": "/from-file",
                                          "executor_limits": {"local": 2, "container": 1}})")
                  .ok());
  ServerFlags flags;
  flags.config_file = config;
  auto options = LoadServerOptions(flags, {{"TRAINYARD_DATA_DIR", "/from-env"}});
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->port, 9000);
  EXPECT_EQ(options->max_running, 3);
  EXPECT_EQ(options->data_dir, "/from-env");
  EXPECT_EQ(options->executor_limits, (std::map<std::string, int>{{"local", 2}, {"container", 1}}));
  flags.data_dir = "/from-flag";
  flags.executor_limits = {"local=5"};
  flags.listen = "[::1]:0";
  options = LoadServerOptions(flags, {{"TRAINYARD_DATA_DIR", "/from-env"}});
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->data_dir, "/from-flag");
  EXPECT_EQ(options->host, "::1");
  EXPECT_EQ(options->port, 0);
  EXPECT_EQ(options->executor_limits.at("local"), 5);
  EXPECT_FALSE(LoadServerOptions(flags, {{"TRAINYARD_EXECUTOR_LIMITS", "local"}}).ok());
}

TEST(ServerOptionsTest, RefusesUnknownKeysBadValuesAndOpenUnauthenticatedServers) {
  testing::TempDir temp;
  std::string config = (temp.path() / "server.json").string();
  ASSERT_TRUE(WriteFileAtomic(config, R"({"listne": "x"})").ok());
  ServerFlags flags;
  flags.config_file = config;
  auto refused = LoadServerOptions(flags, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("listne: unknown setting"), std::string::npos);

  flags = {};
  EXPECT_FALSE(LoadServerOptions(flags, {{"TRAINYARD_MAX_RUNNING", "0"}}).ok());
  flags.listen = "localhost";
  EXPECT_FALSE(LoadServerOptions(flags, {}).ok());
  flags.listen = "0.0.0.0:8080";
  flags.no_auth = true;
  refused = LoadServerOptions(flags, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("loopback"), std::string::npos);
  flags.listen = "127.0.0.1:8080";
  EXPECT_TRUE(LoadServerOptions(flags, {}).ok());
}

TEST(ServerOptionsTest, S3EndpointListenAndKeys) {
  testing::TempDir temp;
  ServerFlags flags;
  auto options = LoadServerOptions(flags, {});
  ASSERT_TRUE(options.ok());
  EXPECT_TRUE(options->s3_host.empty());  // off unless asked for

  std::string config = (temp.path() / "server.json").string();
  ASSERT_TRUE(WriteFileAtomic(config, R"({"s3_listen": "127.0.0.1:9000",
                                          "s3_access_key_id": "AKIDFILE",
                                          "s3_secret_access_key": "file-secret"})")
                  .ok());
  flags.config_file = config;
  options = LoadServerOptions(flags, {{"TRAINYARD_S3_ACCESS_KEY_ID", "AKIDENV"},
                                      {"TRAINYARD_S3_SECRET_ACCESS_KEY", "env-secret"}});
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->s3_host, "127.0.0.1");
  EXPECT_EQ(options->s3_port, 9000);
  EXPECT_EQ(options->s3_access_key_id, "AKIDENV");
  EXPECT_EQ(options->s3_secret_access_key, "env-secret");

  flags.s3_listen = "0.0.0.0:9100";
  options = LoadServerOptions(flags, {{"TRAINYARD_S3_LISTEN", "127.0.0.1:9001"}});
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->s3_host, "0.0.0.0");  // beyond loopback: always signed (generated keys)
  EXPECT_EQ(options->s3_port, 9100);

  flags = {};
  flags.s3_listen = "nonsense";
  auto refused = LoadServerOptions(flags, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("--s3-listen"), std::string::npos);
  flags.s3_listen = "127.0.0.1:9000";
  refused = LoadServerOptions(flags, {{"TRAINYARD_S3_ACCESS_KEY_ID", "AKIDONLY"}});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("must be set together"), std::string::npos);
  EXPECT_EQ(refused.status().message().find("AKIDONLY"), std::string::npos);
}

TEST(ServerOptionsTest, ContainerExecutorSettings) {
  ServerFlags flags;
  auto options = LoadServerOptions(flags, {{"TRAINYARD_CONTAINER_RUNTIME", "docker"},
                                           {"TRAINYARD_CONTAINER_IMAGE", "trainer:1"}});
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->container_runtime, "docker");
  EXPECT_EQ(options->container_image, "trainer:1");
  flags.container_runtime = "podman";
  flags.container_cpus = "2";
  flags.container_memory = "4g";
  flags.container_gpus = true;
  options = LoadServerOptions(flags, {{"TRAINYARD_CONTAINER_RUNTIME", "docker"}});
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->container_runtime, "podman");
  EXPECT_EQ(options->container_cpus, "2");
  EXPECT_EQ(options->container_memory, "4g");
  EXPECT_TRUE(options->container_gpus);
  flags.container_runtime = "rkt";
  auto refused = LoadServerOptions(flags, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("--container-runtime: 'rkt' is not podman or docker"),
            std::string::npos)
      << refused.status().message();
}

TEST(ServerOptionsTest, ContainerPullPolicyAndAuthFileFromEveryPlace) {
  testing::TempDir temp;
  std::string config = (temp.path() / "server.json").string();
  ASSERT_TRUE(WriteFileAtomic(config, R"({"container_pull": "never",
                                          "container_auth_file": "/etc/trainyard/auth.json"})")
                  .ok());
  ServerFlags flags;
  auto options = LoadServerOptions(flags, {});
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->container_pull, "missing");  // the default
  EXPECT_TRUE(options->container_auth_file.empty());
  flags.config_file = config;
  options = LoadServerOptions(flags, {});
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->container_pull, "never");
  EXPECT_EQ(options->container_auth_file, "/etc/trainyard/auth.json");
  options = LoadServerOptions(flags, {{"TRAINYARD_CONTAINER_PULL", "always"},
                                      {"TRAINYARD_CONTAINER_AUTH_FILE", "/run/auth.json"}});
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->container_pull, "always");
  EXPECT_EQ(options->container_auth_file, "/run/auth.json");
  flags.container_pull = "missing";
  flags.container_auth_file = "/home/ml/auth.json";
  options = LoadServerOptions(flags, {{"TRAINYARD_CONTAINER_PULL", "always"}});
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->container_pull, "missing");
  EXPECT_EQ(options->container_auth_file, "/home/ml/auth.json");
  flags.container_ecr_registry = "registry.internal:5000";
  options = LoadServerOptions(flags, {});
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->container_ecr_registry, "registry.internal:5000");
  flags.container_ecr_endpoint_url = "https://vpce-0a1b.api.ecr.eu-west-1.vpce.amazonaws.com";
  options = LoadServerOptions(flags, {});
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->container_ecr_endpoint_url,
            "https://vpce-0a1b.api.ecr.eu-west-1.vpce.amazonaws.com");
  flags.container_ecr_endpoint_url = "api.ecr.eu-west-1.amazonaws.com";
  options = LoadServerOptions(flags, {});
  ASSERT_FALSE(options.ok());
  EXPECT_NE(options.status().message().find("'api.ecr.eu-west-1.amazonaws.com' is no endpoint URL"),
            std::string::npos)
      << options.status().message();
  flags.container_ecr_endpoint_url.reset();
  options = LoadServerOptions({}, {{"TRAINYARD_CONTAINER_ECR_REGISTRY", "https://x/"}});
  ASSERT_FALSE(options.ok());
  EXPECT_NE(options.status().message().find("'https://x/' is no registry host"), std::string::npos)
      << options.status().message();
  flags.container_pull = "sometimes";
  auto refused = LoadServerOptions(flags, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find(
                "--container-pull: 'sometimes' is no pull policy (always, missing or never)"),
            std::string::npos)
      << refused.status().message();
}

TEST(ServerOptionsTest, HttpConnectionLimitsFromEveryPlace) {
  testing::TempDir temp;
  std::string config = (temp.path() / "server.json").string();
  ASSERT_TRUE(WriteFileAtomic(config, R"({"http_max_connections": 2000,
                                          "http_idle_timeout": 30,
                                          "http_max_handler_threads": 64})")
                  .ok());
  ServerFlags flags;
  flags.config_file = config;
  flags.http = {{"http_max_connections_per_client", "16"}, {"http_max_requests_per_client", "8"}};
  auto options = LoadServerOptions(
      flags, {{"TRAINYARD_HTTP_HEADER_TIMEOUT", "5"}, {"TRAINYARD_HTTP_BODY_MIN_RATE", "0"}});
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->http.max_connections, 2000);
  EXPECT_EQ(options->http.max_connections_per_client, 16);
  EXPECT_EQ(options->http.header_timeout_seconds, 5);
  EXPECT_EQ(options->http.idle_timeout_seconds, 30);
  server::HttpServerOptions listener = ListenerOptions(options->http, "127.0.0.1", 9000, "s3");
  EXPECT_EQ(listener.max_connections, 2000u);
  EXPECT_EQ(listener.max_connections_per_client, 16u);
  EXPECT_EQ(listener.max_requests_per_client, 8u);
  EXPECT_EQ(listener.header_timeout, std::chrono::seconds(5));
  EXPECT_EQ(listener.idle_timeout, std::chrono::seconds(30));
  EXPECT_EQ(listener.max_handler_threads, 64u);
  EXPECT_EQ(listener.body_min_rate, 0u);
  EXPECT_EQ(listener.body_read_timeout, std::chrono::seconds(60));
  EXPECT_EQ(listener.logger_name, "s3");

  ServerOptions defaults = *LoadServerOptions({}, {});
  EXPECT_EQ(defaults.http.max_connections_per_client, 512);
  EXPECT_EQ(defaults.http.header_timeout_seconds, 20);
  EXPECT_EQ(defaults.http.max_handler_threads, 1024);
  EXPECT_EQ(defaults.http.body_min_rate, 1024);

  flags = {};
  flags.http = {{"http_header_timeout", "0"}};
  auto refused = LoadServerOptions(flags, {});
  EXPECT_NE(refused.status().message().find("--http-header-timeout: '0' is not an integer"),
            std::string::npos)
      << refused.status().message();
  ASSERT_TRUE(WriteFileAtomic(config, R"({"http_max_threads": 4})").ok());
  flags = {};
  flags.config_file = config;
  refused = LoadServerOptions(flags, {});
  EXPECT_NE(refused.status().message().find("http_max_threads: unknown setting"), std::string::npos)
      << refused.status().message();
}

TEST(ServerOptionsTest, SageMakerSettingsFromEveryPlace) {
  testing::TempDir temp;
  std::string config = (temp.path() / "server.json").string();
  ASSERT_TRUE(WriteFileAtomic(config, R"({"sagemaker_bucket": "from-file",
                                          "sagemaker_instance_count": 2})")
                  .ok());
  ServerFlags flags;
  flags.config_file = config;
  flags.sagemaker = {{"sagemaker_role_arn", "arn:aws:iam::123456789012:role/t"},
                     {"sagemaker_listen", "127.0.0.1:9100"},
                     {"sagemaker_poll_interval_ms", "250"}};
  auto options = LoadServerOptions(
      flags, {{"TRAINYARD_SAGEMAKER_BUCKET", "from-env"}, {"TRAINYARD_SAGEMAKER_PREFIX", "p"}});
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  const SageMakerSettings& sagemaker = options->sagemaker;
  EXPECT_EQ(sagemaker.bucket, "from-env");
  EXPECT_EQ(sagemaker.prefix, "p");
  EXPECT_EQ(sagemaker.instance_count, 2);
  EXPECT_EQ(sagemaker.role_arn, "arn:aws:iam::123456789012:role/t");
  EXPECT_EQ(sagemaker.listen_host, "127.0.0.1");
  EXPECT_EQ(sagemaker.listen_port, 9100);
  EXPECT_EQ(sagemaker.poll_interval, std::chrono::milliseconds(250));
  EXPECT_EQ(sagemaker.endpoint_executor, "local");

  flags.sagemaker = {{"sagemaker_instance_count", "0"}};
  auto refused = LoadServerOptions(flags, {});
  EXPECT_NE(refused.status().message().find("--sagemaker-instance-count: '0' is not an integer"),
            std::string::npos)
      << refused.status().message();
  flags.sagemaker = {{"sagemaker_endpoint_executor", "sagemaker"}};
  refused = LoadServerOptions(flags, {});
  EXPECT_NE(refused.status().message().find("'sagemaker' is not local, container or slurm"),
            std::string::npos)
      << refused.status().message();
  flags.sagemaker = {{"sagemaker_endpoint_executor", "slurm"}};
  auto slurm = LoadServerOptions(flags, {});
  ASSERT_TRUE(slurm.ok()) << slurm.status().message();
  EXPECT_EQ(slurm->sagemaker.endpoint_executor, "slurm");
  ASSERT_TRUE(WriteFileAtomic(config, R"({"sagemaker_colour": "blue"})").ok());
  flags.sagemaker.clear();
  refused = LoadServerOptions(flags, {});
  EXPECT_NE(refused.status().message().find("sagemaker_colour: unknown setting"), std::string::npos)
      << refused.status().message();
}

TEST(ServerOptionsTest, SlurmRestTransportSettings) {
  ServerFlags flags;
  flags.slurm = {{"slurm_transport", "rest"},
                 {"slurm_rest_url", "http://slurm-login:6820"},
                 {"slurm_rest_user", "trainyard"}};
  auto options = LoadServerOptions(flags, {{"TRAINYARD_SLURM_JWT_KEY_FILE", "/etc/slurm/jwt.key"},
                                           {"TRAINYARD_SLURM_JWT_LIFESPAN_SECONDS", "900"}});
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_TRUE(options->slurm.enabled);
  EXPECT_EQ(options->slurm.transport, "rest");
  EXPECT_EQ(options->slurm.rest_url, "http://slurm-login:6820");
  EXPECT_EQ(options->slurm.rest_user, "trainyard");
  EXPECT_EQ(options->slurm.jwt_key_file, "/etc/slurm/jwt.key");
  EXPECT_EQ(options->slurm.jwt_lifespan_seconds, 900);
  EXPECT_EQ(LoadServerOptions({}, {})->slurm.transport, "commands");

  // The users a sweep may name: a flag, a variable, or a list in the config file.
  flags.slurm = {{"slurm_allowed_users", "alice,bob"}};
  EXPECT_EQ(LoadServerOptions(flags, {})->slurm.allowed_users,
            (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(
      LoadServerOptions({}, {{"TRAINYARD_SLURM_ALLOWED_USERS", "carol"}})->slurm.allowed_users,
      (std::vector<std::string>{"carol"}));
  testing::TempDir dir;
  ServerFlags configured;
  configured.config_file = (dir.path() / "trainyard.json").string();
  ASSERT_TRUE(
      WriteFileAtomic(configured.config_file, R"({"slurm_allowed_users": ["dave", "erin"]})").ok());
  EXPECT_EQ(LoadServerOptions(configured, {})->slurm.allowed_users,
            (std::vector<std::string>{"dave", "erin"}));
  flags.slurm = {{"slurm_allowed_users", "alice,,bob"}};
  EXPECT_NE(LoadServerOptions(flags, {}).status().message().find("--slurm-allowed-users"),
            std::string::npos);

  flags.slurm = {{"slurm_transport", "grpc"}};
  auto refused = LoadServerOptions(flags, {});
  EXPECT_NE(refused.status().message().find("--slurm-transport: 'grpc' is not commands or rest"),
            std::string::npos)
      << refused.status().message();
  refused = LoadServerOptions({}, {{"TRAINYARD_SLURM_REST_URL", "slurm-login:6820"}});
  EXPECT_NE(refused.status().message().find(
                "$TRAINYARD_SLURM_REST_URL: 'slurm-login:6820' is not an http:// or https://"),
            std::string::npos)
      << refused.status().message();
}

// Images on Slurm and the container executor's staging: a config key, a variable and a flag each.
TEST(ServerOptionsTest, SlurmContainerRuntimeAndContainerStaging) {
  auto defaults = LoadServerOptions({}, {});
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  EXPECT_EQ(defaults->slurm.container_runtime, "podman");
  EXPECT_EQ(defaults->slurm.container_network, "host");
  EXPECT_TRUE(defaults->slurm.pin_images);
  EXPECT_EQ(defaults->container_staging, "shared");
  EXPECT_FALSE(LoadServerOptions({}, {{"TRAINYARD_SLURM_PIN_IMAGES", "false"}})->slurm.pin_images);
  EXPECT_NE(LoadServerOptions({}, {{"TRAINYARD_SLURM_PIN_IMAGES", "no"}})
                .status()
                .message()
                .find("TRAINYARD_SLURM_PIN_IMAGES: not true/false"),
            std::string::npos);

  ServerFlags flags;
  flags.slurm = {{"slurm_container_runtime", "srun"}};
  flags.container_staging = "object-store";
  auto options = LoadServerOptions(flags, {{"TRAINYARD_SLURM_CONTAINER_NETWORK", "slurm-net"}});
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_TRUE(options->slurm.enabled);
  EXPECT_EQ(options->slurm.container_runtime, "srun");
  EXPECT_EQ(options->slurm.container_network, "slurm-net");
  EXPECT_EQ(options->container_staging, "object-store");
  EXPECT_EQ(
      LoadServerOptions({}, {{"TRAINYARD_CONTAINER_STAGING", "object-store"}})->container_staging,
      "object-store");

  flags.slurm = {{"slurm_container_runtime", "docker"}};
  auto refused = LoadServerOptions(flags, {});
  EXPECT_NE(
      refused.status().message().find("--slurm-container-runtime: 'docker' is not podman or srun"),
      std::string::npos)
      << refused.status().message();
  flags.slurm.clear();
  flags.container_staging = "nfs";
  refused = LoadServerOptions(flags, {});
  EXPECT_NE(
      refused.status().message().find("--container-staging: 'nfs' is not shared or object-store"),
      std::string::npos)
      << refused.status().message();
}

TEST(ServerOptionsTest, SlurmStagingSettings) {
  ServerFlags flags;
  flags.slurm = {{"slurm_staging", "object-store"},
                 {"slurm_staging_endpoint", "http://10.0.0.5:9000"}};
  auto options = LoadServerOptions(flags, {{"TRAINYARD_SLURM_STAGING_BUCKET", "stage"},
                                           {"TRAINYARD_SLURM_STAGING_URL_MARGIN_SECONDS", "600"}});
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_TRUE(options->slurm.enabled);
  EXPECT_EQ(options->slurm.staging, "object-store");
  EXPECT_EQ(options->slurm.staging_endpoint, "http://10.0.0.5:9000");
  EXPECT_EQ(options->slurm.staging_bucket, "stage");
  EXPECT_EQ(options->slurm.staging_url_margin_seconds, 600);
  EXPECT_EQ(LoadServerOptions({}, {})->slurm.staging, "shared");

  flags.slurm = {{"slurm_staging", "nfs"}};
  auto refused = LoadServerOptions(flags, {});
  EXPECT_NE(refused.status().message().find("--slurm-staging: 'nfs' is not shared or object-store"),
            std::string::npos)
      << refused.status().message();
  refused = LoadServerOptions({}, {{"TRAINYARD_SLURM_STAGING_ENDPOINT", "10.0.0.5:9000"}});
  EXPECT_NE(refused.status().message().find(
                "$TRAINYARD_SLURM_STAGING_ENDPOINT: '10.0.0.5:9000' is not an http:// or https://"),
            std::string::npos)
      << refused.status().message();
}

TEST(ServerOptionsTest, SlurmSettingsFromEveryPlace) {
  EXPECT_FALSE(LoadServerOptions({}, {})->slurm.enabled);
  testing::TempDir temp;
  std::string config = (temp.path() / "server.json").string();
  ASSERT_TRUE(WriteFileAtomic(config, R"({"slurm_partition": "from-file",
      "slurm_sbatch_arg": ["--constraint=a100", "--exclusive"], "slurm_account": "file"})")
                  .ok());
  ServerFlags flags;
  flags.config_file = config;
  flags.slurm = {{"slurm_qos", "high"},
                 {"slurm_sbatch_arg", "--nice=10"},
                 {"slurm_sbatch_arg", "--reservation=r1"}};
  auto options = LoadServerOptions(flags, {{"TRAINYARD_SLURM_ACCOUNT", "ml-team"},
                                           {"TRAINYARD_SLURM_SBATCH_ARG", "--mail-type=END  -x"},
                                           {"TRAINYARD_SLURM_POLL_INTERVAL_MS", "250"}});
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  const SlurmSettings& slurm = options->slurm;
  EXPECT_TRUE(slurm.enabled);  // any slurm_* setting turns it on
  EXPECT_EQ(slurm.partition, "from-file");
  EXPECT_EQ(slurm.account, "ml-team");
  EXPECT_EQ(slurm.qos, "high");
  EXPECT_EQ(slurm.poll_interval_ms, 250);
  EXPECT_EQ(slurm.sbatch_args,
            (std::vector<std::string>{"--constraint=a100", "--exclusive", "--mail-type=END", "-x",
                                      "--nice=10", "--reservation=r1"}));

  flags = {};
  flags.slurm = {{"slurm", "true"}};
  options = LoadServerOptions(flags, {});
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_TRUE(options->slurm.enabled);
  EXPECT_EQ(options->slurm.gpu_option, "gres");
  EXPECT_TRUE(LoadServerOptions({}, {{"TRAINYARD_SLURM", "true"}})->slurm.enabled);

  flags.slurm = {{"slurm_gpu_option", "tpu"}};
  auto refused = LoadServerOptions(flags, {});
  EXPECT_NE(refused.status().message().find("--slurm-gpu-option: 'tpu' is not gres or gpus"),
            std::string::npos)
      << refused.status().message();
  flags.slurm = {{"slurm_sbatch_arg", "exclusive"}};
  refused = LoadServerOptions(flags, {});
  EXPECT_NE(refused.status().message().find("--slurm-sbatch-arg: 'exclusive' is not an sbatch"),
            std::string::npos)
      << refused.status().message();
  refused = LoadServerOptions({}, {{"TRAINYARD_SLURM_POLL_INTERVAL_MS", "1"}});
  EXPECT_NE(refused.status().message().find("$TRAINYARD_SLURM_POLL_INTERVAL_MS"), std::string::npos)
      << refused.status().message();
}

TEST(ServerOptionsTest, LogSettingsFromFileThenEnvironmentThenFlags) {
  EXPECT_EQ(LoadServerOptions({}, {})->log.level, "info");
  EXPECT_EQ(LoadServerOptions({}, {})->log.format, "text");
  testing::TempDir temp;
  std::string config = (temp.path() / "server.json").string();
  ASSERT_TRUE(WriteFileAtomic(config, R"({"log_level": "debug", "log_format": "json"})").ok());
  ServerFlags flags;
  flags.config_file = config;
  auto options = LoadServerOptions(flags, {});
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->log.level, "debug");
  EXPECT_EQ(options->log.format, "json");
  options = LoadServerOptions(flags, {{"TRAINYARD_LOG_LEVEL", "warn"}});
  EXPECT_EQ(options->log.level, "warn");
  EXPECT_EQ(options->log.format, "json");
  flags.log_level = "error";
  flags.log_format = "text";
  options = LoadServerOptions(flags, {{"TRAINYARD_LOG_LEVEL", "warn"}});
  EXPECT_EQ(options->log.level, "error");
  EXPECT_EQ(options->log.format, "text");
}

TEST(ServerOptionsTest, RefusesAnUnknownLogLevelOrFormatNamingWhereItCameFrom) {
  ServerFlags flags;
  flags.log_level = "loud";
  auto refused = LoadServerOptions(flags, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("--log-level: log level 'loud'"), std::string::npos)
      << refused.status().message();
  refused = LoadServerOptions({}, {{"TRAINYARD_LOG_FORMAT", "xml"}});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("$TRAINYARD_LOG_FORMAT: log format 'xml'"),
            std::string::npos)
      << refused.status().message();
}

TEST(ServerCommandTest, ParsesTheLogFlags) {
  CLI::App cli;
  ServerCommand server;
  AddServerCommand(cli, server);
  std::vector<std::string> arguments = {"server", "--log-level", "debug", "--log-format", "json"};
  std::reverse(arguments.begin(), arguments.end());  // CLI11 takes a reversed vector
  ASSERT_NO_THROW(cli.parse(arguments));
  EXPECT_EQ(server.flags.log_level, "debug");
  EXPECT_EQ(server.flags.log_format, "json");
  auto options = LoadServerOptions(server.flags, {});
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->log.level, "debug");
  EXPECT_EQ(options->log.format, "json");
}

TEST(ServerOptionsTest, JobEnvPassthroughFromEveryPlaceNeverACredential) {
  testing::TempDir temp;
  std::string config = (temp.path() / "server.json").string();
  ASSERT_TRUE(
      WriteFileAtomic(config, R"({"job_env_passthrough": ["PYTHONPATH", "WANDB_MODE"]})").ok());
  CLI::App cli;
  ServerCommand server;
  AddServerCommand(cli, server);
  std::vector<std::string> arguments = {"server",
                                        "--config",
                                        config,
                                        "--job-env-passthrough",
                                        "HF_HOME",
                                        "--job-env-passthrough",
                                        "OMP_NUM_THREADS,X"};
  std::reverse(arguments.begin(), arguments.end());  // CLI11 takes a reversed vector
  ASSERT_NO_THROW(cli.parse(arguments));
  auto options = LoadServerOptions(
      server.flags, {{"TRAINYARD_JOB_ENV_PASSTHROUGH", "WANDB_MODE,MLFLOW_TRACKING_URI"}});
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->job_env_passthrough,
            (std::vector<std::string>{"PYTHONPATH", "WANDB_MODE", "MLFLOW_TRACKING_URI", "HF_HOME",
                                      "OMP_NUM_THREADS", "X"}));

  ServerFlags flags;
  flags.job_env_passthrough = {"AWS_SECRET_ACCESS_KEY"};
  auto refused = LoadServerOptions(flags, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message().rfind("--job-env-passthrough: 'AWS_SECRET_ACCESS_KEY' is "
                                             "never passed to jobs",
                                             0),
            0u)
      << refused.status().message();
  for (const char* name : {"TRAINYARD_TOKEN", "HF_TOKEN", "DB_PASSWORD", "BAD-NAME"}) {
    EXPECT_FALSE(LoadServerOptions({}, {{"TRAINYARD_JOB_ENV_PASSTHROUGH", name}}).ok()) << name;
  }
  ASSERT_TRUE(WriteFileAtomic(config, R"({"job_env_passthrough": [1]})").ok());
  flags = {};
  flags.config_file = config;
  EXPECT_FALSE(LoadServerOptions(flags, {}).ok());
}

TEST(ServerExecutorSettingsTest, LocalJobsGetTheAllowlistTheRuntimeTheServersEnvironment) {
  testing::TempDir temp;
  ServerOptions options;
  options.data_dir = temp.path();
  options.wrapper_path = temp.path() / "trainyard-wrap";
  ASSERT_TRUE(WriteFileAtomic(options.wrapper_path, "").ok());
  options.container_runtime = "podman";
  options.job_env_passthrough = {"PYTHONPATH"};
  EnvironmentMap server = {{"PATH", "/usr/bin"},
                           {"PYTHONPATH", "/opt/lib"},
                           {"XDG_RUNTIME_DIR", "/run/user/1000"},
                           {"TRAINYARD_TOKEN", "admin-token-123"},
                           {"TRAINYARD_S3_SECRET_ACCESS_KEY", "s3-secret-456"},
                           {"AWS_SECRET_ACCESS_KEY", "aws-secret-789"}};
  auto settings = ServerExecutorSettings(options, server, nullptr);
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ(settings->local.environment,
            (EnvironmentMap{{"PATH", "/usr/bin"}, {"PYTHONPATH", "/opt/lib"}}));
  ASSERT_TRUE(settings->container.has_value());
  EXPECT_EQ(settings->container->runtime_environment, server);
  EXPECT_TRUE(settings->container->job_environment.empty());
}

TEST(ServerOptionsTest, WebhookSettingsFromEveryPlace) {
  testing::TempDir temp;
  std::string config = (temp.path() / "server.json").string();
  ASSERT_TRUE(WriteFileAtomic(config, R"({"webhook_allow_private": true,
                                          "webhook_timeout": 5})")
                  .ok());
  ServerFlags flags;
  flags.config_file = config;
  flags.webhook = {{"webhook_first_retry", "2"}};
  auto options = LoadServerOptions(flags, {{"TRAINYARD_WEBHOOK_RETRY_HOURS", "6"}});
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_TRUE(options->webhook.allow_private);
  EXPECT_EQ(options->webhook.timeout_seconds, 5);
  EXPECT_EQ(options->webhook.first_retry_seconds, 2);
  EXPECT_EQ(options->webhook.max_retry_seconds, 3600);
  EXPECT_EQ(options->webhook.retry_hours, 6);
  EXPECT_EQ(options->webhook.link_hours, 168);

  // Off by default; the environment turns it on.
  auto defaults = LoadServerOptions({}, {});
  ASSERT_TRUE(defaults.ok());
  EXPECT_FALSE(defaults->webhook.allow_private);
  auto from_environment = LoadServerOptions({}, {{"TRAINYARD_WEBHOOK_ALLOW_PRIVATE", "true"}});
  ASSERT_TRUE(from_environment.ok());
  EXPECT_TRUE(from_environment->webhook.allow_private);

  auto bad = LoadServerOptions({}, {{"TRAINYARD_WEBHOOK_ALLOW_PRIVATE", "yes"}});
  EXPECT_NE(bad.status().message().find("TRAINYARD_WEBHOOK_ALLOW_PRIVATE"), std::string::npos)
      << bad.status().message();
  ServerFlags inverted;
  inverted.webhook = {{"webhook_first_retry", "600"}, {"webhook_max_retry", "60"}};
  auto refused = LoadServerOptions(inverted, {});
  EXPECT_NE(refused.status().message().find("webhook_max_retry"), std::string::npos);
}

TEST(ServerCommandTest, ParsesTheWebhookFlags) {
  CLI::App cli;
  ServerCommand state;
  AddServerCommand(cli, state);
  std::vector<std::string> arguments = {"server", "--webhook-allow-private",
                                        "--webhook-first-retry", "10"};
  std::reverse(arguments.begin(), arguments.end());  // CLI11 takes a reversed vector
  ASSERT_NO_THROW(cli.parse(arguments));
  EXPECT_EQ(state.flags.webhook.at("webhook_allow_private"), "true");
  EXPECT_EQ(state.flags.webhook.at("webhook_first_retry"), "10");
}

}  // namespace
}  // namespace trainyard::app
