// The chain's order and combined error, the cache's refresh, and the no-secret-in-messages rule
// over every provider's error paths.
#include "aws/credentials_chain.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "aws/container_provider.h"
#include "aws/environment_provider.h"
#include "aws/imds_provider.h"
#include "aws/shared_files_provider.h"
#include "support/http_test_server.h"
#include "support/test_paths.h"

namespace trainyard::aws {
namespace {

using trainyard::testing::HttpTestResponse;
using trainyard::testing::HttpTestServer;
using trainyard::testing::RecordedRequest;

// A provider the test drives: answers `next`, counts its calls.
class FakeProvider : public CredentialsProvider {
 public:
  explicit FakeProvider(Result<TimedCredentials> next) : next_(std::move(next)) {}
  Result<TimedCredentials> Fetch() override {
    ++calls;
    std::lock_guard lock(mutex_);
    return next_;
  }
  void Set(Result<TimedCredentials> next) {
    std::lock_guard lock(mutex_);
    next_ = std::move(next);
  }
  std::atomic<int> calls{0};

 private:
  std::mutex mutex_;
  Result<TimedCredentials> next_;
};

TimedCredentials Creds(const std::string& id, std::optional<TimePoint> expiration = {}) {
  return {{id, "secret-" + id, ""}, expiration, "fake"};
}

// Nothing in the process environment reaches the chain: an empty home and an environment that
// points IMDS at a closed loopback port.
EnvironmentMap IsolatedEnvironment() {
  return {{"AWS_EC2_METADATA_SERVICE_ENDPOINT",
           "http://127.0.0.1:" + std::to_string(trainyard::testing::UnusedLoopbackPort())}};
}

TEST(ChainProviderTest, FirstProviderWithCredentialsWins) {
  std::vector<ChainProvider::NamedProvider> providers;
  auto first = std::make_unique<FakeProvider>(NotFound("nothing here"));
  auto second = std::make_unique<FakeProvider>(Creds("SECOND"));
  auto third = std::make_unique<FakeProvider>(Creds("THIRD"));
  FakeProvider* third_raw = third.get();
  providers.emplace_back("first", std::move(first));
  providers.emplace_back("second", std::move(second));
  providers.emplace_back("third", std::move(third));
  ChainProvider chain(std::move(providers));
  EXPECT_EQ(chain.Fetch()->credentials.access_key_id, "SECOND");
  EXPECT_EQ(third_raw->calls, 0);
}

TEST(ChainProviderTest, BrokenSourceStopsTheChain) {
  std::vector<ChainProvider::NamedProvider> providers;
  providers.emplace_back("first", std::make_unique<FakeProvider>(NotFound("not set")));
  providers.emplace_back("second", std::make_unique<FakeProvider>(InvalidArgument("partial keys")));
  providers.emplace_back("third", std::make_unique<FakeProvider>(Creds("THIRD")));
  auto found = ChainProvider(std::move(providers)).Fetch();
  EXPECT_EQ(found.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(found.status().message().find("first: not set"), std::string::npos);
  EXPECT_NE(found.status().message().find("second: partial keys"), std::string::npos);
}

TEST(DefaultChainTest, OrderIsEnvironmentSharedFilesContainerImds) {
  trainyard::testing::TempDir home;
  std::filesystem::create_directories(home.path() / ".aws");
  std::ofstream(home.path() / ".aws/credentials")
      << "[default]\naws_access_key_id = FILE\naws_secret_access_key = S\n";
  HttpTestServer container([](const RecordedRequest&) {
    return HttpTestResponse{200, R"({"AccessKeyId": "CONTAINER", "SecretAccessKey": "S"})"};
  });
  EnvironmentMap environment = IsolatedEnvironment();
  environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = container.url("/creds");
  environment["AWS_ACCESS_KEY_ID"] = "ENV";
  environment["AWS_SECRET_ACCESS_KEY"] = "S";
  EXPECT_EQ(MakeDefaultCredentialsChain(environment, home.path())->Fetch()->source, "environment");
  environment.erase("AWS_ACCESS_KEY_ID");
  environment.erase("AWS_SECRET_ACCESS_KEY");
  EXPECT_EQ(MakeDefaultCredentialsChain(environment, home.path())->Fetch()->source,
            "shared-credentials-file:default");
  std::filesystem::remove(home.path() / ".aws/credentials");
  auto from_container = MakeDefaultCredentialsChain(environment, home.path())->Fetch();
  ASSERT_TRUE(from_container.ok()) << from_container.status().ToString();
  EXPECT_EQ(from_container->credentials.access_key_id, "CONTAINER");
  EXPECT_TRUE(container.requests().size() == 1);
}

TEST(DefaultChainTest, FallsThroughToImds) {
  trainyard::testing::TempDir home;
  HttpTestServer imds([](const RecordedRequest& request) {
    if (request.method == "PUT") return HttpTestResponse{200, "tok"};
    if (request.target.ends_with("/")) return HttpTestResponse{200, "role"};
    return HttpTestResponse{200, R"({"AccessKeyId": "IMDS", "SecretAccessKey": "S"})"};
  });
  auto found = MakeDefaultCredentialsChain({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url("")}},
                                           home.path())
                   ->Fetch();
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->source, "imds");
}

TEST(DefaultChainTest, NothingFoundListsEveryProvider) {
  trainyard::testing::TempDir home;
  auto found = MakeDefaultCredentialsChain(IsolatedEnvironment(), home.path())->Fetch();
  ASSERT_EQ(found.status().code(), StatusCode::kUnauthenticated);
  const std::string& message = found.status().message();
  size_t environment = message.find("environment: AWS_ACCESS_KEY_ID");
  size_t files = message.find("shared files: profile 'default'");
  size_t container = message.find("container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  size_t imds = message.find("imds: no instance metadata service");
  ASSERT_NE(environment, std::string::npos) << message;
  ASSERT_NE(files, std::string::npos) << message;
  ASSERT_NE(container, std::string::npos) << message;
  ASSERT_NE(imds, std::string::npos) << message;
  EXPECT_LT(environment, files);
  EXPECT_LT(files, container);
  EXPECT_LT(container, imds);
}

class CachingProviderTest : public ::testing::Test {
 protected:
  CachingProviderTest() {
    auto fake = std::make_unique<FakeProvider>(Creds("FIRST", now_.load() + std::chrono::hours(1)));
    fake_ = fake.get();
    CachingProviderOptions options;
    options.clock = [this] { return now_.load(); };
    cache_ = std::make_unique<CachingProvider>(std::move(fake), options);
  }

  std::atomic<TimePoint> now_{std::chrono::system_clock::from_time_t(1'800'000'000)};
  FakeProvider* fake_;
  std::unique_ptr<CachingProvider> cache_;
};

TEST_F(CachingProviderTest, RefreshesFiveMinutesBeforeExpiry) {
  EXPECT_EQ(cache_->Fetch()->credentials.access_key_id, "FIRST");
  fake_->Set(Creds("SECOND", now_.load() + std::chrono::hours(2)));
  now_ = now_.load() + std::chrono::minutes(54);  // 6 minutes left: still cached
  EXPECT_EQ(cache_->Fetch()->credentials.access_key_id, "FIRST");
  EXPECT_EQ(fake_->calls, 1);
  now_ = now_.load() + std::chrono::minutes(2);  // 4 minutes left: refreshed
  EXPECT_EQ(cache_->Fetch()->credentials.access_key_id, "SECOND");
  EXPECT_EQ(fake_->calls, 2);
}

TEST_F(CachingProviderTest, KeepsUnexpiredCredentialsWhenRefreshFails) {
  EXPECT_EQ(cache_->Fetch()->credentials.access_key_id, "FIRST");
  fake_->Set(Unavailable("endpoint down"));
  now_ = now_.load() + std::chrono::minutes(58);
  EXPECT_EQ(cache_->Fetch()->credentials.access_key_id, "FIRST");
  now_ = now_.load() + std::chrono::minutes(3);  // expired
  EXPECT_EQ(cache_->Fetch().status().code(), StatusCode::kUnavailable);
}

TEST_F(CachingProviderTest, CredentialsWithoutExpiryAreFetchedOnce) {
  EXPECT_EQ(cache_->Fetch()->credentials.access_key_id, "FIRST");
  fake_->Set(Creds("LONG"));
  now_ = now_.load() + std::chrono::hours(2);  // FIRST expired
  EXPECT_EQ(cache_->Fetch()->credentials.access_key_id, "LONG");
  now_ = now_.load() + std::chrono::hours(1000);
  EXPECT_EQ(cache_->Fetch()->credentials.access_key_id, "LONG");
  EXPECT_EQ(fake_->calls, 2);
}

TEST_F(CachingProviderTest, ConcurrentCallersShareOneFetch) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 100; ++j) ok += cache_->Fetch().ok();
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok, 800);
  EXPECT_EQ(fake_->calls, 1);
}

// Every error path, fed distinctive secret values; none may reach a message.
TEST(NoSecretInMessagesTest, EveryErrorPath) {
  const std::vector<std::string> secrets = {"ZZSECRETKEYZZ", "ZZSESSIONTOKENZZ", "ZZAUTHTOKENZZ",
                                            "ZZIMDSTOKENZZ", "ZZURLPASSZZ"};
  std::vector<Status> errors;
  auto collect = [&](const Result<TimedCredentials>& result) {
    EXPECT_FALSE(result.ok());
    errors.push_back(result.status());
  };
  trainyard::testing::TempDir home;

  // Environment: a secret without a key id, and with a bad expiry.
  collect(EnvironmentProvider({{"AWS_SECRET_ACCESS_KEY", "ZZSECRETKEYZZ"},
                               {"AWS_SESSION_TOKEN", "ZZSESSIONTOKENZZ"}})
              .Fetch());
  collect(EnvironmentProvider({{"AWS_ACCESS_KEY_ID", "A"},
                               {"AWS_SECRET_ACCESS_KEY", "ZZSECRETKEYZZ"},
                               {"AWS_CREDENTIAL_EXPIRATION", "soon"}})
              .Fetch());

  // Shared files: partial keys, and a malformed line holding the secret.
  std::filesystem::create_directories(home.path() / ".aws");
  std::ofstream(home.path() / ".aws/credentials")
      << "[default]\naws_secret_access_key = ZZSECRETKEYZZ\naws_session_token = ZZSESSIONTOKENZZ\n";
  collect(SharedFilesProvider({}, home.path()).Fetch());
  std::ofstream(home.path() / ".aws/credentials") << "[default]\nZZSECRETKEYZZ\n";
  collect(SharedFilesProvider({}, home.path()).Fetch());
  std::ofstream(home.path() / ".aws/config") << "ZZSECRETKEYZZ\n";
  auto region = ResolveRegion({}, home.path());
  EXPECT_FALSE(region.ok());
  errors.push_back(region.status());

  // Container: every HTTP failure, the token sent each time; bodies echo the secrets.
  const std::string echo = "ZZSECRETKEYZZ ZZSESSIONTOKENZZ ZZAUTHTOKENZZ";
  for (HttpTestResponse answer :
       {HttpTestResponse{401, echo}, HttpTestResponse{500, echo}, HttpTestResponse{200, echo},
        HttpTestResponse{200,
                         R"({"SecretAccessKey": "ZZSECRETKEYZZ", "Token": "ZZSESSIONTOKENZZ"})"},
        HttpTestResponse{200, R"({"AccessKeyId": "A", "SecretAccessKey": "ZZSECRETKEYZZ",
                                "Token": "ZZSESSIONTOKENZZ", "Expiration": 5})"}}) {
    HttpTestServer server([&](const RecordedRequest&) { return answer; });
    collect(ContainerProvider({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url("/c")},
                               {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "ZZAUTHTOKENZZ"}})
                .Fetch());
  }
  collect(ContainerProvider({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/c"},
                             {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "ZZAUTHTOKENZZ"}})
              .Fetch());
  // A URL carrying a password or a query token, refused and unreachable.
  for (const char* url : {"http://u:ZZURLPASSZZ@example.com/c?t=ZZURLPASSZZ",
                          "http://u:ZZURLPASSZZ@127.0.0.1:1/c?t=ZZURLPASSZZ"}) {
    collect(ContainerProvider(EnvironmentMap{{"AWS_CONTAINER_CREDENTIALS_FULL_URI", url}}).Fetch());
  }
  collect(ContainerProvider({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/c"},
                             {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "ZZAUTH\nTOKENZZ"}})
              .Fetch());
  {
    // A server that takes the request and never answers: the timeout path.
    trainyard::testing::HttpTestServer hang(trainyard::testing::HttpTestServer::Mode::kHang);
    ContainerProviderOptions options;
    options.total_timeout = std::chrono::milliseconds(200);
    options.attempts = 1;
    collect(ContainerProvider({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", hang.url("/c")},
                               {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "ZZAUTHTOKENZZ"}},
                              options)
                .Fetch());
  }

  // IMDS: the token is accepted, then each later step fails with secret-laden bodies.
  for (int failing_step : {1, 2, 3, 4}) {
    HttpTestServer server([&](const RecordedRequest& request) -> HttpTestResponse {
      if (request.method == "PUT") return {200, "ZZIMDSTOKENZZ"};
      if (request.target.ends_with("/")) {
        return failing_step == 1 ? HttpTestResponse{401, echo} : HttpTestResponse{200, "role"};
      }
      if (failing_step == 2) return {500, echo};
      if (failing_step == 3) return {200, echo};
      return {200, R"({"Code": "Failed", "SecretAccessKey": "ZZSECRETKEYZZ"})"};
    });
    collect(ImdsProvider({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url("")}}).Fetch());
  }

  // The chain's combined error over a broken container source.
  HttpTestServer broken([&](const RecordedRequest&) { return HttpTestResponse{500, echo}; });
  EnvironmentMap environment = IsolatedEnvironment();
  environment["AWS_SECRET_ACCESS_KEY"] = "ZZSECRETKEYZZ";
  collect(MakeDefaultCredentialsChain(environment, home.path())->Fetch());
  environment.erase("AWS_SECRET_ACCESS_KEY");
  environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = broken.url("/c");
  environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "ZZAUTHTOKENZZ";
  std::filesystem::remove(home.path() / ".aws/credentials");
  collect(MakeDefaultCredentialsChain(environment, home.path())->Fetch());

  ASSERT_EQ(errors.size(), 21u);  // every path above was reached
  for (const Status& error : errors) {
    EXPECT_FALSE(error.message().empty());
    for (const std::string& secret : secrets) {
      EXPECT_EQ(error.ToString().find(secret), std::string::npos)
          << "'" << secret << "' leaked in: " << error.ToString();
    }
    // Parts of the secrets, too (a message must not quote a body at all).
    EXPECT_EQ(error.ToString().find("ZZ"), std::string::npos) << error.ToString();
  }
}

}  // namespace
}  // namespace trainyard::aws
