// RegistryCredentials with a token source the test plays and a clock it moves: the auth file an
// ECR-form image is pulled with (the user's entries plus the token, private, never logged), no
// request while the token lives, a renewal before it expires, one request for concurrent pulls,
// and errors naming the registry. Then the puller handing that file to a fake runtime. ECR's own
// GetAuthorizationToken, signed and checked against botocore's model by a stand-in, is in
// src/app/ecr_token_source_test.cc.
#include "executor/container/registry_credentials.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/files.h"
#include "common/log_capture.h"
#include "executor/container/image_puller.h"
#include "support/test_paths.h"

namespace trainyard::executor {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kEcrHost[] = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
const TimePoint kStart = TimePoint(std::chrono::seconds(1'800'000'000));

// Hands out "token-N" (N counting the fetches) valid for `life` from the test's clock, after
// `delay`, or fails with `failure` when it is set.
class FakeTokenSource : public RegistryTokenSource {
 public:
  explicit FakeTokenSource(std::function<TimePoint()> clock) : clock_(std::move(clock)) {}
  Result<RegistryToken> FetchToken(const std::string& host) override {
    int n = ++fetches;
    {
      std::lock_guard lock(mutex);
      hosts.push_back(host);
    }
    std::this_thread::sleep_for(delay);
    if (!failure.ok()) return failure;
    return RegistryToken{.auth = "token-" + std::to_string(n), .expires_at = clock_() + life};
  }
  std::atomic<int> fetches{0};
  std::mutex mutex;
  std::vector<std::string> hosts;
  std::chrono::milliseconds delay{0};
  std::chrono::seconds life{12h};
  Status failure;

 private:
  std::function<TimePoint()> clock_;
};

class RegistryCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    user_file_ = temp_.path() / "user-auth.json";
    std::ofstream(user_file_) << R"({"auths": {"registry.example:5000": {"auth": "dXNlcjpwdw=="}},
                                     "credHelpers": {"gcr.io": "gcloud"}})";
  }
  RegistryCredentialsOptions Options() {
    return {.user_auth_file = user_file_,
            .directory = temp_.path() / "data" / "registry-auth",
            .ecr_tokens = tokens_,
            .clock = [this] { return now_.load(); }};
  }
  RegistryCredentials Make() { return RegistryCredentials(Options()); }
  nlohmann::json Read(const fs::path& file) {
    auto text = ReadFile(file);
    return text.ok() ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
  }

  testing::TempDir temp_;
  fs::path user_file_;
  std::atomic<TimePoint> now_{kStart};
  std::shared_ptr<FakeTokenSource> tokens_ =
      std::make_shared<FakeTokenSource>([this] { return now_.load(); });
};

TEST_F(RegistryCredentialsTest,
       AnEcrImageIsPulledWithAPrivateFileHoldingTheTokenAndTheUsersEntries) {
  LogCapture log;
  RegistryCredentials credentials = Make();
  const std::string image = std::string(kEcrHost) + "/tl-training-model:latest";
  auto file = credentials.AuthFileFor(image);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(*file, temp_.path() / "data" / "registry-auth" / "config.json");
  nlohmann::json auth = Read(*file);
  EXPECT_EQ(auth["auths"][kEcrHost], nlohmann::json({{"auth", "token-1"}}));
  EXPECT_EQ(auth["auths"]["registry.example:5000"], nlohmann::json({{"auth", "dXNlcjpwdw=="}}));
  EXPECT_EQ(auth["credHelpers"]["gcr.io"], "gcloud") << "the rest of the user's file is kept";
  struct stat file_stat {
  }, dir_stat{};
  ASSERT_EQ(::stat(file->c_str(), &file_stat), 0);
  ASSERT_EQ(::stat(file->parent_path().c_str(), &dir_stat), 0);
  EXPECT_EQ(file_stat.st_mode & 0777, 0600u);
  EXPECT_EQ(dir_stat.st_mode & 0777, 0700u);
  EXPECT_EQ(tokens_->hosts, std::vector<std::string>{kEcrHost});
  EXPECT_THAT(log.Text(), HasSubstr("registry=" + std::string(kEcrHost)));
  EXPECT_THAT(log.Text(), Not(HasSubstr("token-1")));

  // Other images are pulled with the user's own file, and ask for nothing.
  auto other = credentials.AuthFileFor("registry.example:5000/team/trainer:v1");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(*other, user_file_);
  EXPECT_EQ(tokens_->fetches, 1);
  EXPECT_FALSE(credentials.UsesToken("registry.example:5000/team/trainer:v1"));
  EXPECT_TRUE(credentials.UsesToken(image));
}

TEST_F(RegistryCredentialsTest, NoRequestWhileTheTokenLivesAndARenewalBeforeItExpires) {
  RegistryCredentials credentials = Make();
  const std::string image = std::string(kEcrHost) + "/a:1";
  ASSERT_TRUE(credentials.AuthFileFor(image).ok());
  now_ = kStart + 10h;  // a 12-hour token with 2 hours left: as it is
  ASSERT_TRUE(credentials.AuthFileFor(std::string(kEcrHost) + "/b:2").ok());
  EXPECT_EQ(tokens_->fetches, 1);
  now_ = kStart + 11h + 1min;  // under an hour left: renewed
  auto file = credentials.AuthFileFor(image);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(tokens_->fetches, 2);
  EXPECT_EQ(Read(*file)["auths"][kEcrHost]["auth"], "token-2");

  // A short-lived token is renewed with a quarter of its life left (an hour would be always).
  tokens_->life = 20min;
  now_ = kStart + 12h;  // token-2 (from 11:01, 12 h) has over 11 h left: no request
  ASSERT_TRUE(credentials.AuthFileFor(image).ok());
  EXPECT_EQ(tokens_->fetches, 2);
  now_ = kStart + 23h;  // token-2 has 1 minute left: renewed, as token-3 for 20 minutes
  ASSERT_TRUE(credentials.AuthFileFor(image).ok());
  EXPECT_EQ(tokens_->fetches, 3);
  now_ = kStart + 23h + 14min;  // 6 minutes left of 20: kept
  ASSERT_TRUE(credentials.AuthFileFor(image).ok());
  EXPECT_EQ(tokens_->fetches, 3);
  now_ = kStart + 23h + 15min + 1s;  // under 5 minutes (a quarter) left: renewed
  auto renewed = credentials.AuthFileFor(image);
  ASSERT_TRUE(renewed.ok());
  EXPECT_EQ(tokens_->fetches, 4);
  EXPECT_EQ(Read(*renewed)["auths"][kEcrHost]["auth"], "token-4");
}

TEST_F(RegistryCredentialsTest, ConcurrentPullsOfOneRegistryMakeOneRequest) {
  tokens_->delay = 300ms;
  RegistryCredentials credentials = Make();
  std::vector<std::thread> pulls;
  std::vector<Result<fs::path>> files(6, Internal("not run"));
  for (int i = 0; i < 6; ++i) {
    pulls.emplace_back([&, i] {
      files[i] = credentials.AuthFileFor(std::string(kEcrHost) + "/repo-" + std::to_string(i));
    });
  }
  for (std::thread& pull : pulls) pull.join();
  EXPECT_EQ(tokens_->fetches, 1);
  for (const auto& file : files) ASSERT_TRUE(file.ok()) << file.status().ToString();
  // Another registry (another account) has a token of its own, beside the first.
  const std::string other_host = "210987654321.dkr.ecr.us-east-1.amazonaws.com";
  auto file = credentials.AuthFileFor(other_host + "/x:1");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(tokens_->fetches, 2);
  nlohmann::json auth = Read(*file);
  EXPECT_EQ(auth["auths"][kEcrHost]["auth"], "token-1");
  EXPECT_EQ(auth["auths"][other_host]["auth"], "token-2");
}

TEST_F(RegistryCredentialsTest, AFailedFetchNamesTheRegistryAndARenewalFailureKeepsALiveToken) {
  RegistryCredentials credentials = Make();
  const std::string image = std::string(kEcrHost) + "/a:1";
  tokens_->failure = Status(StatusCode::kUnauthenticated,
                            "no AWS credentials found: environment: AWS_ACCESS_KEY_ID not set");
  auto failed = credentials.AuthFileFor(image);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(failed.status().message(),
            "no token for " + std::string(kEcrHost) +
                ": no AWS credentials found: environment: AWS_ACCESS_KEY_ID not set");

  tokens_->failure = Status::Ok();
  ASSERT_TRUE(credentials.AuthFileFor(image).ok());  // token-2, 12 hours
  tokens_->failure = Unavailable("ECR unreachable");
  now_ = kStart + 11h + 30min;  // due, the renewal fails, the token still works
  auto kept = credentials.AuthFileFor(image);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(Read(*kept)["auths"][kEcrHost]["auth"], "token-2");
  now_ = kStart + 12h + 1min;  // expired: the failure is the answer
  auto expired = credentials.AuthFileFor(image);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(expired.status().message(), HasSubstr("ECR unreachable"));
}

TEST_F(RegistryCredentialsTest, WithoutATokenSourceEveryImageUsesTheUsersFile) {
  RegistryCredentials credentials(
      {.user_auth_file = user_file_, .directory = temp_.path() / "registry-auth"});
  auto file = credentials.AuthFileFor(std::string(kEcrHost) + "/a:1");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(*file, user_file_);
  EXPECT_FALSE(fs::exists(temp_.path() / "registry-auth"));
}

// `pull`: keeps a copy of the auth file it was given (REGISTRY_AUTH_FILE) and adds the image to
// the store; `image inspect`: found when pulled.
constexpr char kFakeLoginRuntime[] = R"SH(#!/bin/sh
dir=$(dirname "$0")
for last in "$@"; do :; done
key=$(echo "$last" | tr '/:@' '___')
case "$1" in
image)
  if [ -f "$dir/store/$key" ]; then echo "id-$key sha256:d1g3st"; exit 0; fi
  echo "Error: $last: image not known" >&2; exit 125 ;;
pull)
  echo "$REGISTRY_AUTH_FILE" >> "$dir/pulls"
  cp "$REGISTRY_AUTH_FILE" "$dir/auth-seen"
  if [ -f "$dir/fail" ]; then cat "$dir/fail" >&2; exit 125; fi
  mkdir -p "$dir/store"; touch "$dir/store/$key"; echo "id-$key"; exit 0 ;;
esac
exit 2
)SH";

TEST_F(RegistryCredentialsTest, ThePullerHandsTheRuntimeTheFileWithTheTokenOnlyWhenItPulls) {
  std::ofstream(temp_.path() / "podman") << kFakeLoginRuntime;
  ::chmod((temp_.path() / "podman").c_str(), 0755);
  ImageRuntime runtime{.runtime_path = temp_.path() / "podman",
                       .environment = {{"PATH", "/usr/bin:/bin"}},
                       .auth_file = user_file_,
                       .credentials = std::make_shared<RegistryCredentials>(Options())};
  ImagePuller puller;
  const std::string image = std::string(kEcrHost) + "/tl-training-model:latest";
  auto pulled = puller.Ensure(runtime, image, PullPolicy::kMissing, nullptr);
  ASSERT_TRUE(pulled.ok()) << pulled.status().ToString();
  EXPECT_TRUE(pulled->pulled);
  EXPECT_EQ(Read(temp_.path() / "auth-seen")["auths"][kEcrHost]["auth"], "token-1");
  EXPECT_EQ(*ReadFile(temp_.path() / "pulls"), runtime.credentials->token_file().string() + "\n");
  // Other images get the user's file as it is.
  ASSERT_TRUE(
      puller.Ensure(runtime, "registry.example:5000/t:1", PullPolicy::kMissing, nullptr).ok());
  EXPECT_EQ(Read(temp_.path() / "auth-seen"), Read(user_file_));

  // An image already here needs no token; one that cannot have one fails naming it, unpulled.
  puller.Forget(runtime, image);
  tokens_->failure =
      Status(StatusCode::kPermissionDenied,
             "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken: "
             "AccessDeniedException: not authorized to perform ecr:GetAuthorizationToken");
  ASSERT_TRUE(puller.Ensure(runtime, image, PullPolicy::kMissing, nullptr).ok());
  EXPECT_EQ(tokens_->fetches, 1);
  const std::string missing = std::string(kEcrHost) + "/other:1";
  now_ = kStart + 13h;  // the token expired: a fetch is due, and refused
  auto refused = puller.Ensure(runtime, missing, PullPolicy::kMissing, nullptr);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(refused.status().message(),
            "unauthorized to pull the training image " + missing + " (no token for " +
                std::string(kEcrHost) +
                ": AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken: "
                "AccessDeniedException: not authorized to perform ecr:GetAuthorizationToken)");
  tokens_->failure = Unavailable("unreachable");
  auto unreachable = puller.Ensure(runtime, missing, PullPolicy::kMissing, nullptr);
  EXPECT_EQ(unreachable.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(unreachable.status().message(),
              HasSubstr("registry unreachable for the training image " + missing));
  EXPECT_EQ(puller.pulls_started(), 2);

  // A token the registry refuses: the reason points at the server's AWS identity, not at the
  // user's auth file.
  tokens_->failure = Status::Ok();
  std::ofstream(temp_.path() / "fail")
      << "Error: initializing source docker://" << missing
      << ": reading manifest 1 in ...: denied: Your authorization token has expired.\n";
  auto refused_token = puller.Ensure(runtime, missing, PullPolicy::kMissing, nullptr);
  ASSERT_FALSE(refused_token.ok());
  EXPECT_EQ(refused_token.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(refused_token.status().message(),
            "unauthorized to pull the training image " + missing + " (ECR " +
                std::string(kEcrHost) +
                " refused the token: the server's AWS identity needs ecr:BatchGetImage and "
                "ecr:GetDownloadUrlForLayer on the repository)");
}

}  // namespace
}  // namespace trainyard::executor
