#include "server/api/http_helpers.h"

#include <gtest/gtest.h>

#include "common/log_capture.h"
#include "server/api/string_body_reader.h"

namespace trainyard::server {
namespace {

TEST(ParseRangeTest, ReadsTheThreeForms) {
  auto range = ParseRange("bytes=10-19", 100);
  ASSERT_TRUE(range.ok() && range->has_value());
  EXPECT_EQ((*range)->offset, 10u);
  EXPECT_EQ((*range)->length, 10u);
  range = ParseRange("bytes=90-", 100);
  EXPECT_EQ((*range)->length, 10u);
  range = ParseRange("bytes=-5", 100);
  EXPECT_EQ((*range)->offset, 95u);
  range = ParseRange("bytes=50-1000", 100);  // clipped to the end
  EXPECT_EQ((*range)->length, 50u);
}

TEST(ParseRangeTest, UnusableHeadersAreIgnoredAndImpossibleOnesRefused) {
  EXPECT_FALSE(ParseRange("", 100)->has_value());
  EXPECT_FALSE(ParseRange("bytes=0-1,5-6", 100)->has_value());
  EXPECT_FALSE(ParseRange("bytes=9-3", 100)->has_value());
  EXPECT_FALSE(ParseRange("items=1-2", 100)->has_value());
  EXPECT_FALSE(ParseRange("bytes=100-", 100).ok());
  EXPECT_FALSE(ParseRange("bytes=-0", 100).ok());
  EXPECT_FALSE(ParseRange("bytes=0-", 0).ok());
}

TEST(ParseRangeTest, MalformedSpecsAreIgnoredNotReadAsAnotherRange) {
  // Whitespace around the spec is a list's optional whitespace: the range is the one written.
  auto spaced = ParseRange("bytes= 0-1", 100);
  ASSERT_TRUE(spaced.ok() && spaced->has_value());
  EXPECT_EQ((*spaced)->offset, 0u);
  EXPECT_EQ((*spaced)->length, 2u);
  for (const char* header : {"bytes=0--1", "bytes=0-1x", "bytes=a-1", "bytes=0 - 1", "bytes=--1",
                             "bytes=+0-1", "bytes= "}) {
    auto range = ParseRange(header, 100);
    ASSERT_TRUE(range.ok()) << header;
    EXPECT_FALSE(range->has_value()) << header;
  }
}

TEST(BearerTokenTest, TheSchemeIsCaseInsensitiveAndTheTokenFollowsItsSpaces) {
  HttpRequest request;
  for (const char* header : {"Bearer abc.123", "bearer abc.123", "BEARER  abc.123"}) {
    request.headers["authorization"] = header;
    EXPECT_EQ(BearerToken(request), "abc.123") << header;
  }
  for (const char* header : {"Basic abc", "Bearerabc", "Bearer ", "Bearer   ", "Bear abc", ""}) {
    request.headers["authorization"] = header;
    EXPECT_EQ(BearerToken(request), "") << header;
  }
}

TEST(ReadJsonBodyTest, LimitsSizeAndDepth) {
  StringBodyReader good(R"({"a": [1, {"b": 2}]})");
  auto parsed = ReadJsonBody(good, 1000, 8);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ((*parsed)["a"][1]["b"], 2);

  StringBodyReader big(std::string(2000, ' ') + "1");
  EXPECT_EQ(ReadJsonBody(big, 1000, 8).status().code(), StatusCode::kResourceExhausted);

  StringBodyReader deep(std::string(100, '[') + std::string(100, ']'));
  auto refused = ReadJsonBody(deep, 1000, 32);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("deeper than 32"), std::string::npos);

  StringBodyReader broken("{\"a\": ");
  EXPECT_EQ(ReadJsonBody(broken, 1000, 8).status().code(), StatusCode::kInvalidArgument);
}

TEST(BodyStreamBufferTest, StreamsTheWholeBody) {
  StringBodyReader body("hello, streaming world", 4);
  BodyStreamBuffer buffer(body);
  std::istream stream(&buffer);
  std::string all((std::istreambuf_iterator<char>(stream)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all, "hello, streaming world");
  EXPECT_EQ(buffer.bytes_read(), all.size());
}

TEST(AttachmentDispositionTest, QuotesAndEncodesEveryName) {
  EXPECT_EQ(AttachmentDisposition("train.csv"),
            "attachment; filename=\"train.csv\"; filename*=UTF-8''train.csv");
  // A quote or a backslash cannot end the quoted string or smuggle in a parameter.
  EXPECT_EQ(AttachmentDisposition("a\"b.csv"),
            "attachment; filename=\"a_b.csv\"; filename*=UTF-8''a%22b.csv");
  EXPECT_EQ(AttachmentDisposition("x\\\"; filename=evil.sh"),
            "attachment; filename=\"x__; filename=evil.sh\"; "
            "filename*=UTF-8''x%5C%22%3B%20filename%3Devil.sh");
  // UTF-8: one '_' per character in the fallback, the bytes percent-encoded in filename*.
  EXPECT_EQ(AttachmentDisposition("données €.csv"),
            "attachment; filename=\"donn_es _.csv\"; "
            "filename*=UTF-8''donn%C3%A9es%20%E2%82%AC.csv");
}

// A recording ResponseWriter: the status and body an error was answered with.
class RecordingResponse : public ResponseWriter {
 public:
  void SetStatus(int status) override { status_ = status; }
  void SetHeader(const std::string&, const std::string&) override {}
  void SetContentLength(uint64_t) override {}
  Status Write(std::string_view data) override {
    body_ += data;
    return Status::Ok();
  }
  EventStreamPtr DetachEventStream() override { return nullptr; }
  bool headers_sent() const override { return false; }
  int status_ = 0;
  std::string body_;
};

TEST(WriteErrorTest, AFullDiskIs507WithoutTheServersPaths) {
  LogCapture log;
  RecordingResponse response;
  WriteError(response, DiskFull("cannot write '/srv/trainyard/objects/tmp/put-1': No space left "
                                "on device")
                           .WithContext("dataset 'ds-1'"));
  EXPECT_EQ(response.status_, 507);
  EXPECT_NE(response.body_.find("ResourceExhausted"), std::string::npos) << response.body_;
  EXPECT_NE(response.body_.find("disk is full"), std::string::npos) << response.body_;
  EXPECT_EQ(response.body_.find("/srv"), std::string::npos) << response.body_;
  EXPECT_NE(log.Text().find("dataset 'ds-1': cannot write '/srv/trainyard/objects/tmp/put-1'"),
            std::string::npos)
      << log.Text();

  RecordingResponse too_large;
  WriteError(too_large, ResourceExhausted("the request body is larger than 10 bytes"));
  EXPECT_EQ(too_large.status_, 413);
  EXPECT_NE(too_large.body_.find("larger than 10 bytes"), std::string::npos);
}

TEST(PathSegmentsTest, SplitsOnSlashes) {
  EXPECT_EQ(PathSegments("/api/v1/jobs/x/logs"),
            (std::vector<std::string>{"api", "v1", "jobs", "x", "logs"}));
  EXPECT_EQ(PathSegments("/"), std::vector<std::string>{});
}

}  // namespace
}  // namespace trainyard::server
