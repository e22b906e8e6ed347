// The environment and shared-file providers, the INI reading and region resolution.
#include <gtest/gtest.h>

#include <fstream>

#include "aws/environment_provider.h"
#include "aws/json_credentials.h"
#include "aws/profile_file.h"
#include "aws/shared_files_provider.h"
#include "support/test_paths.h"

namespace trainyard::aws {
namespace {

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

TEST(EnvironmentProviderTest, ReadsKeysAndSessionToken) {
  EnvironmentProvider provider({{"AWS_ACCESS_KEY_ID", "AKID"},
                                {"AWS_SECRET_ACCESS_KEY", "SECRET"},
                                {"AWS_SESSION_TOKEN", "TOKEN"}});
  auto found = provider.Fetch();
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->credentials.access_key_id, "AKID");
  EXPECT_EQ(found->credentials.secret_access_key, "SECRET");
  EXPECT_EQ(found->credentials.session_token, "TOKEN");
  EXPECT_EQ(found->source, "environment");
  EXPECT_FALSE(found->expiration.has_value());
}

TEST(EnvironmentProviderTest, FallsBackToSecurityTokenAndReadsExpiration) {
  EnvironmentProvider provider({{"AWS_ACCESS_KEY_ID", "AKID"},
                                {"AWS_SECRET_ACCESS_KEY", "SECRET"},
                                {"AWS_SECURITY_TOKEN", "OLD"},
                                {"AWS_CREDENTIAL_EXPIRATION", "2030-01-02T03:04:05Z"}});
  auto found = provider.Fetch();
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->credentials.session_token, "OLD");
  ASSERT_TRUE(found->expiration.has_value());
  EXPECT_EQ(FormatIso8601(*found->expiration), "2030-01-02T03:04:05.000Z");
}

TEST(EnvironmentProviderTest, SessionTokenWinsOverSecurityToken) {
  EnvironmentProvider provider({{"AWS_ACCESS_KEY_ID", "AKID"},
                                {"AWS_SECRET_ACCESS_KEY", "SECRET"},
                                {"AWS_SESSION_TOKEN", "NEW"},
                                {"AWS_SECURITY_TOKEN", "OLD"}});
  EXPECT_EQ(provider.Fetch()->credentials.session_token, "NEW");
}

TEST(EnvironmentProviderTest, MissingIsNotFoundAndPartialIsInvalid) {
  EXPECT_EQ(EnvironmentProvider({}).Fetch().status().code(), StatusCode::kNotFound);
  EXPECT_EQ(
      EnvironmentProvider(EnvironmentMap{{"AWS_ACCESS_KEY_ID", "AKID"}}).Fetch().status().code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(
      EnvironmentProvider(EnvironmentMap{{"AWS_SECRET_ACCESS_KEY", "S"}}).Fetch().status().code(),
      StatusCode::kInvalidArgument);
}

TEST(Iso8601Test, ParsesTheSpellingsEndpointsUse) {
  EXPECT_EQ(FormatIso8601(*ParseIso8601Utc("2016-02-25T06:03:31Z")), "2016-02-25T06:03:31.000Z");
  EXPECT_EQ(FormatIso8601(*ParseIso8601Utc("2016-02-25T06:03:31.123Z")),
            "2016-02-25T06:03:31.000Z");
  EXPECT_EQ(FormatIso8601(*ParseIso8601Utc("2016-02-25T08:03:31+02:00")),
            "2016-02-25T06:03:31.000Z");
  EXPECT_FALSE(ParseIso8601Utc("2016-02-25 06:03:31").ok());
  EXPECT_FALSE(ParseIso8601Utc("2016-02-25T06:03:31").ok());
  EXPECT_FALSE(ParseIso8601Utc("tomorrow").ok());
}

TEST(ProfileFileTest, ReadsCommentsWhitespaceAndKeyCase) {
  auto sections = ParseProfileFile(
      "# leading comment\n"
      "; another\n"
      "[default]   # trailing comment\n"
      "  AWS_Access_Key_ID   =  AKID  \n"
      "aws_secret_access_key=SECRET\r\n"
      "\n"
      "[profile   dev]\n"
      "region = eu-west-1\n"
      "s3 =\n"
      "  max_concurrent_requests = 2\n"
      "output = json\n",
      "test");
  ASSERT_TRUE(sections.ok()) << sections.status().ToString();
  EXPECT_EQ((*sections)["default"]["aws_access_key_id"], "AKID");
  EXPECT_EQ((*sections)["default"]["aws_secret_access_key"], "SECRET");
  EXPECT_EQ((*sections)["profile dev"]["region"], "eu-west-1");
  EXPECT_EQ((*sections)["profile dev"]["output"], "json");
  EXPECT_EQ((*sections)["profile dev"].count("max_concurrent_requests"), 0u);
}

TEST(ProfileFileTest, MalformedLinesNameTheLineNotItsText) {
  auto sections = ParseProfileFile("[default]\nSUPERSECRETLINE\n", "creds");
  ASSERT_FALSE(sections.ok());
  EXPECT_EQ(sections.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(sections.status().message().find("creds line 2"), std::string::npos);
  EXPECT_EQ(sections.status().message().find("SUPERSECRETLINE"), std::string::npos);
  EXPECT_FALSE(ParseProfileFile("key = value\n", "f").ok());  // outside any section
  EXPECT_FALSE(ParseProfileFile("[default\n", "f").ok());
}

class SharedFilesTest : public ::testing::Test {
 protected:
  std::filesystem::path home() const { return temp_.path(); }
  void WriteCredentials(const std::string& text) { WriteFile(home() / ".aws/credentials", text); }
  void WriteConfig(const std::string& text) { WriteFile(home() / ".aws/config", text); }
  Result<TimedCredentials> Fetch(EnvironmentMap environment = {}) {
    return SharedFilesProvider(std::move(environment), home()).Fetch();
  }

  trainyard::testing::TempDir temp_;
};

TEST_F(SharedFilesTest, DefaultProfileFromCredentialsFile) {
  WriteCredentials(
      "[default]\naws_access_key_id = AKID\naws_secret_access_key = SECRET\n"
      "aws_session_token = TOKEN\n[dev]\naws_access_key_id = DEV\n"
      "aws_secret_access_key = DEVSECRET\n");
  auto found = Fetch();
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->credentials.access_key_id, "AKID");
  EXPECT_EQ(found->credentials.session_token, "TOKEN");
  EXPECT_EQ(found->source, "shared-credentials-file:default");
}

TEST_F(SharedFilesTest, AwsProfileSelectsTheSection) {
  WriteCredentials(
      "[default]\naws_access_key_id = AKID\naws_secret_access_key = SECRET\n"
      "[dev]\naws_access_key_id = DEV\naws_secret_access_key = DEVSECRET\n");
  auto found = Fetch({{"AWS_PROFILE", "dev"}});
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->credentials.access_key_id, "DEV");
  EXPECT_EQ(found->source, "shared-credentials-file:dev");
}

TEST_F(SharedFilesTest, ConfigFileUsesProfilePrefixExceptForDefault) {
  WriteConfig(
      "[default]\naws_access_key_id = CFGDEFAULT\naws_secret_access_key = S1\n"
      "[dev]\naws_access_key_id = WRONG\naws_secret_access_key = S2\n"
      "[profile dev]\naws_access_key_id = CFGDEV\naws_secret_access_key = S3\n");
  EXPECT_EQ(Fetch()->credentials.access_key_id, "CFGDEFAULT");
  auto dev = Fetch({{"AWS_PROFILE", "dev"}});
  ASSERT_TRUE(dev.ok()) << dev.status().ToString();
  EXPECT_EQ(dev->credentials.access_key_id, "CFGDEV");
  EXPECT_EQ(dev->source, "shared-config-file:dev");
}

TEST_F(SharedFilesTest, CredentialsFileWinsOverConfigFile) {
  WriteCredentials("[default]\naws_access_key_id = FROMCREDS\naws_secret_access_key = S\n");
  WriteConfig("[default]\naws_access_key_id = FROMCONFIG\naws_secret_access_key = S\n");
  EXPECT_EQ(Fetch()->credentials.access_key_id, "FROMCREDS");
}

TEST_F(SharedFilesTest, ProfileMissingFromCredentialsFileIsLookedUpInConfig) {
  WriteCredentials("[other]\naws_access_key_id = X\naws_secret_access_key = S\n");
  WriteConfig("[profile dev]\naws_access_key_id = CFGDEV\naws_secret_access_key = S\n");
  EXPECT_EQ(Fetch({{"AWS_PROFILE", "dev"}})->credentials.access_key_id, "CFGDEV");
}

TEST_F(SharedFilesTest, EnvironmentOverridesFileLocations) {
  WriteFile(home() / "elsewhere/creds",
            "[default]\naws_access_key_id = MOVED\naws_secret_access_key = S\n");
  WriteFile(home() / "elsewhere/conf",
            "[profile p]\naws_access_key_id = MOVEDCFG\naws_secret_access_key = S\n");
  EXPECT_EQ(
      Fetch({{"AWS_SHARED_CREDENTIALS_FILE", "~/elsewhere/creds"}})->credentials.access_key_id,
      "MOVED");
  EXPECT_EQ(Fetch({{"AWS_CONFIG_FILE", (home() / "elsewhere/conf").string()}, {"AWS_PROFILE", "p"}})
                ->credentials.access_key_id,
            "MOVEDCFG");
}

TEST_F(SharedFilesTest, MissingFilesAreNotFoundNamingBoth) {
  auto found = Fetch();
  ASSERT_EQ(found.status().code(), StatusCode::kNotFound);
  EXPECT_NE(found.status().message().find("credentials does not exist"), std::string::npos);
  EXPECT_NE(found.status().message().find("config does not exist"), std::string::npos);
}

TEST_F(SharedFilesTest, MissingProfileIsNotFound) {
  WriteCredentials("[default]\naws_access_key_id = AKID\naws_secret_access_key = SECRET\n");
  auto found = Fetch({{"AWS_PROFILE", "nope"}});
  ASSERT_EQ(found.status().code(), StatusCode::kNotFound);
  EXPECT_NE(found.status().message().find("profile 'nope'"), std::string::npos);
}

TEST_F(SharedFilesTest, PartialKeysAndMalformedFileAreInvalid) {
  WriteCredentials("[default]\naws_access_key_id = AKID\n");
  EXPECT_EQ(Fetch().status().code(), StatusCode::kInvalidArgument);
  WriteCredentials("garbage\n");
  EXPECT_EQ(Fetch().status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SharedFilesTest, RegionResolutionOrder) {
  WriteConfig("[default]\nregion = us-west-2\n[profile dev]\nregion = eu-central-1\n");
  EXPECT_EQ(*ResolveRegion({{"AWS_REGION", "a"}, {"AWS_DEFAULT_REGION", "b"}}, home()), "a");
  EXPECT_EQ(*ResolveRegion({{"AWS_DEFAULT_REGION", "b"}}, home()), "b");
  EXPECT_EQ(*ResolveRegion({}, home()), "us-west-2");
  EXPECT_EQ(*ResolveRegion({{"AWS_PROFILE", "dev"}}, home()), "eu-central-1");
}

TEST_F(SharedFilesTest, RegionNotFoundSaysWhereItLooked) {
  auto region = ResolveRegion({}, home());
  ASSERT_EQ(region.status().code(), StatusCode::kNotFound);
  EXPECT_NE(region.status().message().find("AWS_REGION"), std::string::npos);
  EXPECT_NE(region.status().message().find("AWS_DEFAULT_REGION"), std::string::npos);
  EXPECT_NE(region.status().message().find(".aws/config"), std::string::npos);

  WriteConfig("[profile other]\nregion = x\n");
  region = ResolveRegion({{"AWS_PROFILE", "dev"}}, home());
  ASSERT_EQ(region.status().code(), StatusCode::kNotFound);
  EXPECT_NE(region.status().message().find("[profile dev]"), std::string::npos);
}

}  // namespace
}  // namespace trainyard::aws
