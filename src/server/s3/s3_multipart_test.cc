// Multipart uploads through S3Api: parts, listing, the completion rules (InvalidPart,
// InvalidPartOrder, EntityTooSmall), streaming completion into one object, and Abort.
#include "aws/crypto.h"
#include "server/s3/s3_api.h"
#include "server/s3/s3_api_fixture.h"

namespace trainyard::server {
namespace {

class S3MultipartTest : public S3ApiTest {
 protected:
  std::string Create(const std::string& path) {
    S3TestRequest request;
    request.method = "POST";
    request.path = path;
    request.query = {{"uploads", ""}};
    request.headers = {{"Content-Type", "application/x-test"}, {"x-amz-meta-origin", "unit"}};
    S3TestResponse created = client_->Send(request);
    EXPECT_EQ(created.status, 200) << created.body;
    return created.Xml("UploadId");
  }
  S3TestResponse UploadPart(const std::string& path, const std::string& id, int number,
                            const std::string& data) {
    S3TestRequest request;
    request.method = "PUT";
    request.path = path;
    request.query = {{"partNumber", std::to_string(number)}, {"uploadId", id}};
    request.body = data;
    return client_->Send(request);
  }
  S3TestResponse Complete(const std::string& path, const std::string& id,
                          const std::vector<std::pair<int, std::string>>& parts) {
    S3TestRequest request;
    request.method = "POST";
    request.path = path;
    request.query = {{"uploadId", id}};
    request.body = "<CompleteMultipartUpload>";
    for (const auto& [number, etag] : parts) {
      request.body += "<Part><PartNumber>" + std::to_string(number) + "</PartNumber><ETag>" + etag +
                      "</ETag></Part>";
    }
    request.body += "</CompleteMultipartUpload>";
    return client_->Send(request);
  }
};

TEST_F(S3MultipartTest, CompletesInOrderIntoOneObject) {
  MakeBucket("mpu");
  std::string id = Create("/mpu/big.bin");
  ASSERT_EQ(id.size(), 32u);
  std::string first(5 << 20, 'a'), second = "tail of the object";
  first[12345] = 'Z';
  S3TestResponse part1 = UploadPart("/mpu/big.bin", id, 1, first);
  S3TestResponse part2 = UploadPart("/mpu/big.bin", id, 2, second);
  ASSERT_EQ(part1.status, 200) << part1.body;
  ASSERT_EQ(part2.status, 200) << part2.body;
  EXPECT_EQ(part2.headers["etag"], "\"" + aws::Sha256Hex(second).substr(0, 32) + "\"");

  S3TestResponse parts = client_->Get("/mpu/big.bin", {{"uploadId", id}});
  EXPECT_NE(parts.body.find("<PartNumber>2</PartNumber>"), std::string::npos) << parts.body;
  S3TestResponse uploads = client_->Get("/mpu", {{"uploads", ""}});
  EXPECT_EQ(uploads.Xml("UploadId"), id);
  EXPECT_EQ(uploads.Xml("Key"), "big.bin");

  std::string etag1 = part1.headers["etag"], etag2 = part2.headers["etag"];
  ExpectError(Complete("/mpu/big.bin", id, {{1, etag1}, {2, "\"0000\""}}), 400, "InvalidPart");
  ExpectError(Complete("/mpu/big.bin", id, {{1, etag1}, {3, etag2}}), 400, "InvalidPart");
  ExpectError(Complete("/mpu/big.bin", id, {{2, etag2}, {1, etag1}}), 400, "InvalidPartOrder");
  std::string other_id = (id[0] == 'f' ? "e" : "f") + id.substr(1);  // never `id` itself
  ExpectError(Complete("/mpu/big.bin", other_id, {{1, etag1}}), 404, "NoSuchUpload");
  ExpectError(Complete("/mpu/big.bin", "../../x", {{1, etag1}}), 404, "NoSuchUpload");

  S3TestResponse done = Complete("/mpu/big.bin", id, {{1, etag1}, {2, etag2}});
  ASSERT_EQ(done.status, 200) << done.body;
  S3TestResponse got = client_->Get("/mpu/big.bin");
  EXPECT_EQ(got.body.size(), first.size() + second.size());
  EXPECT_TRUE(got.body == first + second);
  EXPECT_EQ(got.headers["content-type"], "application/x-test");
  EXPECT_EQ(got.headers["x-amz-meta-origin"], "unit");
  EXPECT_EQ(StoreKeys("s3/uploads/"), std::vector<std::string>{});
  ExpectError(UploadPart("/mpu/big.bin", id, 3, "late"), 404, "NoSuchUpload");
}

TEST_F(S3MultipartTest, SmallPartsAreRefusedAndAbortRemovesEverything) {
  MakeBucket("mpu");
  std::string id = Create("/mpu/small");
  S3TestResponse part1 = UploadPart("/mpu/small", id, 1, "too small");
  S3TestResponse part2 = UploadPart("/mpu/small", id, 2, "last");
  ExpectError(UploadPart("/mpu/small", id, 0, "x"), 400, "InvalidArgument");
  ExpectError(UploadPart("/mpu/small", id, 10001, "x"), 400, "InvalidArgument");
  ExpectError(Complete("/mpu/small", id, {{1, part1.headers["etag"]}, {2, part2.headers["etag"]}}),
              400, "EntityTooSmall");

  // The incomplete upload is listed until aborted; then it and its parts are gone.
  EXPECT_EQ(client_->Get("/mpu", {{"uploads", ""}}).Xml("UploadId"), id);
  EXPECT_EQ(client_->Delete("/mpu/small", {{"uploadId", id}}).status, 204);
  EXPECT_EQ(client_->Get("/mpu", {{"uploads", ""}}).Xml("UploadId"), "");
  EXPECT_EQ(StoreKeys("s3/uploads/"), std::vector<std::string>{});
  ExpectError(client_->Delete("/mpu/small", {{"uploadId", id}}), 404, "NoSuchUpload");
  ExpectError(client_->Get("/mpu/small", {{"uploadId", id}}), 404, "NoSuchUpload");
  EXPECT_EQ(client_->Head("/mpu/small").status, 404);
}

TEST_F(S3MultipartTest, UploadPartCopyTakesARangeOfAnObject) {
  MakeBucket("mpu");
  ASSERT_EQ(client_->Put("/mpu/source", "0123456789").status, 200);
  std::string id = Create("/mpu/copy");
  S3TestRequest copy;
  copy.method = "PUT";
  copy.path = "/mpu/copy";
  copy.query = {{"partNumber", "1"}, {"uploadId", id}};
  copy.headers = {{"x-amz-copy-source", "mpu/source"}, {"x-amz-copy-source-range", "bytes=2-4"}};
  S3TestResponse copied = client_->Send(copy);
  ASSERT_EQ(copied.status, 200) << copied.body;
  EXPECT_EQ(copied.Xml("ETag"), "&quot;" + aws::Sha256Hex("234").substr(0, 32) + "&quot;");
  S3TestResponse done = Complete("/mpu/copy", id, {{1, copied.Xml("ETag")}});  // still escaped
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(client_->Get("/mpu/copy").body, "234");
}

}  // namespace
}  // namespace trainyard::server
