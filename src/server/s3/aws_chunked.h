// Decoding of aws-chunked request bodies (Content-Encoding: aws-chunked), the streaming forms
// of SigV4 payloads that SDKs use for uploads whose hash they do not compute up front:
//   STREAMING-AWS4-HMAC-SHA256-PAYLOAD          "<hex>;chunk-signature=<sig>\r\n<data>\r\n"...,
//                                               each chunk signed, chained from the seed
//                                               (the request's) signature
//   STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER  the same, then trailing headers (a checksum)
//                                               signed by x-amz-trailer-signature
//   STREAMING-UNSIGNED-PAYLOAD-TRAILER          "<hex>\r\n<data>\r\n"..., then a checksum trailer
// Every check (chunk signature, final chunk, trailer checksum and signature) is done before the
// last decoded byte is handed out, so ObjectStore::Put, which commits on its last byte, never
// stores a body that fails one. Not thread-safe: one request's thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "aws/sigv4.h"
#include "server/http/http_server.h"
#include "server/s3/s3_error.h"

namespace trainyard::server::s3 {

struct AwsChunkedOptions {
  std::string mode;             // one of the three x-amz-content-sha256 values above
  uint64_t decoded_length = 0;  // x-amz-decoded-content-length
  std::string trailer;          // x-amz-trailer ("x-amz-checksum-crc32"), or ""
  aws::SigningParams signing;   // the request's (signed modes)
  std::string seed_signature;   // the request's signature (signed modes)
};

// nullopt when `mode` and `trailer` are supported; else NotImplemented naming them.
S3Outcome CheckAwsChunkedSupport(const std::string& mode, const std::string& trailer);

class AwsChunkedReader : public BodyReader {
 public:
  AwsChunkedReader(BodyReader& encoded, AwsChunkedOptions options);
  ~AwsChunkedReader() override;
  // Decoded bytes; an error (and failure() set) when the encoding or a signature is wrong.
  Result<size_t> Read(char* buffer, size_t capacity) override;
  // Why decoding stopped, as an S3 error (SignatureDoesNotMatch, IncompleteBody, BadDigest,
  // InvalidRequest), or nullopt for a transport error or none.
  const S3Outcome& failure() const { return failure_; }

 private:
  struct Checksum;
  Status Fail(S3Error error);
  Status Fill(size_t bytes);  // until `bytes` unread bytes are buffered (or the body ends)
  Result<std::string> ReadLine();
  Status StartChunk();
  Status FinishChunk();
  Status ReadEnd();  // the final chunk and the trailer

  BodyReader& encoded_;
  AwsChunkedOptions options_;
  std::string buffered_;
  size_t position_ = 0;
  uint64_t in_chunk_ = 0;  // bytes of the current chunk still to read
  uint64_t delivered_ = 0;
  std::string chunk_signature_;
  std::string previous_signature_;
  void* chunk_hash_ = nullptr;  // EVP_MD_CTX*
  std::unique_ptr<Checksum> checksum_;
  S3Outcome failure_;
};

}  // namespace trainyard::server::s3
