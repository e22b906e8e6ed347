// ImagePuller against a fake runtime (a script that plays `image inspect` and `pull` from files
// and counts its pulls): one pull however many jobs ask at once, the pull policies, and the
// failures turned into reasons that name the image. The real registry is in
// tests/container_registry_test.cc.
#include "executor/container/image_puller.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "common/files.h"
#include "support/test_paths.h"

namespace trainyard::executor {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// `image inspect --format F REF`: present when store/<REF with / and : as _> exists.
// `pull REF`: counts itself in pulls, sleeps a while (so that concurrent askers overlap), then
// fails with the text in fail (when there is one) or adds REF to the store.
constexpr char kFakePullRuntime[] = R"SH(#!/bin/sh
dir=$(dirname "$0")
for last in "$@"; do :; done
key=$(echo "$last" | tr '/:@' '___')
case "$1" in
image)
  if [ -f "$dir/store/$key" ]; then echo "id-$key sha256:d1g3st"; exit 0; fi
  echo "Error: $last: image not known" >&2; exit 125 ;;
pull)
  echo "$REGISTRY_AUTH_FILE" >> "$dir/pulls"
  sleep 1
  if [ -f "$dir/fail" ]; then cat "$dir/fail" >&2; exit 125; fi
  mkdir -p "$dir/store"; touch "$dir/store/$key"; echo "id-$key"; exit 0 ;;
esac
echo "unexpected $1" >&2; exit 2
)SH";

class ImagePullerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(temp_.path() / "podman") << kFakePullRuntime;
    ::chmod((temp_.path() / "podman").c_str(), 0755);
    runtime_.runtime_path = temp_.path() / "podman";
    runtime_.environment = {{"PATH", "/usr/bin:/bin"}};
    runtime_.auth_file = temp_.path() / "auth.json";
  }

  int Pulls() {
    auto text = ReadFile(temp_.path() / "pulls");
    return text.ok() ? static_cast<int>(std::count(text->begin(), text->end(), '\n')) : 0;
  }

  void FailPullsWith(const std::string& text) { std::ofstream(temp_.path() / "fail") << text; }

  testing::TempDir temp_;
  ImageRuntime runtime_;
  ImagePuller puller_;
};

TEST_F(ImagePullerTest, ConcurrentJobsWaitForOnePull) {
  const std::string image = "registry.example:5000/team/trainer:v1";
  std::vector<std::thread> jobs;
  std::atomic<int> ready{0};
  std::vector<Result<PresentImage>> results(4, Internal("not run"));
  for (int i = 0; i < 4; ++i) {
    jobs.emplace_back([&, i] {
      results[i] = puller_.Ensure(runtime_, image, PullPolicy::kMissing, nullptr);
      ++ready;
    });
  }
  for (std::thread& job : jobs) job.join();
  EXPECT_EQ(Pulls(), 1);
  EXPECT_EQ(puller_.pulls_started(), 1);
  for (const auto& result : results) {
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->id, "id-registry.example_5000_team_trainer_v1");
    EXPECT_EQ(result->digest_reference, "registry.example:5000/team/trainer@sha256:d1g3st");
    EXPECT_TRUE(result->pulled);
  }
  // The auth file reached the runtime through its environment (the script saw it there).
  auto pulls = ReadFile(temp_.path() / "pulls");
  EXPECT_EQ(pulls.ok() ? *pulls : "", runtime_.auth_file.string() + "\n");

  // Present now: "missing" does not pull again; "always" does.
  auto again = puller_.Ensure(runtime_, image, PullPolicy::kMissing, nullptr);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->pulled);
  EXPECT_EQ(Pulls(), 1);
  ASSERT_TRUE(puller_.Ensure(runtime_, image, PullPolicy::kAlways, nullptr).ok());
  EXPECT_EQ(Pulls(), 2);

  // Known images are answered from memory, until forgotten (a `run` that failed): then the
  // store is asked again, and an image gone from it is pulled again.
  fs::remove_all(temp_.path() / "store");
  EXPECT_TRUE(puller_.Ensure(runtime_, image, PullPolicy::kMissing, nullptr).ok());
  EXPECT_EQ(Pulls(), 2);
  puller_.Forget(runtime_, image);
  auto pulled_again = puller_.Ensure(runtime_, image, PullPolicy::kMissing, nullptr);
  ASSERT_TRUE(pulled_again.ok());
  EXPECT_TRUE(pulled_again->pulled);
  EXPECT_EQ(Pulls(), 3);
}

TEST_F(ImagePullerTest, NeverPullsAndSaysSoForAMissingImage) {
  auto result = puller_.Ensure(runtime_, "registry.example/absent:1", PullPolicy::kNever, nullptr);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(result.status().message().find("registry.example/absent:1"), std::string::npos);
  EXPECT_NE(result.status().message().find("never"), std::string::npos);
  EXPECT_EQ(Pulls(), 0);
}

TEST_F(ImagePullerTest, AWaiterThatIsStoppedStopsWaiting) {
  std::atomic<bool> stop{true};
  auto result = puller_.Ensure(runtime_, "registry.example/slow:1", PullPolicy::kMissing,
                               [&] { return stop.load(); });
  EXPECT_EQ(result.status().code(), StatusCode::kCancelled);
}

TEST_F(ImagePullerTest, FailuresNameTheImageAndWhatToDo) {
  FailPullsWith(
      "Trying to pull 127.0.0.1:5000/team/trainer:nope...\n"
      "Error: initializing source docker://127.0.0.1:5000/team/trainer:nope: reading manifest "
      "nope in 127.0.0.1:5000/team/trainer: manifest unknown: manifest unknown\n");
  auto result =
      puller_.Ensure(runtime_, "127.0.0.1:5000/team/trainer:nope", PullPolicy::kMissing, nullptr);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(result.status().message(),
            "training image not found: 127.0.0.1:5000/team/trainer:nope (its registry has no "
            "such repository or tag)");
}

TEST(ClassifyPullFailureTest, EachKindOfFailureReadsAsWhatToDo) {
  const std::string image = "127.0.0.1:5000/team/trainer:v1";
  Status unauthorized = ClassifyPullFailure(
      image, "Error: initializing source docker://" + image +
                 ": reading manifest v1 in 127.0.0.1:5000/team/trainer: unauthorized: "
                 "authentication required\n");
  EXPECT_EQ(unauthorized.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(unauthorized.message(),
            "unauthorized to pull the training image " + image +
                " (the registry 127.0.0.1:5000 refused the credentials: check its entry in "
                "--container-auth-file)");
  Status unreachable = ClassifyPullFailure(
      image, "Error: initializing source docker://" + image +
                 ": pinging container registry 127.0.0.1:5000: Get "
                 "\"https://127.0.0.1:5000/v2/\": dial tcp 127.0.0.1:5000: connect: connection "
                 "refused\n");
  EXPECT_EQ(unreachable.code(), StatusCode::kUnavailable);
  EXPECT_EQ(unreachable.message(), "registry unreachable for the training image " + image +
                                       " (127.0.0.1:5000: connection refused)");
  Status full = ClassifyPullFailure(
      image,
      "Error: writing blob: storing blob to file \"/var/tmp/storage123\": write "
      "/var/tmp/storage123: no space left on device\n");
  EXPECT_EQ(full.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(full.message().find(image), std::string::npos);
  EXPECT_NE(full.message().find("no space left"), std::string::npos);
  Status other = ClassifyPullFailure(image, "line one\nError: something else entirely\n");
  EXPECT_EQ(other.code(), StatusCode::kInternal);
  EXPECT_EQ(other.message(),
            "could not pull the training image " + image + ": something else entirely");
}

TEST(PullPolicyTest, ParsesTheThreePoliciesAndNamesTheFieldOtherwise) {
  EXPECT_EQ(*ParsePullPolicy("always", "container_pull"), PullPolicy::kAlways);
  EXPECT_EQ(*ParsePullPolicy("missing", "container_pull"), PullPolicy::kMissing);
  EXPECT_EQ(*ParsePullPolicy("never", "container_pull"), PullPolicy::kNever);
  auto wrong = ParsePullPolicy("sometimes", "container_pull");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().message(),
            "field 'container_pull': 'sometimes' is no pull policy (always, missing or never)");
}

TEST(EcrReferenceTest, OnlyTheEcrFormIsMappedToTheConfiguredRegistry) {
  const std::string ecr = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/tl-training-model:latest";
  EXPECT_TRUE(IsEcrReference(ecr));
  EXPECT_EQ(MapEcrReference(ecr, "registry.internal:5000"),
            "registry.internal:5000/tl-training-model:latest");
  EXPECT_EQ(MapEcrReference(ecr, ""), ecr);
  const std::string by_digest = "123456789012.dkr.ecr.us-east-1.amazonaws.com/a/b@sha256:0f";
  EXPECT_EQ(MapEcrReference(by_digest, "127.0.0.1:5000"), "127.0.0.1:5000/a/b@sha256:0f");
  for (const char* other : {"registry.internal:5000/tl-training-model:latest",
                            "12345678901.dkr.ecr.us-east-1.amazonaws.com/short-account:1",
                            "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example/x:1",
                            "123456789012.dkr.ecr.us.east.amazonaws.com/x:1", "trainer:1"}) {
    EXPECT_FALSE(IsEcrReference(other)) << other;
    EXPECT_EQ(MapEcrReference(other, "127.0.0.1:5000"), other);
  }
}

TEST(RepositoryOfTest, DropsTagAndDigestButNotThePort) {
  EXPECT_EQ(RepositoryOf("127.0.0.1:5000/team/trainer:v1"), "127.0.0.1:5000/team/trainer");
  EXPECT_EQ(RepositoryOf("127.0.0.1:5000/team/trainer"), "127.0.0.1:5000/team/trainer");
  EXPECT_EQ(RepositoryOf("host/a@sha256:abc"), "host/a");
  EXPECT_EQ(RepositoryOf("trainer:1"), "trainer");
}

}  // namespace
}  // namespace trainyard::executor
