#include "server/api/multipart.h"

#include <gtest/gtest.h>

#include "server/api/string_body_reader.h"

namespace trainyard::server {
namespace {

const char kType[] = "multipart/form-data; boundary=----XyZ";

std::string Body(const std::string& file_content) {
  return "preamble\r\n"
         "------XyZ\r\n"
         "Content-Disposition: form-data; name=\"kind\"\r\n\r\n"
         "training\r\n"
         "------XyZ\r\n"
         "Content-Disposition: form-data; name=\"file\"; filename=\"train.csv\"\r\n"
         "Content-Type: text/csv\r\n\r\n" +
         file_content + "\r\n------XyZ--\r\n";
}

// Every chunk size, so that a boundary split anywhere across reads is found.
TEST(MultipartReaderTest, ReadsFieldsAndFilesAtAnyChunking) {
  // Content that looks almost like a boundary must pass through untouched.
  const std::string content = "a,b\r\n1,2\r\n----XyZ\r\n------XyY\r\n3,4";
  for (size_t chunk = 1; chunk <= 40; ++chunk) {
    StringBodyReader body(Body(content), chunk);
    MultipartReader reader(body, kType);
    MultipartPart part;
    ASSERT_TRUE(reader.NextPart(part).value()) << chunk;
    EXPECT_EQ(part.name, "kind");
    EXPECT_EQ(reader.ReadAll(100).value(), "training");
    ASSERT_TRUE(reader.NextPart(part).value());
    EXPECT_EQ(part.name, "file");
    EXPECT_EQ(part.filename, "train.csv");
    EXPECT_EQ(part.content_type, "text/csv");
    std::string read;
    char buffer[7];
    while (true) {
      auto got = reader.Read(buffer, sizeof buffer);
      ASSERT_TRUE(got.ok());
      if (*got == 0) break;
      read.append(buffer, *got);
    }
    EXPECT_EQ(read, content) << "chunk " << chunk;
    EXPECT_FALSE(reader.NextPart(part).value());
  }
}

TEST(MultipartReaderTest, SkipsUnreadPartsAndRefusesTruncatedBodies) {
  StringBodyReader body(Body("data"), 5);
  MultipartReader reader(body, kType);
  MultipartPart part;
  ASSERT_TRUE(reader.NextPart(part).value());
  ASSERT_TRUE(reader.NextPart(part).value());  // "kind" left unread
  EXPECT_EQ(part.filename, "train.csv");

  std::string cut = Body("data");
  cut.resize(cut.size() - 15);
  StringBodyReader truncated(cut, 5);
  MultipartReader broken(truncated, kType);
  ASSERT_TRUE(broken.NextPart(part).value());
  ASSERT_TRUE(broken.NextPart(part).value());
  char buffer[64];
  Result<size_t> got = size_t{1};
  while (got.ok() && *got > 0) got = broken.Read(buffer, sizeof buffer);
  EXPECT_FALSE(got.ok());
}

TEST(MultipartReaderTest, NeedsABoundary) {
  StringBodyReader body("x", 1);
  MultipartReader reader(body, "multipart/form-data");
  MultipartPart part;
  EXPECT_FALSE(reader.NextPart(part).ok());
  EXPECT_EQ(MultipartBoundary("multipart/form-data; boundary=\"a b\""), "a b");
  EXPECT_EQ(MultipartBoundary("application/json"), "");
}

}  // namespace
}  // namespace trainyard::server
