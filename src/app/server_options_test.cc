#include "app/server_options.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace trainyard::app
