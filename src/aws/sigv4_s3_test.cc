// The S3 worked examples of the S3 API reference (signatures quoted in testdata/sigv4/README.txt):
// S3's rules differ from the generic suites (path signed as sent, x-amz-content-sha256 signed).
#include <gtest/gtest.h>

#include "aws/crypto.h"
#include "aws/sigv4.h"
#include "aws/test_request.h"

namespace trainyard::aws {
namespace {
using testing::FindHeader;

constexpr char kEmptySha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

SigningParams S3Params() {
  SigningParams params;
  params.credentials = {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
  params.region = "us-east-1";
  params.service = "s3";
  params.time = *testing::ParseUtcTimestamp("20130524T000000Z");
  params.s3_rules = true;
  return params;
}

HttpRequestToSign S3Request(std::string method, std::string path, std::string payload_sha256) {
  HttpRequestToSign request;
  request.method = std::move(method);
  request.path = std::move(path);
  request.headers = {{"Host", "examplebucket.s3.amazonaws.com"}};
  request.payload_sha256_hex = std::move(payload_sha256);
  return request;
}

std::string AuthorizationOf(const HttpRequestToSign& request) {
  Result<SignedRequest> signed_request = SignWithHeaders(request, S3Params());
  EXPECT_TRUE(signed_request.ok()) << signed_request.status().ToString();
  if (!signed_request.ok()) return "";
  return FindHeader(signed_request->headers_to_add, "Authorization").value_or("");
}

std::string Expected(const std::string& signed_headers, const std::string& signature) {
  return "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
         "SignedHeaders=" +
         signed_headers + ", Signature=" + signature;
}

TEST(SigV4S3Test, GetObjectWithRange) {
  HttpRequestToSign request = S3Request("GET", "/test.txt", kEmptySha256);
  request.headers.emplace_back("Range", "bytes=0-9");
  EXPECT_EQ(AuthorizationOf(request),
            Expected("host;range;x-amz-content-sha256;x-amz-date",
                     "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"));
}

TEST(SigV4S3Test, PutObjectKeyIsEncodedOnlyOnce) {
  std::string body = "Welcome to Amazon S3.";
  ASSERT_EQ(Sha256Hex(body), "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  HttpRequestToSign request = S3Request("PUT", "/test%24file.text", Sha256Hex(body));
  request.headers.emplace_back("Date", "Fri, 24 May 2013 00:00:00 GMT");
  request.headers.emplace_back("x-amz-storage-class", "REDUCED_REDUNDANCY");
  EXPECT_EQ(AuthorizationOf(request),
            Expected("date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
                     "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"));
}

TEST(SigV4S3Test, GetBucketLifecycleHasEmptyQueryValue) {
  HttpRequestToSign request = S3Request("GET", "/", kEmptySha256);
  request.query = {{"lifecycle", ""}};
  EXPECT_EQ(AuthorizationOf(request),
            Expected("host;x-amz-content-sha256;x-amz-date",
                     "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"));
}

TEST(SigV4S3Test, ListObjectsSortsQuery) {
  HttpRequestToSign request = S3Request("GET", "/", kEmptySha256);
  request.query = {{"prefix", "J"}, {"max-keys", "2"}};
  EXPECT_EQ(AuthorizationOf(request),
            Expected("host;x-amz-content-sha256;x-amz-date",
                     "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"));
}

TEST(SigV4S3Test, PresignedGet) {
  HttpRequestToSign request = S3Request("GET", "/test.txt", "UNSIGNED-PAYLOAD");
  Result<std::string> query = PresignQuery(request, S3Params(), std::chrono::seconds(86400));
  ASSERT_TRUE(query.ok()) << query.status().ToString();
  EXPECT_EQ(*query,
            "X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(SigV4S3Test, PathIsNeitherNormalisedNorReEncoded) {
  HttpRequestToSign request = S3Request("GET", "/my-object//example//photo.user", kEmptySha256);
  std::string canonical = CanonicalRequest(request, S3Params(), nullptr);
  EXPECT_TRUE(canonical.starts_with("GET\n/my-object//example//photo.user\n")) << canonical;
  request.path = "/a%2Fb c";  // An existing escape is kept; a raw space is encoded once.
  canonical = CanonicalRequest(request, S3Params(), nullptr);
  EXPECT_TRUE(canonical.starts_with("GET\n/a%2Fb%20c\n")) << canonical;
}

}  // namespace
}  // namespace trainyard::aws
