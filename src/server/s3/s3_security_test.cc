// What S3Api refuses: unsigned, wrongly signed, skewed or expired requests, payloads that do
// not match their declared hash, hostile keys, and uploads cut short by the client. Each
// refusal must leave nothing behind in the store.
#include <curl/curl.h>

#include <thread>

#include "aws/crypto.h"
#include "server/s3/s3_api.h"
#include "server/s3/s3_api_fixture.h"

namespace trainyard::server {
namespace {

using std::chrono::system_clock;

std::string FetchUrl(const std::string& url, long* status) {
  std::string body;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t count, void* target) {
        static_cast<std::string*>(target)->append(data, size * count);
        return size * count;
      });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  *status = 0;
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
  curl_easy_cleanup(curl);
  return body;
}

TEST_F(S3ApiTest, RefusesBadSignaturesKeysAndClocks) {
  MakeBucket("sec");
  S3TestRequest request;
  request.path = "/sec";
  request.sign = false;
  ExpectError(client_->Send(request), 403, "AccessDenied");

  request.sign = true;
  request.credentials = aws::Credentials{"AKIDUNKNOWN", kSecret, ""};
  S3TestResponse unknown = client_->Send(request);
  ExpectError(unknown, 403, "InvalidAccessKeyId");
  EXPECT_NE(unknown.body.find("AKIDUNKNOWN"), std::string::npos);

  request.credentials = aws::Credentials{kKeyId, "not-the-secret", ""};
  ExpectError(client_->Send(request), 403, "SignatureDoesNotMatch");

  request.credentials.reset();
  request.signing_time = system_clock::now() - std::chrono::minutes(20);
  ExpectError(client_->Send(request), 403, "RequestTimeTooSkewed");
  request.signing_time = system_clock::now() + std::chrono::minutes(20);
  ExpectError(client_->Send(request), 403, "RequestTimeTooSkewed");
  request.signing_time.reset();

  request.sign = false;
  request.headers = {{"Authorization", "AWS4-HMAC-SHA256 Credential=" + std::string(kKeyId) +
                                           "/20260101/us-east-1/s3, SignedHeaders=host, "
                                           "Signature=00"},
                     {"x-amz-content-sha256", "UNSIGNED-PAYLOAD"}};
  ExpectError(client_->Send(request), 400, "AuthorizationHeaderMalformed");
  request.headers["Authorization"] = "AWS " + std::string(kKeyId) + ":c2lnbmF0dXJl";
  ExpectError(client_->Send(request), 400, "InvalidRequest");

  // Unsupported features are named, not mistaken for plain requests.
  S3TestResponse acl = client_->Get("/sec", {{"acl", ""}});
  ExpectError(acl, 501, "NotImplemented");
  EXPECT_NE(acl.Xml("Message").find("?acl"), std::string::npos);
}

TEST_F(S3ApiTest, PresignedUrlsWorkUntilTheyExpire) {
  MakeBucket("pre");
  ASSERT_EQ(client_->Put("/pre/report.txt", "presigned body").status, 200);
  long status = 0;
  std::string body = FetchUrl(
      client_->PresignGet("/pre/report.txt", system_clock::now(), std::chrono::seconds(60)),
      &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body, "presigned body");
  body =
      FetchUrl(client_->PresignGet("/pre/report.txt", system_clock::now() - std::chrono::hours(2),
                                   std::chrono::seconds(3600)),
               &status);
  EXPECT_EQ(status, 403);
  EXPECT_NE(body.find("<Code>AccessDenied</Code>"), std::string::npos);
  EXPECT_NE(body.find("expired"), std::string::npos);
  std::string tampered =
      client_->PresignGet("/pre/report.txt", system_clock::now(), std::chrono::seconds(60));
  tampered.replace(tampered.find("X-Amz-Expires=60"), 16, "X-Amz-Expires=61");
  FetchUrl(tampered, &status);
  EXPECT_EQ(status, 403);
}

TEST_F(S3ApiTest, PayloadChecksLeaveNothingStored) {
  MakeBucket("pay");
  S3TestRequest put;
  put.method = "PUT";
  put.path = "/pay/object";
  put.body = "the real body";
  put.payload_sha256 = aws::Sha256Hex("another body");
  ExpectError(client_->Send(put), 400, "XAmzContentSHA256Mismatch");
  EXPECT_EQ(client_->Head("/pay/object").status, 404);

  put.payload_sha256 = "UNSIGNED-PAYLOAD";
  EXPECT_EQ(client_->Send(put).status, 200);

  put.path = "/pay/chunked";
  put.chunked = true;
  ExpectError(client_->Send(put), 411, "MissingContentLength");
  put.chunked = false;
  put.payload_sha256 = "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD";
  S3TestResponse streaming = client_->Send(put);
  ExpectError(streaming, 501, "NotImplemented");
  EXPECT_NE(streaming.Xml("Message").find("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"),
            std::string::npos);
  EXPECT_EQ(client_->Head("/pay/chunked").status, 404);
}

TEST_F(S3ApiTest, AwsChunkedBodiesAreDecodedAndChecked) {
  MakeBucket("chunks");
  std::string data;
  for (int i = 0; i < 20000; ++i) data += static_cast<char>('a' + i % 26);
  const std::string signed_mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
  const std::string trailer_mode = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
  S3TestResponse put = client_->PutAwsChunked("/chunks/signed", data, 8192, signed_mode, false);
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(client_->Get("/chunks/signed").body, data);
  put = client_->PutAwsChunked("/chunks/trailer", data, 8192, trailer_mode, false);
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(client_->Get("/chunks/trailer").body, data);

  ExpectError(client_->PutAwsChunked("/chunks/bad-signature", data, 8192, signed_mode, true), 403,
              "SignatureDoesNotMatch");
  ExpectError(client_->PutAwsChunked("/chunks/bad-checksum", data, 8192, trailer_mode, true), 400,
              "BadDigest");
  EXPECT_EQ(client_->Head("/chunks/bad-signature").status, 404);
  EXPECT_EQ(client_->Head("/chunks/bad-checksum").status, 404);
}

TEST_F(S3ApiTest, HostileKeysNeverReachTheStore) {
  MakeBucket("keys");
  for (const char* key : {"a/../../x", "a//b", "./a", "a/..", "..%2F..%2Fetc"}) {
    S3TestResponse refused = client_->Put(std::string("/keys/") + key, "x");
    ExpectError(refused, 400, "InvalidArgument");
    EXPECT_NE(refused.Xml("Message").find("key"), std::string::npos) << refused.body;
  }
  // An encoded NUL is refused by the HTTP layer before any handler runs.
  EXPECT_EQ(client_->Put("/keys/a%00b", "x").status, 400);
  ExpectError(client_->Put("/keys/" + std::string(1100, 'k'), "x"), 400, "KeyTooLongError");
  // Within S3's 1024 bytes, but not once the store's "s3/objects/keys/" prefix is added.
  std::string long_key;
  while (long_key.size() < 1010) long_key += "abcdefghi/";
  long_key.pop_back();
  ExpectError(client_->Put("/keys/" + long_key, "x"), 400, "KeyTooLongError");
  EXPECT_EQ(StoreKeys("s3/objects/"), std::vector<std::string>{});
  EXPECT_FALSE(std::filesystem::exists(temp_.path() / "x"));
  EXPECT_FALSE(std::filesystem::exists(temp_.path() / "store" / "x"));
}

TEST_F(S3ApiTest, AClientThatHangsUpMidUploadLeavesNothing) {
  MakeBucket("cut");
  client_->PutAndHangUp("/cut/object", {}, 1 << 20, std::string(1000, 'x'));
  S3TestRequest create;
  create.method = "POST";
  create.path = "/cut/parts";
  create.query = {{"uploads", ""}};
  std::string id = client_->Send(create).Xml("UploadId");
  ASSERT_FALSE(id.empty());
  client_->PutAndHangUp("/cut/parts", {{"partNumber", "1"}, {"uploadId", id}}, 1 << 20,
                        std::string(5000, 'y'));
  // The server notices the hang-up at once (the socket closes); wait until its temp files go.
  auto temp_files = [&] {
    size_t count = 0;
    std::error_code ignored;
    for (auto it =
             std::filesystem::recursive_directory_iterator(temp_.path() / "store" / "tmp", ignored);
         it != std::filesystem::recursive_directory_iterator(); ++it) {
      ++count;
    }
    return count;
  };
  for (int i = 0; i < 200 && temp_files() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(temp_files(), 0u);
  EXPECT_EQ(client_->Head("/cut/object").status, 404);
  S3TestResponse parts = client_->Get("/cut/parts", {{"uploadId", id}});
  EXPECT_EQ(parts.status, 200);
  EXPECT_EQ(parts.body.find("<Part>"), std::string::npos) << parts.body;
  EXPECT_EQ(StoreKeys("s3/objects/"), std::vector<std::string>{});
}

}  // namespace
}  // namespace trainyard::server
