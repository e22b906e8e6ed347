// std::stream adapters over HttpServer's streamed bodies, and the Range header, shared by the
// REST API and the S3 endpoint: a request body as an istream source (for ObjectStore::Put), a
// response as an ostream sink (for ObjectStore::Get), and a single "bytes=" range. Not
// thread-safe: one request's thread uses them.
#pragma once

#include <cstdint>
#include <optional>
#include <streambuf>
#include <string>
#include <vector>

#include "common/status.h"
#include "server/http/http_server.h"

namespace trainyard::server {

// A single "bytes=" range of an object of `size` bytes, as RFC 9110 reads it: "a-b", "a-",
// "-n". nullopt when there is no usable Range header (answer 200 with everything);
// InvalidArgument when it cannot be satisfied (answer 416).
struct RangeRequest {
  uint64_t offset = 0;
  uint64_t length = 0;
};
Result<std::optional<RangeRequest>> ParseRange(const std::string& header, uint64_t size);

// An istream source over the request body (for ObjectStore::Put). Read errors end the stream
// early; error() tells why.
class BodyStreamBuffer : public std::streambuf {
 public:
  explicit BodyStreamBuffer(BodyReader& body) : body_(body), buffer_(256 * 1024) {}
  const Status& error() const { return error_; }
  uint64_t bytes_read() const { return bytes_read_; }

 protected:
  int_type underflow() override;

 private:
  BodyReader& body_;
  std::vector<char> buffer_;
  Status error_;
  uint64_t bytes_read_ = 0;
};

// An ostream sink over the response body (for ObjectStore::Get).
class ResponseStreamBuffer : public std::streambuf {
 public:
  explicit ResponseStreamBuffer(ResponseWriter& response)
      : response_(response), buffer_(256 * 1024) {
    setp(buffer_.data(), buffer_.data() + buffer_.size());
  }
  ~ResponseStreamBuffer() override { sync(); }
  uint64_t bytes_written() const { return bytes_written_; }

 protected:
  int_type overflow(int_type ch) override;
  int sync() override;

 private:
  bool Flush();
  ResponseWriter& response_;
  std::vector<char> buffer_;
  uint64_t bytes_written_ = 0;
  bool failed_ = false;
};

}  // namespace trainyard::server
