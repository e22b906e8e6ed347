// The JWTs of the REST transport: minted as Slurm mints them (a token `scontrol token` printed,
// reproduced from its key), renewed before they expire, and a token file read again when the
// site replaces it. Nothing here needs Slurm.
#include "executor/slurm/slurm_token.h"

#include <gtest/gtest.h>

#include "aws/crypto.h"
#include "common/files.h"
#include "support/test_paths.h"

namespace trainyard::executor {
namespace {
using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

// A key of a test cluster and the token that `scontrol token username=root lifespan=600`
// (Slurm 22.05.8) printed with it at 1796503685.
constexpr char kKeyHex[] = "7b0e541710f82de265a87812fd1eb7ac5ad26eb0d2bee9cc120d2e9ff09d4fd7";
constexpr char kSlurmToken[] =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJleHAiOjE3OTY1MDQyODUsImlhdCI6MTc5NjUwMzY4NSwic3VuIjoicm9vdCJ9."
    "5bxvyZI22VYw5XtSJXur-BVU2hSSOQX9pUHBHdCRezw";

TEST(SlurmJwtTest, MintsTheTokenScontrolMints) {
  std::string key = aws::HexDecode(kKeyHex).value();
  EXPECT_EQ(MintSlurmJwt(key, "root", 1796503685, 600s), kSlurmToken);
  // Another user, another key: another token.
  EXPECT_NE(MintSlurmJwt(key, "alice", 1796503685, 600s), kSlurmToken);
  EXPECT_NE(MintSlurmJwt(key + "x", "root", 1796503685, 600s), kSlurmToken);
}

class SlurmTokenSourceTest : public ::testing::Test {
 protected:
  std::filesystem::path Write(const std::string& name, const std::string& content) {
    auto path = dir_.path() / name;
    EXPECT_TRUE(WriteFileAtomic(path, content).ok());
    return path;
  }
  testing::TempDir dir_;
  Clock::time_point now_ = Clock::time_point(std::chrono::seconds(1796503685));
};

TEST_F(SlurmTokenSourceTest, MintsPerUserAndRenewsAtHalfTheLifespan) {
  auto tokens = SlurmTokenSource::Create({.jwt_key_file = Write("jwt.key", "secret-key"),
                                          .lifespan = 600s,
                                          .now = [this] { return now_; }});
  ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();
  auto first = (*tokens)->Token("alice");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, MintSlurmJwt("secret-key", "alice", 1796503685, 600s));
  EXPECT_EQ(*(*tokens)->Token("bob"), MintSlurmJwt("secret-key", "bob", 1796503685, 600s));
  now_ += 299s;
  EXPECT_EQ(*(*tokens)->Token("alice"), *first);  // still more than half of it left
  now_ += 1s;
  EXPECT_EQ(*(*tokens)->Token("alice"), MintSlurmJwt("secret-key", "alice", 1796503985, 600s));
}

TEST_F(SlurmTokenSourceTest, ReadsTheTokenFileAgainWhenItChanges) {
  auto file = Write("token", "SLURM_JWT=first-token\n");
  auto tokens = SlurmTokenSource::Create({.token_file = file, .token_user = "trainyard"});
  ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();
  EXPECT_EQ(*(*tokens)->Token("trainyard"), "first-token");
  Write("token", "second-token-longer");  // renewed by the site
  EXPECT_EQ(*(*tokens)->Token("trainyard"), "second-token-longer");
  // Only its own user's.
  auto other = (*tokens)->Token("alice");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(other.status().message().find("second-token"), std::string::npos);
}

TEST_F(SlurmTokenSourceTest, SaysWhatIsMissingWithoutTheToken) {
  EXPECT_EQ(SlurmTokenSource::Create({}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SlurmTokenSource::Create({.token_file = "/t", .jwt_key_file = "/k"}).status().code(),
            StatusCode::kInvalidArgument);
  auto no_user = SlurmTokenSource::Create({.token_file = "/t"});
  EXPECT_NE(no_user.status().message().find("slurm_rest_user"), std::string::npos);

  auto missing =
      SlurmTokenSource::Create({.token_file = dir_.path() / "absent", .token_user = "trainyard"});
  ASSERT_TRUE(missing.ok());
  auto token = (*missing)->Token("trainyard");
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(token.status().message().find("absent"), std::string::npos);

  auto empty =
      SlurmTokenSource::Create({.token_file = Write("empty", "\n"), .token_user = "trainyard"});
  ASSERT_TRUE(empty.ok());
  EXPECT_NE((*empty)->Token("trainyard").status().message().find("is empty"), std::string::npos);
}

}  // namespace
}  // namespace trainyard::executor
