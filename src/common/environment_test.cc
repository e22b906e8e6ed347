#include "common/environment.h"

#include <gtest/gtest.h>

namespace trainyard {
namespace {

TEST(EnvironmentTest, ParsesAndFormatsKeyValuePairs) {
  char a[] = "A=1", b[] = "URL=http://x/?q=1", c[] = "NO_EQUALS", d[] = "EMPTY=";
  char* entries[] = {a, b, c, d, nullptr};
  EnvironmentMap environment = ParseEnvironment(entries);
  EXPECT_EQ(environment, (EnvironmentMap{{"A", "1"}, {"URL", "http://x/?q=1"}, {"EMPTY", ""}}));
  EXPECT_EQ(FormatEnvironment(environment),
            (std::vector<std::string>{"A=1", "EMPTY=", "URL=http://x/?q=1"}));
  EXPECT_TRUE(ParseEnvironment(nullptr).empty());
}

TEST(JobHostEnvironmentTest, LetsThroughTheAllowlistOnly) {
  EnvironmentMap host = {{"PATH", "/usr/bin"},
                         {"HOME", "/home/ml"},
                         {"USER", "ml"},
                         {"LANG", "C.UTF-8"},
                         {"LC_NUMERIC", "de_DE.UTF-8"},
                         {"TZ", "UTC"},
                         {"TMPDIR", "/scratch"},
                         {"https_proxy", "http://proxy:3128"},
                         {"NO_PROXY", "localhost"},
                         {"CUDA_VISIBLE_DEVICES", "0,1"},
                         {"NVIDIA_DRIVER_CAPABILITIES", "compute"},
                         {"LD_LIBRARY_PATH", "/usr/local/cuda/lib64"},
                         // Never:
                         {"TRAINYARD_TOKEN", "admin-token-123"},
                         {"TRAINYARD_S3_SECRET_ACCESS_KEY", "s3-secret-456"},
                         {"TRAINYARD_DATA_DIR", "/srv/trainyard"},
                         {"AWS_ACCESS_KEY_ID", "AKIA0000"},
                         {"AWS_SECRET_ACCESS_KEY", "aws-secret-789"},
                         {"AWS_SESSION_TOKEN", "aws-session"},
                         {"AWS_REGION", "eu-west-1"},
                         {"NVIDIA_API_KEY", "nvapi-secret"},
                         {"CUDA_TOKEN", "cuda-token"},
                         {"GITHUB_TOKEN", "ghp_x"},
                         {"DATABASE_PASSWORD", "hunter22"},
                         {"PYTHONPATH", "/opt/server/lib"},
                         {"XDG_RUNTIME_DIR", "/run/user/1000"},
                         {"SSH_AUTH_SOCK", "/tmp/ssh-agent"},
                         {"OTHER", "x"}};
  EXPECT_EQ(JobHostEnvironment(host), (EnvironmentMap{{"CUDA_VISIBLE_DEVICES", "0,1"},
                                                      {"HOME", "/home/ml"},
                                                      {"LANG", "C.UTF-8"},
                                                      {"LC_NUMERIC", "de_DE.UTF-8"},
                                                      {"LD_LIBRARY_PATH", "/usr/local/cuda/lib64"},
                                                      {"NO_PROXY", "localhost"},
                                                      {"NVIDIA_DRIVER_CAPABILITIES", "compute"},
                                                      {"PATH", "/usr/bin"},
                                                      {"TMPDIR", "/scratch"},
                                                      {"TZ", "UTC"},
                                                      {"USER", "ml"},
                                                      {"https_proxy", "http://proxy:3128"}}));
}

TEST(JobHostEnvironmentTest, PassesThroughWhatTheOperatorNamesButNeverACredential) {
  EnvironmentMap host = {{"PATH", "/usr/bin"},      {"PYTHONPATH", "/opt/lib"},
                         {"WANDB_MODE", "offline"}, {"TRAINYARD_TOKEN", "admin-token-123"},
                         {"AWS_PROFILE", "prod"},   {"HF_TOKEN", "hf_secret"}};
  EXPECT_EQ(JobHostEnvironment(host, {"PYTHONPATH", "WANDB_MODE", "ABSENT", "TRAINYARD_TOKEN",
                                      "AWS_PROFILE", "HF_TOKEN"}),
            (EnvironmentMap{
                {"PATH", "/usr/bin"}, {"PYTHONPATH", "/opt/lib"}, {"WANDB_MODE", "offline"}}));
  EXPECT_TRUE(CheckJobPassthroughName("PYTHONPATH").ok());
  EXPECT_TRUE(CheckJobPassthroughName("wandb_mode").ok());
  for (const char* refused : {"TRAINYARD_TOKEN", "TRAINYARD_ANYTHING", "AWS_PROFILE", "HF_TOKEN",
                              "MY_SECRET", "DB_PASSWORD", "OPENAI_API_KEY",
                              "GOOGLE_APPLICATION_CREDENTIALS", "", "1ABC", "A-B", "A=B"}) {
    Status status = CheckJobPassthroughName(refused);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << refused;
  }
}

TEST(JobHostEnvironmentTest, SecretNamesAreThoseWhoseValueIsASecret) {
  for (const char* name : {"TRAINYARD_TOKEN", "TRAINYARD_S3_SECRET_ACCESS_KEY",
                           "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID",
                           "github_token", "PGPASSWORD", "SSH_PRIVATE_KEY", "X_API_KEY"}) {
    EXPECT_TRUE(IsSecretName(name)) << name;
  }
  for (const char* name : {"AWS_REGION", "PATH", "AWS_WEB_IDENTITY_TOKEN_FILE",
                           "AWS_SHARED_CREDENTIALS_FILE", "TOKENIZERS_PARALLELISM_DIR", "HOME"}) {
    EXPECT_FALSE(IsSecretName(name)) << name;
  }
}

}  // namespace
}  // namespace trainyard
