// The istream source PutObject and UploadPart hand to ObjectStore::Put: exactly `size` bytes of
// the request body, with Content-MD5 checked before the last bytes are handed over, so that a
// mismatch makes the Put end short and nothing is stored (x-amz-content-sha256 is checked by
// Put itself, through PutOptions.expected_sha256_hex). Not thread-safe: one request's thread.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <streambuf>
#include <string>
#include <vector>

#include "common/status.h"
#include "server/http/http_server.h"

namespace trainyard::server::s3 {

class UploadBodyBuffer : public std::streambuf {
 public:
  // `content_md5_base64`: the Content-MD5 header, or "" when absent.
  UploadBodyBuffer(BodyReader& body, uint64_t size, const std::string& content_md5_base64);
  ~UploadBodyBuffer() override;

  // Why the body ended early: the client went away or stalled (Unavailable), ...
  const Status& read_error() const { return read_error_; }
  // The body's MD5 is not the Content-MD5 header's (so its last bytes were withheld).
  bool md5_mismatch() const { return md5_mismatch_; }
  // All `size` bytes were handed over.
  bool complete() const { return delivered_ == size_; }

  // Whether `text` is a valid Content-MD5 value (base64 of 16 bytes); "" is valid (absent).
  static bool ValidContentMd5(const std::string& text);

 protected:
  int_type underflow() override;

 private:
  BodyReader& body_;
  uint64_t size_;
  std::string expected_md5_;  // raw 16 bytes, or empty
  EVP_MD_CTX* md5_ = nullptr;
  std::vector<char> buffer_;
  uint64_t delivered_ = 0;
  Status read_error_;
  bool md5_mismatch_ = false;
};

// Reads a small whole body (XML documents), checking x-amz-content-sha256 (when it is a hex
// digest) and Content-MD5 (when present). Errors are S3 codes: XAmzContentSHA256Mismatch,
// BadDigest, InvalidDigest, MaxMessageLengthExceeded, IncompleteBody.
struct SmallBody {
  std::string text;
  std::string error_code;  // empty: fine
  std::string error_message;
  int http_status = 400;
};
SmallBody ReadSmallBody(const HttpRequest& request, BodyReader& body, size_t limit,
                        const std::string& payload_sha256);

}  // namespace trainyard::server::s3
