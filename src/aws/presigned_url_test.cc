#include "aws/presigned_url.h"

#include <gtest/gtest.h>

namespace trainyard::aws {
namespace {

PresignedObject Object() {
  return {.endpoint = "http://10.0.0.5:9000",
          .bucket = "trainyard-staging",
          .key = "jobs/j 1/in/input/data/train/a+b.csv",
          .method = "PUT",
          .signed_at = TimePoint(std::chrono::seconds(1'765'000'000)),
          .expires = std::chrono::seconds(3600)};
}

TEST(PresignedUrlTest, PathStyleUrlWithTheKeyEncodedOnce) {
  auto url = PresignObjectUrl(Object(), {"AKIDEXAMPLE", "secret", ""});
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_TRUE(url->starts_with(
      "http://10.0.0.5:9000/trainyard-staging/jobs/j%201/in/input/data/train/a%2Bb.csv?"))
      << *url;
  EXPECT_NE(url->find("X-Amz-Expires=3600"), std::string::npos) << *url;
  EXPECT_NE(url->find("X-Amz-Credential=AKIDEXAMPLE%2F"), std::string::npos) << *url;
  EXPECT_NE(url->find("X-Amz-Signature="), std::string::npos) << *url;
  EXPECT_EQ(url->find("secret"), std::string::npos) << *url;
  // Another method is another signature.
  PresignedObject get = Object();
  get.method = "GET";
  EXPECT_NE(*PresignObjectUrl(get, {"AKIDEXAMPLE", "secret", ""}), *url);
}

TEST(PresignedUrlTest, RefusesWhatItCannotSignNamingTheField) {
  auto refused = [](PresignedObject object) {
    auto url = PresignObjectUrl(object, {"AKIDEXAMPLE", "secret", ""});
    EXPECT_EQ(url.status().code(), StatusCode::kInvalidArgument);
    return url.status().message();
  };
  PresignedObject object = Object();
  object.endpoint = "10.0.0.5:9000";
  EXPECT_NE(refused(object).find("endpoint '10.0.0.5:9000'"), std::string::npos);
  object.endpoint = "http://10.0.0.5:9000/prefix";
  EXPECT_NE(refused(object).find("without a path"), std::string::npos);
  object = Object();
  object.key = "";
  EXPECT_EQ(refused(object), "key: empty");
  object = Object();
  object.expires = std::chrono::hours(24 * 8);
  EXPECT_NE(refused(object).find("X-Amz-Expires"), std::string::npos);
}

}  // namespace
}  // namespace trainyard::aws
