// The registry fixture itself: a real docker-registry on loopback, TLS, basic auth, and podman
// reaching it through the fixture's registries.conf with an auth file.
#include "support/registry_fixture.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

namespace trainyard::testing {
namespace {

using namespace std::chrono_literals;

std::string HttpCode(const std::vector<std::string>& curl_arguments) {
  std::vector<std::string> argv = {"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}"};
  argv.insert(argv.end(), curl_arguments.begin(), curl_arguments.end());
  return RunProcess(argv).output;
}

TEST(RegistryFixtureTest, ServesTlsOnLoopbackAndAsksForItsCredentials) {
  RegistryServer* registry = SharedRegistry();
  if (registry == nullptr) GTEST_SKIP() << RegistryUnavailableReason();
  EXPECT_EQ(registry->host().rfind("127.0.0.1:", 0), 0u) << registry->host();
  std::string url = "https://" + registry->host() + "/v2/_catalog";
  EXPECT_EQ(HttpCode({"-k", url}), "401");
  EXPECT_EQ(HttpCode({"-k", "-u", registry->user() + ":wrong", url}), "401");
  EXPECT_EQ(HttpCode({"-k", "-u", registry->user() + ":" + registry->password(), url}), "200");
  // TLS only: plain HTTP gets no registry answer.
  EXPECT_EQ(HttpCode({"-u", registry->user() + ":" + registry->password(),
                      "http://" + registry->host() + "/v2/_catalog"}),
            "400");
}

TEST(RegistryFixtureTest, PodmanReachesItWithTheAuthFileAndIsRefusedWithout) {
  RegistryServer* registry = SharedRegistry();
  if (registry == nullptr) GTEST_SKIP() << RegistryUnavailableReason();
  if (::access("/usr/bin/podman", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/podman";
  TempDir temp;
  std::string image = registry->host() + "/fixture/none:absent";
  // Signed in, TLS accepted through registries.conf: the registry says the tag is unknown.
  ProcessResult known =
      RunProcess({"podman", "pull", "--authfile", registry->AuthFile().string(), image},
                 registry->PodmanEnvironment(), 120s);
  EXPECT_NE(known.exit_code, 0);
  EXPECT_NE(known.output.find("manifest unknown"), std::string::npos) << known.output;
  std::filesystem::path wrong =
      registry->WriteAuthFile(temp.path() / "wrong.json", registry->user(), "not-the-password");
  ProcessResult refused = RunProcess({"podman", "pull", "--authfile", wrong.string(), image},
                                     registry->PodmanEnvironment(), 120s);
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.output.find("unauthorized"), std::string::npos) << refused.output;
}

}  // namespace
}  // namespace trainyard::testing
