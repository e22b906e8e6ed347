// A small S3 client for s3_api_test: requests signed with aws::SignWithHeaders (or presigned
// with aws::Presign) and sent with libcurl, answers kept as they came; plus a raw-socket upload
// that stops mid-body, for the disconnect tests. Not thread-safe; one per test.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "aws/credentials.h"
#include "common/time_format.h"

namespace trainyard::server::s3::testing {

struct S3TestRequest {
  std::string method = "GET";
  std::string path = "/";  // as on the wire: "/bucket/key%20with%20space"
  std::vector<std::pair<std::string, std::string>> query;  // decoded pairs
  std::map<std::string, std::string> headers;
  std::string body;
  // The x-amz-content-sha256 to sign and send; empty: the body's SHA-256.
  std::string payload_sha256;
  std::optional<TimePoint> signing_time;        // default: now
  std::optional<aws::Credentials> credentials;  // default: the client's
  bool sign = true;
  bool chunked = false;  // send the body with Transfer-Encoding: chunked (no Content-Length)
};

struct S3TestResponse {
  long status = 0;                             // 0: no answer
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  // The text of <name> in the body, or "".
  std::string Xml(const std::string& name) const;
};

class S3TestClient {
 public:
  S3TestClient(std::string endpoint, aws::Credentials credentials)
      : endpoint_(std::move(endpoint)), credentials_(std::move(credentials)) {}

  S3TestResponse Send(const S3TestRequest& request);
  // Shorthands.
  S3TestResponse Get(const std::string& path,
                     std::vector<std::pair<std::string, std::string>> query = {});
  S3TestResponse Put(const std::string& path, const std::string& body,
                     std::map<std::string, std::string> headers = {});
  S3TestResponse Head(const std::string& path);
  S3TestResponse Delete(const std::string& path,
                        std::vector<std::pair<std::string, std::string>> query = {});

  // PUTs `data` as an aws-chunked body of `chunk_size`-byte chunks. `mode`:
  // STREAMING-AWS4-HMAC-SHA256-PAYLOAD (chunk signatures; `tamper` flips a data byte after
  // signing) or STREAMING-UNSIGNED-PAYLOAD-TRAILER (an x-amz-checksum-sha256 trailer; `tamper`
  // sends a wrong checksum).
  S3TestResponse PutAwsChunked(const std::string& path, const std::string& data, size_t chunk_size,
                               const std::string& mode, bool tamper);

  // A presigned GET URL for `path`, signed at `time` for `expires`.
  std::string PresignGet(const std::string& path, TimePoint time, std::chrono::seconds expires);

  // Sends a signed (UNSIGNED-PAYLOAD) PUT announcing `declared_size` bytes, writes only `sent`,
  // and closes the connection.
  void PutAndHangUp(const std::string& path, std::vector<std::pair<std::string, std::string>> query,
                    size_t declared_size, const std::string& sent);

  const std::string& endpoint() const { return endpoint_; }

 private:
  std::string endpoint_;  // "http://127.0.0.1:PORT"
  aws::Credentials credentials_;
};

// base64(MD5(data)), for Content-MD5.
std::string Md5Base64(const std::string& data);

}  // namespace trainyard::server::s3::testing
