// S3ReadOnlyView: its key reads the store's objects under the view's prefix by presigned GET and
// HEAD, and nothing else; the clients' key, and no key at all, reach nothing more than without
// the view.
#include <curl/curl.h>

#include "aws/presigned_url.h"
#include "server/s3/s3_api.h"
#include "server/s3/s3_api_fixture.h"

namespace trainyard::server {
namespace {

using std::chrono::system_clock;

constexpr char kViewKeyId[] = "TYVIEWTESTKEY0000000";
constexpr char kViewSecret[] = "view-secret-that-no-client-holds-0000000";

struct Answer {
  long status = 0;
  std::string body;
};

Answer Send(const std::string& method, const std::string& url) {
  Answer answer;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);  // "..", as a hostile client sends it
  if (method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "replaced");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 8L);
  }
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t count, void* target) {
        static_cast<std::string*>(target)->append(data, size * count);
        return size * count;
      });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer.body);
  if (curl_easy_perform(curl) == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.status);
  }
  curl_easy_cleanup(curl);
  return answer;
}

class S3ReadOnlyViewTest : public S3ApiTest {
 protected:
  void SetUp() override {
    S3ApiTest::SetUp();
    S3ApiOptions options;
    options.objects = store_.get();
    options.secret_by_access_key_id = {{kKeyId, kSecret}};
    options.read_only_view =
        S3ReadOnlyView{.access_key_id = kViewKeyId, .secret_access_key = kViewSecret};
    api_ = std::make_unique<S3Api>(options);  // no request is in flight yet
    std::istringstream data("1,2\n");
    ASSERT_TRUE(store_->Put("datasets/ds-1/train.csv", data, 4).ok());
    std::istringstream other("secret output");
    ASSERT_TRUE(store_->Put("outputs/job-1/output/model.tar.gz", other, 13).ok());
  }

  std::string Presign(const std::string& bucket, const std::string& key,
                      const std::string& method = "GET",
                      aws::Credentials credentials = {kViewKeyId, kViewSecret, ""}) {
    auto url = aws::PresignObjectUrl({.endpoint = client_->endpoint(),
                                      .bucket = bucket,
                                      .key = key,
                                      .method = method,
                                      .signed_at = system_clock::now(),
                                      .expires = std::chrono::seconds(60)},
                                     credentials);
    EXPECT_TRUE(url.ok()) << url.status().ToString();
    return url.ok() ? *url : "";
  }
};

TEST_F(S3ReadOnlyViewTest, ReadsADatasetByPresignedGetAndHead) {
  Answer got = Send("GET", Presign("trainyard-datasets", "ds-1/train.csv"));
  EXPECT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.body, "1,2\n");
  EXPECT_EQ(Send("HEAD", Presign("trainyard-datasets", "ds-1/train.csv", "HEAD")).status, 200);
  Answer missing = Send("GET", Presign("trainyard-datasets", "ds-1/gone.csv"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("<Code>NoSuchKey</Code>"), std::string::npos) << missing.body;
  EXPECT_EQ(missing.body.find(kViewSecret), std::string::npos);
}

TEST_F(S3ReadOnlyViewTest, ItsKeyReachesNothingElse) {
  // Another method, even presigned: the dataset stays as it was.
  Answer put = Send("PUT", Presign("trainyard-datasets", "ds-1/train.csv", "PUT"));
  EXPECT_EQ(put.status, 403) << put.body;
  EXPECT_NE(put.body.find("<Code>AccessDenied</Code>"), std::string::npos) << put.body;
  EXPECT_EQ(Send("DELETE", Presign("trainyard-datasets", "ds-1/train.csv", "DELETE")).status, 403);
  std::ostringstream kept;
  ASSERT_TRUE(store_->Get("datasets/ds-1/train.csv", kept).ok());
  EXPECT_EQ(kept.str(), "1,2\n");
  // No escape from the prefix, no other bucket, no listing, no subresource.
  Answer escaped =
      Send("GET", Presign("trainyard-datasets", "../outputs/job-1/output/model.tar.gz"));
  EXPECT_EQ(escaped.status, 400) << escaped.body;
  EXPECT_EQ(escaped.body.find("secret output"), std::string::npos);
  MakeBucket("jobs");
  ASSERT_EQ(client_->Put("/jobs/model.tar.gz", "model").status, 200);
  EXPECT_EQ(Send("GET", Presign("jobs", "model.tar.gz")).status, 403);
  EXPECT_EQ(Send("GET", Presign("trainyard-datasets", "ds-1/train.csv") + "&tagging=").status, 403);
  // Signed in the Authorization header rather than as a URL: refused.
  S3TestRequest header_signed;
  header_signed.path = "/trainyard-datasets/ds-1/train.csv";
  header_signed.credentials = aws::Credentials{kViewKeyId, kViewSecret, ""};
  ExpectError(client_->Send(header_signed), 403, "AccessDenied");
  header_signed.path = "/trainyard-datasets";
  ExpectError(client_->Send(header_signed), 403, "AccessDenied");
}

TEST_F(S3ReadOnlyViewTest, OtherKeysSeeNoView) {
  // The clients' key: "trainyard-datasets" is a bucket like any other (none here), and the
  // store's datasets are out of its reach as they were.
  ExpectError(client_->Get("/trainyard-datasets/ds-1/train.csv"), 404, "NoSuchBucket");
  Answer presigned =
      Send("GET", Presign("trainyard-datasets", "ds-1/train.csv", "GET", {kKeyId, kSecret, ""}));
  EXPECT_EQ(presigned.status, 404) << presigned.body;
  // No key: nothing.
  S3TestRequest unsigned_request;
  unsigned_request.path = "/trainyard-datasets/ds-1/train.csv";
  unsigned_request.sign = false;
  ExpectError(client_->Send(unsigned_request), 403, "AccessDenied");
  // A forged signature of the view's key.
  std::string forged = Presign("trainyard-datasets", "ds-1/train.csv", "GET",
                               {kViewKeyId, "not-the-view-secret", ""});
  EXPECT_EQ(Send("GET", forged).status, 403);
}

}  // namespace
}  // namespace trainyard::server
