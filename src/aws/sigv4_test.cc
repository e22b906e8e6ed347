// Unit tests of the signer's pieces and its input checks; the published vectors are in
// sigv4_suite_test.cc and sigv4_s3_test.cc.
#include "aws/sigv4.h"

#include <gtest/gtest.h>

#include "aws/amz_date.h"
#include "aws/crypto.h"
#include "aws/test_request.h"
#include "aws/uri_encode.h"

namespace trainyard::aws {
namespace {

SigningParams VanillaParams() {
  SigningParams params;
  params.credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  params.region = "us-east-1";
  params.service = "service";
  params.time = *testing::ParseUtcTimestamp("2015-08-30T12:36:00Z");
  return params;
}

HttpRequestToSign VanillaRequest() {
  HttpRequestToSign request;
  request.method = "GET";
  request.path = "/";
  request.headers = {{"Host", "example.amazonaws.com"}};
  request.payload_sha256_hex = Sha256Hex("");
  return request;
}

TEST(SigV4Test, UriEncodeUsesUnreservedSetAndUppercaseHex) {
  EXPECT_EQ(UriEncode("-._~azAZ09", true), "-._~azAZ09");
  EXPECT_EQ(UriEncode("a b/c+%", true), "a%20b%2Fc%2B%25");
  EXPECT_EQ(UriEncode("a b/c", false), "a%20b/c");
  EXPECT_EQ(UriEncode("\xE1\x88\xB4", true), "%E1%88%B4");
}

TEST(SigV4Test, UriDecodeKeepsPlusAndStrayPercent) {
  EXPECT_EQ(UriDecode("%E1%88%B4+a%2"), "\xE1\x88\xB4+a%2");
}

TEST(SigV4Test, NormalizePath) {
  EXPECT_EQ(NormalizePath(""), "/");
  EXPECT_EQ(NormalizePath("//"), "/");
  EXPECT_EQ(NormalizePath("//example//"), "/example/");
  EXPECT_EQ(NormalizePath("/example1/example2/../.."), "/");
  EXPECT_EQ(NormalizePath("/../../a"), "/a");
  EXPECT_EQ(NormalizePath("/./example"), "/example");
}

TEST(SigV4Test, CryptoKnownAnswers) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // RFC 4231 test case 2.
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(SigV4Test, FormatAmzDate) {
  EXPECT_EQ(FormatAmzDate(VanillaParams().time), "20150830T123600Z");
  EXPECT_EQ(FormatAmzDay(VanillaParams().time), "20150830");
}

TEST(SigV4Test, GetVanillaAnchor) {
  Result<SignedRequest> signed_request = SignWithHeaders(VanillaRequest(), VanillaParams());
  ASSERT_TRUE(signed_request.ok()) << signed_request.status().ToString();
  ASSERT_EQ(signed_request->headers_to_add.size(), 2u);
  EXPECT_EQ(signed_request->headers_to_add[0],
            (std::pair<std::string, std::string>{"X-Amz-Date", "20150830T123600Z"}));
  EXPECT_EQ(signed_request->headers_to_add[1].second,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4Test, ResigningReplacesOldAuthHeaders) {
  HttpRequestToSign request = VanillaRequest();
  request.headers.emplace_back("authorization", "AWS4-HMAC-SHA256 stale");
  request.headers.emplace_back("x-amz-date", "20000101T000000Z");
  Result<SignedRequest> signed_request = SignWithHeaders(request, VanillaParams());
  ASSERT_TRUE(signed_request.ok());
  EXPECT_EQ(signed_request->signature,
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4Test, SessionTokenIsSignedUnlessOmitted) {
  SigningParams params = VanillaParams();
  params.credentials.session_token = "token/+=";
  Result<SignedRequest> signed_request = SignWithHeaders(VanillaRequest(), params);
  ASSERT_TRUE(signed_request.ok());
  EXPECT_NE(signed_request->canonical_request.find("x-amz-security-token:token/+=\n"),
            std::string::npos);
  params.omit_session_token = true;
  signed_request = SignWithHeaders(VanillaRequest(), params);
  ASSERT_TRUE(signed_request.ok());
  EXPECT_EQ(signed_request->canonical_request.find("x-amz-security-token"), std::string::npos);
  EXPECT_EQ(signed_request->headers_to_add.back(),
            (std::pair<std::string, std::string>{"X-Amz-Security-Token", "token/+="}));
}

TEST(SigV4Test, PresignRejectsExpiryOutsideOneSecondToSevenDays) {
  for (long seconds : {0L, -1L, 604801L}) {
    Result<std::string> query =
        PresignQuery(VanillaRequest(), VanillaParams(), std::chrono::seconds(seconds));
    ASSERT_FALSE(query.ok()) << seconds;
    EXPECT_EQ(query.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(query.status().message().find("X-Amz-Expires"), std::string::npos);
  }
  EXPECT_TRUE(PresignQuery(VanillaRequest(), VanillaParams(), std::chrono::seconds(1)).ok());
  EXPECT_TRUE(PresignQuery(VanillaRequest(), VanillaParams(), std::chrono::seconds(604800)).ok());
}

TEST(SigV4Test, MissingInputsAreInvalidArgumentsNamingTheField) {
  SigningParams params = VanillaParams();
  params.credentials.secret_access_key.clear();
  Result<SignedRequest> result = SignWithHeaders(VanillaRequest(), params);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("secret access key"), std::string::npos);
  // The message names the field, never the secret's value.
  params = VanillaParams();
  params.region.clear();
  EXPECT_FALSE(SignWithHeaders(VanillaRequest(), params).ok());
  HttpRequestToSign request = VanillaRequest();
  request.payload_sha256_hex = "not-a-hash";
  result = SignWithHeaders(request, VanillaParams());
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("payload_sha256_hex"), std::string::npos);
}

TEST(SigV4Test, DuplicateHeadersJoinInOrderAndValuesFold) {
  HttpRequestToSign request = VanillaRequest();
  request.headers.emplace_back("My-Header", "  b  ");
  request.headers.emplace_back("my-header", "a\n   c\td");
  SignedHeaderSet signed_headers;
  std::string canonical = CanonicalRequest(request, VanillaParams(), &signed_headers);
  EXPECT_NE(canonical.find("\nmy-header:b,a c d\n"), std::string::npos) << canonical;
  EXPECT_EQ(signed_headers.ToString(), "host;my-header");
}

}  // namespace
}  // namespace trainyard::aws
