#include "common/secret_mask.h"

#include <gtest/gtest.h>

#include "common/files.h"
#include "support/test_paths.h"

namespace trainyard {
namespace {

TEST(SecretMaskTest, ReplacesEverySecretAndSkipsShortValues) {
  SecretMask mask({"admin-token-0123456789", "s3-secret-abcdef", "short", ""});
  EXPECT_EQ(mask.size(), 2u);
  EXPECT_EQ(mask.Apply("token=admin-token-0123456789 key=s3-secret-abcdefs3-secret-abcdef end"),
            "token=**** key=******** end");
  EXPECT_EQ(mask.Apply("a short line"), "a short line");
  EXPECT_EQ(mask.Apply(""), "");
  EXPECT_EQ(SecretMask().Apply("admin-token-0123456789"), "admin-token-0123456789");
}

TEST(SecretMaskTest, ALongerSecretGoesFirst) {
  SecretMask mask({"12345678", "abc-12345678-xyz"});
  EXPECT_EQ(mask.Apply("abc-12345678-xyz and 12345678"), "**** and ****");
}

TEST(SecretMaskTest, TakesTheSecretsOfTheEnvironment) {
  SecretMask mask = SecretMask::FromEnvironment({{"TRAINYARD_TOKEN", "admin-token-1234"},
                                                 {"AWS_SECRET_ACCESS_KEY", "aws-secret-5678"},
                                                 {"AWS_REGION", "eu-central-1"},
                                                 {"PATH", "/usr/local/bin:/usr/bin"}},
                                                {"from-config-9999"});
  EXPECT_EQ(mask.size(), 3u);
  EXPECT_EQ(mask.Apply("admin-token-1234 aws-secret-5678 from-config-9999 eu-central-1 "
                       "/usr/local/bin:/usr/bin"),
            "**** **** **** eu-central-1 /usr/local/bin:/usr/bin");
}

TEST(SecretMaskTest, MasksAFileInPlace) {
  testing::TempDir dir;
  SecretMask mask({"admin-token-1234"});
  std::filesystem::path file = dir.path() / "training.log";
  ASSERT_TRUE(WriteFileAtomic(file, "one\nadmin-token-1234 leaked\n\nlast admin-token-1234").ok());
  ASSERT_TRUE(mask.ApplyToFile(file).ok());
  EXPECT_EQ(*ReadFile(file), "one\n**** leaked\n\nlast ****");
  ASSERT_TRUE(WriteFileAtomic(file, "clean\n").ok());
  ASSERT_TRUE(mask.ApplyToFile(file).ok());
  EXPECT_EQ(*ReadFile(file), "clean\n");
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "training.log.masking"));
  EXPECT_EQ(mask.ApplyToFile(dir.path() / "absent").code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace trainyard
