// ECR tokens end to end but for the registry: the container executor's puller pulls an ECR-form
// image with a fake runtime, the token coming from GetAuthorizationToken as the server makes it
// (EcrTokenSourceOptionsFrom: the AWS credentials chain, AWS_ENDPOINT_URL_ECR) from a loopback
// stand-in for ECR (tests/support/ecr_stand_in.py, on Debian's python3-botocore) that checks each
// request against botocore's ecr model and verifies its SigV4 signature with botocore's own
// signer. Skipped, saying why, where /usr/bin/python3 cannot import botocore.
#include "app/ecr_token_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "app/server_executors.h"
#include "aws/crypto.h"
#include "common/files.h"
#include "executor/container/image_puller.h"
#include "support/free_port.h"
#include "support/subprocess.h"
#include "support/test_paths.h"

namespace trainyard::app {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kHost[] = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr char kSessionToken[] = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN";

// `pull`: keeps a copy of the auth file it was given and adds the image to the store.
constexpr char kFakeRuntime[] = R"SH(#!/bin/sh
dir=$(dirname "$0")
for last in "$@"; do :; done
key=$(echo "$last" | tr '/:@' '___')
case "$1" in
image)
  if [ -f "$dir/store/$key" ]; then echo "id-$key sha256:d1g3st"; exit 0; fi
  echo "Error: $last: image not known" >&2; exit 125 ;;
pull)
  cp "$REGISTRY_AUTH_FILE" "$dir/auth-seen-$key"
  mkdir -p "$dir/store"; touch "$dir/store/$key"; echo "id-$key"; exit 0 ;;
esac
exit 2
)SH";

class EcrTokenSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string python = "/usr/bin/python3";
    auto probe =
        testing::RunProcess({python, "-c", "import botocore.auth, botocore.validate"}, {}, 60s);
    if (probe.exit_code != 0) {
      GTEST_SKIP() << python
                   << " cannot import botocore (Debian's python3-botocore): " << probe.output;
    }
    state_ = temp_.path() / "ecr";
    fs::create_directories(state_);
    Configure("ok", 43200);
    stand_in_ = std::make_unique<testing::Process>(std::vector<std::string>{
        python, (testing::SourceDir() / "tests/support/ecr_stand_in.py").string(),
        state_.string()});
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (!fs::exists(state_ / "port") && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(50ms);
    }
    auto port = ReadFile(state_ / "port");
    ASSERT_TRUE(port.ok()) << "the ECR stand-in did not start: " << stand_in_->OutputSoFar();
    endpoint_ = "http://127.0.0.1:" + *port;

    std::ofstream(temp_.path() / "podman") << kFakeRuntime;
    ::chmod((temp_.path() / "podman").c_str(), 0755);
    user_file_ = temp_.path() / "user-auth.json";
    std::ofstream(user_file_)
        << R"({"auths": {"registry.example:5000": {"auth": "dXNlcjpwdw=="}}})";
  }

  void TearDown() override {
    if (stand_in_) stand_in_->Signal(SIGKILL);
  }

  void Configure(const std::string& mode, int expires_in) {
    Status written =
        WriteFile(state_ / "config.json", nlohmann::json{{"access_key_id", "AKIDEXAMPLE"},
                                                         {"secret_access_key", kSecret},
                                                         {"password", "ecr-password-"},
                                                         {"expires_in", expires_in},
                                                         {"mode", mode}}
                                              .dump());
    ASSERT_TRUE(written.ok()) << written.ToString();
  }

  // The server's environment: the key pair in the SDKs' variables, ECR's endpoint overridden as
  // the SDKs read it; no IMDS (no instance here).
  EnvironmentMap ServerEnvironment(bool with_keys = true) {
    EnvironmentMap environment{{"HOME", temp_.path().string()},
                               {"AWS_EC2_METADATA_DISABLED", "true"},
                               {"AWS_ENDPOINT_URL_ECR", endpoint_}};
    if (with_keys) {
      environment["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE";
      environment["AWS_SECRET_ACCESS_KEY"] = kSecret;
      environment["AWS_SESSION_TOKEN"] = kSessionToken;
    }
    return environment;
  }

  std::shared_ptr<executor::RegistryCredentials> Credentials(const EnvironmentMap& environment) {
    EcrTokenSourceOptions options = EcrTokenSourceOptionsFrom("", environment);
    options.retry_base_delay = 1ms;
    options.connect_timeout = 2s;
    return std::make_shared<executor::RegistryCredentials>(executor::RegistryCredentialsOptions{
        .user_auth_file = user_file_,
        .directory = temp_.path() / "data" / "registry-auth",
        .ecr_tokens = std::make_shared<EcrTokenSource>(std::move(options)),
        .clock = [this] { return std::chrono::system_clock::now() + clock_offset_.load(); }});
  }

  executor::ImageRuntime Runtime(std::shared_ptr<executor::RegistryCredentials> credentials) {
    return {.runtime_path = temp_.path() / "podman",
            .environment = {{"PATH", "/usr/bin:/bin"}},
            .auth_file = user_file_,
            .credentials = std::move(credentials)};
  }

  std::vector<nlohmann::json> Requests() {
    std::vector<nlohmann::json> requests;
    auto text = ReadFile(state_ / "requests.jsonl");
    std::istringstream lines(text.ok() ? *text : "");
    for (std::string line; std::getline(lines, line);)
      requests.push_back(nlohmann::json::parse(line));
    return requests;
  }

  nlohmann::json AuthSeenFor(const std::string& image) {
    std::string key = image;
    for (char& c : key) {
      if (c == '/' || c == ':' || c == '@') c = '_';
    }
    auto text = ReadFile(temp_.path() / ("auth-seen-" + key));
    return text.ok() ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
  }

  static std::string AuthOf(const std::string& password) {
    return aws::Base64Encode("AWS:" + password);
  }

  testing::TempDir temp_;
  fs::path state_, user_file_;
  std::string endpoint_;
  std::unique_ptr<testing::Process> stand_in_;
  std::atomic<std::chrono::seconds> clock_offset_{0s};
};

TEST_F(EcrTokenSourceTest, TheTokenRequestIsBotocoresAndSignedAndTheRuntimeGetsTheToken) {
  executor::ImagePuller puller;
  executor::ImageRuntime runtime = Runtime(Credentials(ServerEnvironment()));
  const std::string image = std::string(kHost) + "/tl-training-model:latest";
  auto pulled = puller.Ensure(runtime, image, executor::PullPolicy::kMissing, nullptr);
  ASSERT_TRUE(pulled.ok()) << pulled.status().ToString();

  auto requests = Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0]["target"], "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken");
  EXPECT_EQ(requests[0]["content_type"], "application/x-amz-json-1.1");
  EXPECT_EQ(requests[0]["model_errors"], "") << "botocore's ecr model refused the body";
  EXPECT_EQ(requests[0]["signature_error"], "") << "botocore's SigV4 disagrees";
  EXPECT_EQ(requests[0]["region"], "eu-west-1");
  EXPECT_EQ(nlohmann::json::parse(requests[0]["body"].get<std::string>()),
            nlohmann::json::parse(R"({"registryIds": ["123456789012"]})"));

  // The runtime pulled with the token for the ECR host and the user's other entries.
  nlohmann::json seen = AuthSeenFor(image);
  EXPECT_EQ(seen["auths"][kHost]["auth"], AuthOf("ecr-password-1"));
  EXPECT_EQ(seen["auths"]["registry.example:5000"]["auth"], "dXNlcjpwdw==");
}

TEST_F(EcrTokenSourceTest, OneRequestWhileTheTokenLivesAndARenewalWhenItIsAboutToExpire) {
  executor::ImagePuller puller;
  executor::ImageRuntime runtime = Runtime(Credentials(ServerEnvironment()));
  // Four jobs of four images of the registry at once: one request between them.
  std::vector<std::thread> jobs;
  std::vector<Result<executor::PresentImage>> results(4, Internal("not run"));
  for (int i = 0; i < 4; ++i) {
    jobs.emplace_back([&, i] {
      results[i] = puller.Ensure(runtime, std::string(kHost) + "/model-" + std::to_string(i),
                                 executor::PullPolicy::kMissing, nullptr);
    });
  }
  for (std::thread& job : jobs) job.join();
  for (const auto& result : results) ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(Requests().size(), 1u);

  // Another pull within the token's life asks nothing.
  clock_offset_ = 10h;
  const std::string later = std::string(kHost) + "/later:1";
  ASSERT_TRUE(puller.Ensure(runtime, later, executor::PullPolicy::kMissing, nullptr).ok());
  EXPECT_EQ(Requests().size(), 1u);
  EXPECT_EQ(AuthSeenFor(later)["auths"][kHost]["auth"], AuthOf("ecr-password-1"));

  // With 30 minutes of its 12 hours left, the token is renewed before the pull.
  clock_offset_ = 11h + 30min;
  const std::string renewed = std::string(kHost) + "/renewed:1";
  ASSERT_TRUE(puller.Ensure(runtime, renewed, executor::PullPolicy::kMissing, nullptr).ok());
  auto requests = Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1]["signature_error"], "");
  EXPECT_EQ(AuthSeenFor(renewed)["auths"][kHost]["auth"], AuthOf("ecr-password-2"));
}

TEST_F(EcrTokenSourceTest, NoCredentialsAccessDeniedBadSignatureAndUnreachableFailNamingTheImage) {
  executor::ImagePuller puller;
  const std::string image = std::string(kHost) + "/tl-training-model:latest";

  auto no_keys = puller.Ensure(Runtime(Credentials(ServerEnvironment(false))), image,
                               executor::PullPolicy::kMissing, nullptr);
  ASSERT_FALSE(no_keys.ok());
  EXPECT_EQ(no_keys.status().code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(no_keys.status().message(), HasSubstr("unauthorized to pull the training image " +
                                                    image + " (no token for " + kHost));
  EXPECT_THAT(no_keys.status().message(), HasSubstr("no AWS credentials found"));
  EXPECT_TRUE(Requests().empty());

  Configure("access-denied", 43200);
  auto denied = puller.Ensure(Runtime(Credentials(ServerEnvironment())), image,
                              executor::PullPolicy::kMissing, nullptr);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(denied.status().message(),
              HasSubstr("unauthorized to pull the training image " + image));
  EXPECT_THAT(denied.status().message(), HasSubstr("AccessDeniedException"));
  EXPECT_THAT(denied.status().message(), HasSubstr("ecr:GetAuthorizationToken"));

  // A signature ECR does not accept: its message, without the canonical request AWS quotes
  // (which holds the session token).
  Configure("other-secret", 43200);
  auto bad_signature = puller.Ensure(Runtime(Credentials(ServerEnvironment())), image,
                                     executor::PullPolicy::kMissing, nullptr);
  ASSERT_FALSE(bad_signature.ok());
  EXPECT_EQ(bad_signature.status().code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(bad_signature.status().message(),
              HasSubstr("InvalidSignatureException: The request signature we calculated does not "
                        "match the signature you provided."));
  EXPECT_THAT(bad_signature.status().message(),
              HasSubstr("(AWS's quote of the signed request left out)"));

  EnvironmentMap closed = ServerEnvironment();
  closed["AWS_ENDPOINT_URL_ECR"] =
      "http://127.0.0.1:" + std::to_string(testing::FreeLoopbackPort());
  auto unreachable =
      puller.Ensure(Runtime(Credentials(closed)), image, executor::PullPolicy::kMissing, nullptr);
  ASSERT_FALSE(unreachable.ok());
  EXPECT_EQ(unreachable.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(unreachable.status().message(),
              HasSubstr("registry unreachable for the training image " + image));
  for (const Status& failed :
       {no_keys.status(), denied.status(), bad_signature.status(), unreachable.status()}) {
    EXPECT_THAT(failed.message(), Not(HasSubstr(kSecret)));
    EXPECT_THAT(failed.message(), Not(HasSubstr(kSessionToken)));
  }
  EXPECT_EQ(puller.pulls_started(), 0);
}

TEST_F(EcrTokenSourceTest, TheServersContainerExecutorGetsTokensAtTheConfiguredEndpoint) {
  ServerOptions options;
  options.data_dir = temp_.path() / "server";
  options.wrapper_path = "/bin/sh";  // the local executor's, only checked to exist
  options.container_runtime = "podman";
  options.container_auth_file = user_file_;
  options.container_ecr_endpoint_url = endpoint_;
  EnvironmentMap environment = ServerEnvironment();
  environment["AWS_ENDPOINT_URL_ECR"] = "http://127.0.0.1:1";  // the setting comes first
  auto settings = ServerExecutorSettings(options, environment, nullptr);
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  ASSERT_TRUE(settings->container.has_value());
  auto& credentials = settings->container->registry_credentials;
  ASSERT_NE(credentials, nullptr);
  auto file = credentials->AuthFileFor(std::string(kHost) + "/tl-training-model:latest");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(*file, options.data_dir / "registry-auth" / "config.json");
  auto text = ReadFile(*file);
  ASSERT_TRUE(text.ok());
  nlohmann::json auth = nlohmann::json::parse(*text);
  EXPECT_EQ(auth["auths"][kHost]["auth"], AuthOf("ecr-password-1"));
  EXPECT_EQ(auth["auths"]["registry.example:5000"]["auth"], "dXNlcjpwdw==");
  ASSERT_EQ(Requests().size(), 1u);
  EXPECT_EQ(Requests()[0]["signature_error"], "");
}

TEST(EcrTokenSourceOptionsTest, TheEndpointFollowsTheSdksVariables) {
  EXPECT_EQ(EcrTokenSourceOptionsFrom("", {}).endpoint, "");
  EXPECT_EQ(EcrTokenSourceOptionsFrom("", {{"AWS_ENDPOINT_URL", "http://all"}}).endpoint,
            "http://all");
  EXPECT_EQ(EcrTokenSourceOptionsFrom(
                "", {{"AWS_ENDPOINT_URL", "http://all"}, {"AWS_ENDPOINT_URL_ECR", "http://ecr"}})
                .endpoint,
            "http://ecr");
  EXPECT_EQ(
      EcrTokenSourceOptionsFrom("https://vpce", {{"AWS_ENDPOINT_URL_ECR", "http://ecr"}}).endpoint,
      "https://vpce");
  auto bad_host = EcrTokenSource(EcrTokenSourceOptionsFrom("", {})).FetchToken("registry:5000");
  EXPECT_EQ(bad_host.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace trainyard::app
