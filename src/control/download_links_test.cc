#include "control/download_links.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "support/test_paths.h"

namespace trainyard::control {
namespace {

const TimePoint kNow = TimePoint(std::chrono::seconds(1'800'000'000));

std::string Query(const std::string& query, const std::string& name) {
  size_t start = query.find(name + "=");
  if (start == std::string::npos) return "";
  start += name.size() + 1;
  return query.substr(start, query.find('&', start) - start);
}

TEST(DownloadLinkSignerTest, ASignedLinkOpensOnlyItsArtifactUntilItExpires) {
  DownloadLinkSigner signer(std::string(64, 'k'));
  std::string query = signer.SignQuery("digits-001", "model", kNow + std::chrono::hours(1));
  std::string expires = Query(query, "expires");
  std::string signature = Query(query, "signature");
  EXPECT_EQ(expires, "1800003600");
  EXPECT_EQ(signature.size(), 64u);
  EXPECT_TRUE(signer.Check("digits-001", "model", expires, signature, kNow).ok());

  Status other_artifact = signer.Check("digits-001", "log", expires, signature, kNow);
  EXPECT_EQ(other_artifact.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(signer.Check("digits-002", "model", expires, signature, kNow).code(),
            StatusCode::kPermissionDenied);
  // A later expiry is a different message: the signature no longer matches.
  EXPECT_EQ(signer.Check("digits-001", "model", "1900000000", signature, kNow).code(),
            StatusCode::kPermissionDenied);
  Status expired =
      signer.Check("digits-001", "model", expires, signature, kNow + std::chrono::hours(2));
  EXPECT_EQ(expired.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(expired.message().find("expired"), std::string::npos) << expired.message();
  EXPECT_EQ(signer.Check("digits-001", "model", "soon", signature, kNow).code(),
            StatusCode::kPermissionDenied);
  // Another server's key signs other links.
  DownloadLinkSigner other(std::string(64, 'q'));
  EXPECT_FALSE(other.Check("digits-001", "model", expires, signature, kNow).ok());
}

TEST(LinkKeyTest, MadeOnceWithMode0600AndReadBackAfterwards) {
  testing::TempDir dir;
  auto file = dir.path() / "link-signing.key";
  Result<std::string> made = LoadOrCreateLinkKey(file);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_EQ(made->size(), 64u);
  struct stat info {};
  ASSERT_EQ(::stat(file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  Result<std::string> again = LoadOrCreateLinkKey(file);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *made);
}

}  // namespace
}  // namespace trainyard::control
