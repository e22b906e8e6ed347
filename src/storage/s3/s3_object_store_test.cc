// S3ObjectStore: the ObjectStore conformance suite against s3rver, an S3 implementation nobody
// here wrote; the exchanges that are the behaviour (retries, aborts, resumed reads) against a
// scripted fake; URI and option checks.
#include "storage/s3/s3_object_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <sstream>

#include "storage/s3/s3_peer.h"
#include "storage/s3/s3_xml.h"
#include "support/http_test_server.h"

namespace trainyard::storage {
namespace {

using testing::HttpTestResponse;
using testing::HttpTestServer;
using testing::RecordedRequest;

Result<ObjectStorePtr> MakeOnS3rver(const std::filesystem::path&) {
  std::string why_not;
  S3rverPeer* peer = S3rverPeer::Shared(&why_not);
  if (peer == nullptr) return Unavailable(why_not);
  // Every test gets a prefix of its own in the shared bucket: a fresh, empty store.
  static std::atomic<int> counter{0};
  return MakeS3ObjectStore(TestS3Options(peer->endpoint(), S3rverPeer::kBucket,
                                         "test-" + std::to_string(++counter),
                                         S3rverPeer::kAccessKeyId, S3rverPeer::kSecretAccessKey));
}

INSTANTIATE_TEST_SUITE_P(
    S3rver, ObjectStoreConformanceTest,
    ::testing::Values(ObjectStoreFactory{
        .name = "s3rver",
        .make = MakeOnS3rver,
        .digest_of_large_objects = false,
        .digests_in_lists = false,
        .max_key_bytes = 960,  // the test's prefix shares S3's 1024 bytes
        .known_deviations = {{"OverwriteIsAtomicForConcurrentReaders",
                              "s3rver 3.7 rewrites an object's file in place, so a reader "
                              "can see a torn object (S3 replaces objects atomically)"},
                             {"OpenReadsTheVersionItOpenedWhateverPutsCome",
                              "s3rver 3.7 ignores If-Match on GetObject, so a read pinned "
                              "to a version gets the one that replaced it (S3 answers 412)"},
                             {"ListOrderIsByteOrderAcrossDirectories",
                              "s3rver 3.7 lists keys in the order of its directory walk "
                              "('a/b' before 'a.c'); S3 lists in UTF-8 byte order"}}}),
    [](const auto& info) { return info.param.name; });

constexpr char kSecret[] = "wJalr-distinctive-SECRET-9f3";

// A store on a fake S3 with fast retries.
ObjectStorePtr StoreOn(const HttpTestServer& server, int max_attempts = 3) {
  S3ObjectStoreOptions options = TestS3Options("http://127.0.0.1:" + std::to_string(server.port()),
                                               "bucket", "runs", "AKIDEXAMPLE", kSecret);
  options.max_attempts = max_attempts;
  Result<ObjectStorePtr> store = MakeS3ObjectStore(options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return std::move(*store);
}

TEST(S3ObjectStoreTest, SignsPathStyleRequestsWithThePayloadHash) {
  HttpTestServer server([](const RecordedRequest&) { return HttpTestResponse{200, ""}; });
  ObjectStorePtr store = StoreOn(server);
  std::istringstream source("abc");
  ASSERT_TRUE(store->Put("data/a b.csv", source, 3, {.content_type = "text/csv"}).ok());
  RecordedRequest request = server.requests().at(0);
  EXPECT_EQ(request.method, "PUT");
  EXPECT_EQ(request.target, "/bucket/runs/data/a%20b.csv");
  EXPECT_EQ(request.body, "abc");
  EXPECT_EQ(request.headers["x-amz-content-sha256"],
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(request.headers["x-amz-meta-trainyard-sha256"],
            request.headers["x-amz-content-sha256"]);
  EXPECT_EQ(request.headers["content-type"], "text/csv");
  EXPECT_TRUE(
      request.headers["authorization"].starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"));
  for (const auto& [name, value] : request.headers) {
    EXPECT_EQ(value.find(kSecret), std::string::npos) << name;  // only a signature goes out
  }
}

TEST(S3ObjectStoreTest, RetriesThrottlingAndServerErrorsThenSucceeds) {
  std::atomic<int> calls{0};
  HttpTestServer server([&](const RecordedRequest&) {
    int call = ++calls;
    if (call == 1) return HttpTestResponse{503, "<Error><Code>SlowDown</Code></Error>"};
    if (call == 2) return HttpTestResponse{500, "<Error><Code>InternalError</Code></Error>"};
    return HttpTestResponse{200, ""};
  });
  ObjectStorePtr store = StoreOn(server);
  EXPECT_TRUE(store->Delete("gone").ok());
  EXPECT_EQ(calls.load(), 3);
}

TEST(S3ObjectStoreTest, GivesUpAfterMaxAttemptsNamingTheKeyAndS3sCode) {
  HttpTestServer server([](const RecordedRequest&) {
    return HttpTestResponse{503, "<Error><Code>SlowDown</Code><Message>Reduce</Message></Error>"};
  });
  ObjectStorePtr store = StoreOn(server, 2);
  Status status = store->Delete("busy/key");
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("'busy/key'"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("SlowDown: Reduce"), std::string::npos) << status.message();
  EXPECT_EQ(status.message().find(kSecret), std::string::npos);
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(S3ObjectStoreTest, ClientErrorsAreNotRetried) {
  HttpTestServer server([](const RecordedRequest&) {
    return HttpTestResponse{403, "<Error><Code>AccessDenied</Code></Error>"};
  });
  ObjectStorePtr store = StoreOn(server);
  std::istringstream source("x");
  Result<ObjectInfo> put = store->Put("k", source, 1);
  EXPECT_EQ(put.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(put.status().message().find(kSecret), std::string::npos);
  EXPECT_EQ(server.requests().size(), 1u);
}

// A multipart upload whose second part fails for good is aborted: no parts are left behind.
TEST(S3ObjectStoreTest, FailedMultipartUploadIsAborted) {
  HttpTestServer server([](const RecordedRequest& request) {
    if (request.method == "POST") {
      return HttpTestResponse{200,
                              "<InitiateMultipartUploadResult><UploadId>up-1</UploadId>"
                              "</InitiateMultipartUploadResult>"};
    }
    if (request.method == "PUT" && request.target.find("partNumber=2") != std::string::npos) {
      return HttpTestResponse{400, "<Error><Code>InvalidPart</Code></Error>"};
    }
    return HttpTestResponse{200, "", {{"ETag", "\"e\""}}};
  });
  ObjectStorePtr store = StoreOn(server);
  std::string data(12u << 20, 'x');  // above the 8 MiB threshold: three parts of 5, 5, 2 MiB
  std::istringstream source(data);
  Result<ObjectInfo> put = store->Put("big", source, data.size());
  EXPECT_EQ(put.status().code(), StatusCode::kInvalidArgument) << put.status().ToString();
  std::vector<RecordedRequest> requests = server.requests();
  ASSERT_FALSE(requests.empty());
  EXPECT_EQ(requests.back().method, "DELETE");
  EXPECT_EQ(requests.back().target, "/bucket/runs/big?uploadId=up-1");
  for (const RecordedRequest& request : requests) {
    EXPECT_EQ(request.target.find("uploadId=up-1&"), std::string::npos);  // no Complete (POST)
    if (request.method == "POST") {
      EXPECT_EQ(request.target, "/bucket/runs/big?uploads=");
    }
  }
}

// S3 can answer CompleteMultipartUpload with 200 and an error in the body.
TEST(S3ObjectStoreTest, CompletionErrorInA200BodyAbortsTheUpload) {
  HttpTestServer server([](const RecordedRequest& request) {
    if (request.method == "POST" && request.target.find("uploads=") != std::string::npos) {
      return HttpTestResponse{200,
                              "<InitiateMultipartUploadResult><UploadId>up-2</UploadId>"
                              "</InitiateMultipartUploadResult>"};
    }
    if (request.method == "POST") {
      EXPECT_NE(request.body.find("<PartNumber>3</PartNumber>"), std::string::npos);
      return HttpTestResponse{200,
                              "<Error><Code>InvalidPart</Code><Message>nope</Message></Error>"};
    }
    return HttpTestResponse{200, "", {{"ETag", "\"e\""}}};
  });
  ObjectStorePtr store = StoreOn(server);
  std::string data(12u << 20, 'y');
  std::istringstream source(data);
  Result<ObjectInfo> put = store->Put("big", source, data.size());
  EXPECT_FALSE(put.ok());
  EXPECT_NE(put.status().message().find("InvalidPart: nope"), std::string::npos)
      << put.status().ToString();
  EXPECT_EQ(server.requests().back().method, "DELETE");
}

// A source that ends early aborts the upload and names the object.
TEST(S3ObjectStoreTest, ShortSourceAbortsTheMultipartUpload) {
  HttpTestServer server([](const RecordedRequest& request) {
    if (request.method == "POST") {
      return HttpTestResponse{200,
                              "<InitiateMultipartUploadResult><UploadId>up-3</UploadId>"
                              "</InitiateMultipartUploadResult>"};
    }
    return HttpTestResponse{200, "", {{"ETag", "\"e\""}}};
  });
  ObjectStorePtr store = StoreOn(server);
  std::string data(7u << 20, 'z');
  std::istringstream source(data);
  Result<ObjectInfo> put = store->Put("short", source, 12u << 20);
  EXPECT_EQ(put.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(put.status().message().find("object 'short'"), std::string::npos);
  EXPECT_EQ(server.requests().back().method, "DELETE");
}

// A GET that breaks after some bytes resumes from there, pinned to the same version.
TEST(S3ObjectStoreTest, BrokenGetResumesWithARangeAndIfMatch) {
  std::string object = "0123456789";
  HttpTestServer server([&](const RecordedRequest& request) {
    if (request.method == "HEAD") {
      return HttpTestResponse{200,
                              "",
                              {{"Content-Length", "10"},
                               {"ETag", "\"v1\""},
                               {"Last-Modified", "Fri, 27 Nov 2026 12:00:00 GMT"}}};
    }
    const std::string& range = request.headers.at("range");
    if (range == "bytes=0-9") {
      // Promises 10 bytes, sends 4: the connection drops.
      return HttpTestResponse{206, "0123", {{"Content-Length", "10"}}};
    }
    EXPECT_EQ(range, "bytes=4-9");
    EXPECT_EQ(request.headers.at("if-match"), "\"v1\"");
    return HttpTestResponse{206, object.substr(4)};
  });
  ObjectStorePtr store = StoreOn(server);
  std::ostringstream sink;
  ASSERT_TRUE(store->Get("model.bin", sink).ok());
  EXPECT_EQ(sink.str(), object);
}

TEST(S3ObjectStoreTest, OpensUrisWithTheSdksEnvironment) {
  EnvironmentMap environment = {{"AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9"},
                                {"AWS_REGION", "eu-west-3"},
                                {"AWS_ACCESS_KEY_ID", "AKID"},
                                {"AWS_SECRET_ACCESS_KEY", "secret"}};
  EXPECT_TRUE(OpenS3ObjectStore("s3://my-bucket/some/prefix/", environment, "/nonexistent").ok());
  EXPECT_TRUE(OpenS3ObjectStore("s3://my-bucket?addressing_style=virtual&region=us-west-2",
                                environment, "/nonexistent")
                  .ok());
  Result<ObjectStorePtr> unknown =
      OpenS3ObjectStore("s3://my-bucket?colour=red", environment, "/nonexistent");
  EXPECT_NE(unknown.status().message().find("unknown setting 'colour'"), std::string::npos);
  Result<ObjectStorePtr> bad_bucket = OpenS3ObjectStore("s3://My_Bucket", environment, "/x");
  EXPECT_NE(bad_bucket.status().message().find("'My_Bucket'"), std::string::npos);
  Result<ObjectStorePtr> bad_style =
      OpenS3ObjectStore("s3://my-bucket?addressing_style=sideways", environment, "/x");
  EXPECT_EQ(bad_style.status().code(), StatusCode::kInvalidArgument);
  Result<ObjectStorePtr> via_open = OpenObjectStore("s3://bkt/p?endpoint=ftp://x", environment);
  EXPECT_NE(via_open.status().message().find("http:// or https://"), std::string::npos);
}

TEST(S3ObjectStoreTest, RefusesOptionsS3CannotHonour) {
  S3ObjectStoreOptions options = TestS3Options("http://127.0.0.1:9", "bucket", "", "a", "b");
  options.part_size = 1 << 20;
  EXPECT_NE(MakeS3ObjectStore(options).status().message().find("5 MiB"), std::string::npos);
  options = TestS3Options("http://127.0.0.1:9", "bucket", "/lead", "a", "b");
  EXPECT_EQ(MakeS3ObjectStore(options).status().code(), StatusCode::kInvalidArgument);
}

TEST(S3ObjectStoreTest, KeysTooLongForS3WithThePrefixAreRefusedBeforeAnyRequest) {
  HttpTestServer server([](const RecordedRequest&) { return HttpTestResponse{200, ""}; });
  ObjectStorePtr store = StoreOn(server);  // prefix "runs": 5 of S3's 1024 bytes
  std::string key(1020, 'k');
  EXPECT_TRUE(ValidateObjectKey(key).ok());
  std::istringstream source("x");
  Result<ObjectInfo> put = store->Put(key, source, 1);
  EXPECT_EQ(put.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(put.status().message().find("longer than S3's 1024 bytes"), std::string::npos);
  EXPECT_EQ(store->Head(key).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(server.requests().empty());
}

TEST(S3XmlTest, ParsesListingsErrorsAndDates) {
  Result<s3::ListObjectsV2Result> listing = s3::ParseListObjectsV2(
      "<?xml version=\"1.0\"?><ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<IsTruncated>true</IsTruncated><NextContinuationToken>t1</NextContinuationToken>"
      "<Contents><Key>a &amp; b</Key><Size>12</Size>"
      "<LastModified>2026-11-27T12:00:00.250Z</LastModified></Contents></ListBucketResult>");
  ASSERT_TRUE(listing.ok()) << listing.status().ToString();
  ASSERT_EQ(listing->objects.size(), 1u);
  EXPECT_EQ(listing->objects[0].key, "a & b");
  EXPECT_EQ(listing->objects[0].size, 12u);
  EXPECT_EQ(FormatIso8601(listing->objects[0].last_modified).substr(0, 19), "2026-11-27T12:00:00");
  EXPECT_TRUE(listing->truncated);
  EXPECT_FALSE(s3::ParseListObjectsV2("<ListBucketResult><Contents><Key>k</Key>"
                                      "<Size>-1</Size></Contents></ListBucketResult>")
                   .ok());
  std::optional<s3::S3ErrorXml> error =
      s3::ParseErrorXml("<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, "NoSuchKey");
  EXPECT_FALSE(s3::ParseErrorXml("not xml"));
  EXPECT_TRUE(s3::ParseHttpDate("Fri, 27 Nov 2026 12:00:00 GMT"));
  EXPECT_FALSE(s3::ParseHttpDate("yesterday"));
  EXPECT_EQ(s3::CompleteMultipartXml({"\"a\""}),
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;a&quot;"
            "</ETag></Part></CompleteMultipartUpload>");
}

}  // namespace
}  // namespace trainyard::storage
