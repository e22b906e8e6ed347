// S3Api end to end over HTTP: a real HttpServer on port 0, a LocalObjectStore in a temp dir,
// requests signed with aws/sigv4 and sent with libcurl (s3_test_client.h).
#include "server/s3/s3_api.h"

#include "aws/crypto.h"
#include "server/s3/s3_api_fixture.h"

namespace trainyard::server {
namespace {

TEST_F(S3ApiTest, BucketLifecycle) {
  S3TestResponse listed = client_->Get("/");
  EXPECT_EQ(listed.status, 200);
  EXPECT_NE(listed.body.find("<Buckets></Buckets>"), std::string::npos) << listed.body;
  EXPECT_FALSE(listed.headers["x-amz-request-id"].empty());

  MakeBucket("alpha");
  ExpectError(client_->Put("/alpha", ""), 409, "BucketAlreadyOwnedByYou");
  S3TestResponse configured =
      client_->Put("/beta.bucket-2",
                   "<CreateBucketConfiguration><LocationConstraint>eu-west-3</LocationConstraint>"
                   "</CreateBucketConfiguration>");
  EXPECT_EQ(configured.status, 200) << configured.body;
  ExpectError(client_->Put("/Bad_Name", ""), 400, "InvalidBucketName");
  ExpectError(client_->Put("/192.168.1.1", ""), 400, "InvalidBucketName");
  ExpectError(client_->Put("/a.-b", ""), 400, "InvalidBucketName");
  ExpectError(client_->Put("/a-.b", ""), 400, "InvalidBucketName");

  EXPECT_EQ(client_->Head("/alpha").status, 200);
  S3TestResponse missing = client_->Head("/nothing-here");
  EXPECT_EQ(missing.status, 404);
  EXPECT_TRUE(missing.body.empty());
  S3TestResponse location = client_->Get("/alpha", {{"location", ""}});
  EXPECT_EQ(location.status, 200);
  EXPECT_NE(location.body.find("LocationConstraint"), std::string::npos);

  listed = client_->Get("/");
  EXPECT_EQ(listed.Xml("Name"), "alpha");
  EXPECT_NE(listed.body.find("<Name>beta.bucket-2</Name>"), std::string::npos);

  ASSERT_EQ(client_->Put("/alpha/file.txt", "x").status, 200);
  ExpectError(client_->Delete("/alpha"), 409, "BucketNotEmpty");
  EXPECT_EQ(client_->Delete("/alpha/file.txt").status, 204);
  EXPECT_EQ(client_->Delete("/alpha").status, 204);
  ExpectError(client_->Delete("/alpha"), 404, "NoSuchBucket");
  ExpectError(client_->Get("/alpha"), 404, "NoSuchBucket");
  ExpectError(client_->Put("/alpha/file.txt", "x"), 404, "NoSuchBucket");
}

TEST_F(S3ApiTest, ObjectRoundTripWithRangesAndMetadata) {
  MakeBucket("data");
  std::string content = "0123456789abcdef";
  S3TestResponse put = client_->Put(
      "/data/dir/file%20one.txt", content,
      {{"Content-Type", "text/plain"}, {"x-amz-meta-owner", "ml-team"}, {"x-amz-meta-run", "7"}});
  ASSERT_EQ(put.status, 200) << put.body;
  std::string etag = "\"" + aws::Sha256Hex(content).substr(0, 32) + "\"";
  EXPECT_EQ(put.headers["etag"], etag);

  S3TestResponse got = client_->Get("/data/dir/file%20one.txt");
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, content);
  EXPECT_EQ(got.headers["content-type"], "text/plain");
  EXPECT_EQ(got.headers["x-amz-meta-owner"], "ml-team");
  EXPECT_EQ(got.headers["x-amz-meta-run"], "7");
  EXPECT_EQ(got.headers["etag"], etag);
  EXPECT_NE(got.headers["last-modified"].find(" GMT"), std::string::npos);

  S3TestRequest ranged;
  ranged.path = "/data/dir/file%20one.txt";
  ranged.headers = {{"Range", "bytes=2-5"}};
  got = client_->Send(ranged);
  EXPECT_EQ(got.status, 206);
  EXPECT_EQ(got.body, "2345");
  EXPECT_EQ(got.headers["content-range"], "bytes 2-5/16");
  ranged.headers = {{"Range", "bytes=-3"}};
  EXPECT_EQ(client_->Send(ranged).body, "def");
  ranged.headers = {{"Range", "bytes=100-"}};
  ExpectError(client_->Send(ranged), 416, "InvalidRange");

  S3TestResponse head = client_->Head("/data/dir/file%20one.txt");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers["content-length"], "16");
  EXPECT_EQ(head.headers["x-amz-meta-owner"], "ml-team");
  EXPECT_TRUE(head.body.empty());

  S3TestResponse empty = client_->Put("/data/empty", "");
  EXPECT_EQ(empty.status, 200);
  EXPECT_EQ(client_->Get("/data/empty").body, "");

  EXPECT_EQ(client_->Delete("/data/dir/file%20one.txt").status, 204);
  EXPECT_EQ(client_->Delete("/data/dir/file%20one.txt").status, 204);  // S3: deleting twice is OK
  ExpectError(client_->Get("/data/dir/file%20one.txt"), 404, "NoSuchKey");
  S3TestResponse head_missing = client_->Head("/data/dir/file%20one.txt");
  EXPECT_EQ(head_missing.status, 404);
  EXPECT_TRUE(head_missing.body.empty());
  EXPECT_FALSE(head_missing.headers["x-amz-request-id"].empty());
}

// Conditional reads, as S3 answers them: If-Match pins a version (412 once it was replaced),
// If-None-Match and If-Modified-Since answer 304 for what the client holds, and a true If-Match
// wins over a false If-Unmodified-Since.
TEST_F(S3ApiTest, ConditionalGetsAnswerAsS3Does) {
  MakeBucket("data");
  ASSERT_EQ(client_->Put("/data/model.bin", "version one").status, 200);
  S3TestResponse first = client_->Head("/data/model.bin");
  const std::string etag = first.headers["etag"];
  const std::string modified = first.headers["last-modified"];
  ASSERT_FALSE(etag.empty());
  S3TestRequest get;
  get.path = "/data/model.bin";
  auto with = [&](std::map<std::string, std::string> headers) {
    get.headers = std::move(headers);
    return client_->Send(get);
  };
  EXPECT_EQ(with({{"If-Match", etag}}).body, "version one");
  EXPECT_EQ(with({{"If-Match", "\"other\", " + etag}}).status, 200);
  EXPECT_EQ(with({{"If-Match", "*"}}).status, 200);
  S3TestResponse not_modified = with({{"If-None-Match", etag}});
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_EQ(not_modified.body, "");
  EXPECT_EQ(not_modified.headers["etag"], etag);
  EXPECT_EQ(with({{"If-Modified-Since", modified}}).status, 304);
  EXPECT_EQ(with({{"If-Modified-Since", "Sat, 01 Jan 2000 00:00:00 GMT"}}).status, 200);
  EXPECT_EQ(with({{"If-Unmodified-Since", "Sat, 01 Jan 2000 00:00:00 GMT"}}).status, 412);
  EXPECT_EQ(
      with({{"If-Match", etag}, {"If-Unmodified-Since", "Sat, 01 Jan 2000 00:00:00 GMT"}}).status,
      200);
  // A date that is not an HTTP date is ignored, as S3 ignores it.
  EXPECT_EQ(with({{"If-Modified-Since", "yesterday"}}).status, 200);

  ASSERT_EQ(client_->Put("/data/model.bin", "version two").status, 200);
  ExpectError(with({{"If-Match", etag}}), 412, "PreconditionFailed");
  EXPECT_EQ(with({{"If-None-Match", etag}}).body, "version two");
  get.method = "HEAD";
  EXPECT_EQ(with({{"If-Match", etag}}).status, 412);
}

TEST_F(S3ApiTest, CopyAndDeleteObjects) {
  MakeBucket("src");
  MakeBucket("dst");
  ASSERT_EQ(
      client_->Put("/src/a", "alpha", {{"x-amz-meta-k", "v"}, {"Content-Type", "x/y"}}).status,
      200);
  S3TestRequest copy;
  copy.method = "PUT";
  copy.path = "/dst/b";
  copy.headers = {{"x-amz-copy-source", "/src/a"}};
  S3TestResponse copied = client_->Send(copy);
  ASSERT_EQ(copied.status, 200) << copied.body;
  EXPECT_NE(copied.body.find("<CopyObjectResult"), std::string::npos);
  S3TestResponse got = client_->Get("/dst/b");
  EXPECT_EQ(got.body, "alpha");
  EXPECT_EQ(got.headers["x-amz-meta-k"], "v");
  EXPECT_EQ(got.headers["content-type"], "x/y");
  copy.headers = {{"x-amz-copy-source", "src/missing"}};
  ExpectError(client_->Send(copy), 404, "NoSuchKey");

  ASSERT_EQ(client_->Put("/src/b", "beta").status, 200);
  std::string document =
      "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Object><Key>a</Key></Object>"
      "<Object><Key>b</Key></Object><Object><Key>a/../x</Key></Object></Delete>";
  S3TestRequest remove;
  remove.method = "POST";
  remove.path = "/src";
  remove.query = {{"delete", ""}};
  remove.body = document;
  remove.headers = {{"Content-MD5", Md5Base64(document)}};
  S3TestResponse removed = client_->Send(remove);
  ASSERT_EQ(removed.status, 200) << removed.body;
  EXPECT_NE(removed.body.find("<Deleted><Key>a</Key></Deleted>"), std::string::npos);
  EXPECT_NE(removed.body.find("<Error><Key>a/../x</Key><Code>InvalidArgument</Code>"),
            std::string::npos)
      << removed.body;
  EXPECT_EQ(client_->Head("/src/b").status, 404);
  remove.body = "<Delete><Quiet>true</Quiet><Object><Key>zzz</Key></Object></Delete>";
  remove.headers = {{"Content-MD5", Md5Base64(remove.body)}};
  removed = client_->Send(remove);
  EXPECT_EQ(removed.body.find("<Deleted>"), std::string::npos) << removed.body;
  remove.headers = {{"Content-MD5", Md5Base64("something else")}};
  ExpectError(client_->Send(remove), 400, "BadDigest");

  // A PutObject whose Content-MD5 does not match stores nothing.
  ExpectError(client_->Put("/src/c", "gamma", {{"Content-MD5", Md5Base64("delta")}}), 400,
              "BadDigest");
  EXPECT_EQ(client_->Head("/src/c").status, 404);
  EXPECT_EQ(client_->Put("/src/c", "gamma", {{"Content-MD5", Md5Base64("gamma")}}).status, 200);
}

TEST_F(S3ApiTest, ListObjectsV2WithDelimiterPagingAndUrlEncoding) {
  MakeBucket("list");
  for (const char* key : {"a/1", "a/2", "b/x/1", "c", "d%20e%2Bf"}) {
    ASSERT_EQ(client_->Put(std::string("/list/") + key, "v").status, 200) << key;
  }
  S3TestResponse all = client_->Get("/list", {{"list-type", "2"}});
  EXPECT_EQ(all.Xml("KeyCount"), "5");
  EXPECT_NE(all.body.find("<Key>d e+f</Key>"), std::string::npos) << all.body;
  EXPECT_NE(all.body.find("<StorageClass>STANDARD</StorageClass>"), std::string::npos);

  S3TestResponse folders =
      client_->Get("/list", {{"list-type", "2"}, {"delimiter", "/"}, {"encoding-type", "url"}});
  EXPECT_NE(folders.body.find("<CommonPrefixes><Prefix>a/</Prefix></CommonPrefixes>"
                              "<CommonPrefixes><Prefix>b/</Prefix></CommonPrefixes>"),
            std::string::npos)
      << folders.body;
  EXPECT_NE(folders.body.find("<Key>d%20e%2Bf</Key>"), std::string::npos) << folders.body;
  EXPECT_EQ(folders.Xml("KeyCount"), "4");

  S3TestResponse prefixed = client_->Get("/list", {{"list-type", "2"}, {"prefix", "a/"}});
  EXPECT_EQ(prefixed.Xml("KeyCount"), "2");

  // Pages of two with a delimiter: [a/, b/], [c, d e+f]; a common prefix is never repeated.
  std::vector<std::string> seen;
  std::string token;
  for (int page = 0; page < 5; ++page) {
    std::vector<std::pair<std::string, std::string>> query = {
        {"list-type", "2"}, {"delimiter", "/"}, {"max-keys", "2"}};
    if (!token.empty()) query.emplace_back("continuation-token", token);
    S3TestResponse listed = client_->Get("/list", query);
    ASSERT_EQ(listed.status, 200) << listed.body;
    seen.push_back(listed.Xml("KeyCount"));
    token = listed.Xml("NextContinuationToken");
    if (listed.Xml("IsTruncated") != "true") break;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"2", "2"}));
  S3TestResponse after = client_->Get("/list", {{"list-type", "2"}, {"start-after", "b/x/1"}});
  EXPECT_EQ(after.Xml("KeyCount"), "2");
  ExpectError(client_->Get("/list", {{"list-type", "2"}, {"continuation-token", "zz"}}), 400,
              "InvalidArgument");

  // Version 1: marker and NextMarker.
  S3TestResponse v1 = client_->Get("/list", {{"max-keys", "2"}});
  EXPECT_EQ(v1.Xml("IsTruncated"), "true");
  EXPECT_EQ(v1.Xml("NextMarker"), "a/2");
  S3TestResponse v1_next = client_->Get("/list", {{"marker", "a/2"}});
  EXPECT_EQ(v1_next.Xml("Key"), "b/x/1");
}

}  // namespace
}  // namespace trainyard::server
