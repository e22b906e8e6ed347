// The chunk and trailer string-to-sign formats are those of "Signature Calculations for the
// Authorization Header: Transferring Payload in Multiple Chunks" in the S3 API reference:
//   AWS4-HMAC-SHA256-PAYLOAD \n date \n scope \n previous signature \n sha256("") \n sha256(chunk)
//   AWS4-HMAC-SHA256-TRAILER \n date \n scope \n previous signature \n sha256(trailer lines)
#include "server/s3/aws_chunked.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "aws/amz_date.h"
#include "aws/crypto.h"
#include "server/s3/s3_auth.h"

namespace trainyard::server::s3 {
namespace {

constexpr char kSignedPayload[] = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
constexpr char kSignedTrailer[] = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
constexpr char kUnsignedTrailer[] = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
constexpr size_t kMaxLine = 4096;

std::array<uint32_t, 256> CrcTable(uint32_t polynomial) {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) ? (crc >> 1) ^ polynomial : crc >> 1;
    table[i] = crc;
  }
  return table;
}

}  // namespace

// The trailer's checksum over the decoded bytes: CRC32, CRC32C, SHA-1 or SHA-256.
struct AwsChunkedReader::Checksum {
  std::string name;  // "x-amz-checksum-crc32"
  std::array<uint32_t, 256> table{};
  uint32_t crc = 0xFFFFFFFFu;
  EVP_MD_CTX* digest = nullptr;
  ~Checksum() {
    if (digest) EVP_MD_CTX_free(digest);
  }
  void Update(const char* data, size_t size) {
    if (digest) {
      EVP_DigestUpdate(digest, data, size);
      return;
    }
    for (size_t i = 0; i < size; ++i) {
      crc = table[(crc ^ static_cast<unsigned char>(data[i])) & 0xFF] ^ (crc >> 8);
    }
  }
  std::string FinishBase64() {
    if (digest) {
      unsigned char out[EVP_MAX_MD_SIZE];
      unsigned int length = 0;
      EVP_DigestFinal_ex(digest, out, &length);
      return aws::Base64Encode(std::string_view(reinterpret_cast<const char*>(out), length));
    }
    uint32_t value = crc ^ 0xFFFFFFFFu;
    unsigned char bytes[4] = {
        static_cast<unsigned char>(value >> 24), static_cast<unsigned char>(value >> 16),
        static_cast<unsigned char>(value >> 8), static_cast<unsigned char>(value)};
    return aws::Base64Encode(std::string_view(reinterpret_cast<const char*>(bytes), 4));
  }
};

S3Outcome CheckAwsChunkedSupport(const std::string& mode, const std::string& trailer) {
  if (mode != kSignedPayload && mode != kSignedTrailer && mode != kUnsignedTrailer) {
    return NotImplemented("x-amz-content-sha256: " + mode);
  }
  static const char* kKnown[] = {"", "x-amz-checksum-crc32", "x-amz-checksum-crc32c",
                                 "x-amz-checksum-sha1", "x-amz-checksum-sha256"};
  if (std::find(std::begin(kKnown), std::end(kKnown), trailer) == std::end(kKnown)) {
    return NotImplemented("the trailing checksum x-amz-trailer: " + trailer);
  }
  return std::nullopt;
}

AwsChunkedReader::AwsChunkedReader(BodyReader& encoded, AwsChunkedOptions options)
    : encoded_(encoded), options_(std::move(options)) {
  previous_signature_ = options_.seed_signature;
  chunk_hash_ = EVP_MD_CTX_new();
  if (!options_.trailer.empty()) {
    checksum_ = std::make_unique<Checksum>();
    checksum_->name = options_.trailer;
    if (options_.trailer == "x-amz-checksum-crc32") checksum_->table = CrcTable(0xEDB88320u);
    if (options_.trailer == "x-amz-checksum-crc32c") checksum_->table = CrcTable(0x82F63B78u);
    const EVP_MD* md = options_.trailer == "x-amz-checksum-sha1"     ? EVP_sha1()
                       : options_.trailer == "x-amz-checksum-sha256" ? EVP_sha256()
                                                                     : nullptr;
    if (md) {
      checksum_->digest = EVP_MD_CTX_new();
      EVP_DigestInit_ex(checksum_->digest, md, nullptr);
    }
  }
}

AwsChunkedReader::~AwsChunkedReader() {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(chunk_hash_));
}

Status AwsChunkedReader::Fail(S3Error error) {
  failure_ = std::move(error);
  return ::trainyard::InvalidArgument(failure_->message);
}

Status AwsChunkedReader::Fill(size_t bytes) {
  if (position_ > 0 && position_ == buffered_.size()) {
    buffered_.clear();
    position_ = 0;
  }
  char chunk[64 * 1024];
  while (buffered_.size() - position_ < bytes) {
    TY_ASSIGN_OR_RETURN(size_t n, encoded_.Read(chunk, sizeof chunk));
    if (n == 0) break;
    buffered_.append(chunk, n);
  }
  return Status::Ok();
}

Result<std::string> AwsChunkedReader::ReadLine() {
  while (true) {
    size_t end = buffered_.find("\r\n", position_);
    if (end != std::string::npos) {
      std::string line = buffered_.substr(position_, end - position_);
      position_ = end + 2;
      return line;
    }
    size_t before = buffered_.size() - position_;
    if (before > kMaxLine)
      return Fail(MakeError(400, "InvalidRequest", "aws-chunked: line too long"));
    TY_RETURN_IF_ERROR(Fill(before + 1));
    if (buffered_.size() - position_ == before) {
      return Fail(
          MakeError(400, "IncompleteBody", "aws-chunked: the body ended inside a chunk header"));
    }
  }
}

Status AwsChunkedReader::StartChunk() {
  TY_ASSIGN_OR_RETURN(std::string line, ReadLine());
  size_t semicolon = line.find(';');
  std::string hex = line.substr(0, semicolon);
  uint64_t size = 0;
  bool valid = !hex.empty() && hex.size() <= 16;
  for (char c : hex) {
    int digit =
        std::isxdigit(static_cast<unsigned char>(c))
            ? (std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (c | 0x20) - 'a' + 10)
            : -1;
    if (digit < 0) valid = false;
    size = size * 16 + static_cast<uint64_t>(std::max(digit, 0));
  }
  if (!valid)
    return Fail(
        MakeError(400, "InvalidChunkSizeError", "aws-chunked: bad chunk size '" + hex + "'"));
  chunk_signature_.clear();
  if (options_.mode != kUnsignedTrailer) {
    const std::string prefix = "chunk-signature=";
    if (semicolon == std::string::npos || line.compare(semicolon + 1, prefix.size(), prefix) != 0) {
      return Fail(MakeError(400, "InvalidRequest", "aws-chunked: a chunk without chunk-signature"));
    }
    chunk_signature_ = line.substr(semicolon + 1 + prefix.size());
  }
  in_chunk_ = size;
  EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(chunk_hash_), EVP_sha256(), nullptr);
  return Status::Ok();
}

Status AwsChunkedReader::FinishChunk() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(chunk_hash_), digest, &length);
  if (options_.mode == kUnsignedTrailer) return Status::Ok();
  const aws::SigningParams& params = options_.signing;
  std::string to_sign = "AWS4-HMAC-SHA256-PAYLOAD\n" + aws::FormatAmzDate(params.time) + "\n" +
                        aws::CredentialScope(params) + "\n" + previous_signature_ + "\n" +
                        aws::Sha256Hex("") + "\n" +
                        aws::HexEncode(std::string_view(reinterpret_cast<char*>(digest), length));
  std::string expected = aws::Signature(to_sign, params);
  if (!ConstantTimeEquals(expected, chunk_signature_)) {
    return Fail(MakeError(403, "SignatureDoesNotMatch",
                          "aws-chunked: a chunk signature does not match its data"));
  }
  previous_signature_ = expected;
  return Status::Ok();
}

Status AwsChunkedReader::ReadEnd() {
  TY_RETURN_IF_ERROR(StartChunk());
  if (in_chunk_ != 0) {
    return Fail(MakeError(400, "InvalidRequest",
                          "aws-chunked: more data than x-amz-decoded-content-length"));
  }
  TY_RETURN_IF_ERROR(FinishChunk());
  bool has_trailer = options_.mode != kSignedPayload;
  std::string trailer_lines, trailer_signature, checksum_value;
  while (true) {
    TY_ASSIGN_OR_RETURN(std::string line, ReadLine());
    if (line.empty()) break;
    if (!has_trailer)
      return Fail(MakeError(400, "InvalidRequest", "aws-chunked: unexpected trailer"));
    size_t colon = line.find(':');
    std::string name = line.substr(0, colon),
                value = colon == std::string::npos ? "" : line.substr(colon + 1);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name == "x-amz-trailer-signature") {
      trailer_signature = value;
    } else {
      trailer_lines += name + ":" + value + "\n";
      if (checksum_ && name == checksum_->name) checksum_value = value;
    }
  }
  if (checksum_ && checksum_value != checksum_->FinishBase64()) {
    return Fail(MakeError(
        400, "BadDigest",
        "The " + checksum_->name + " you specified did not match the calculated checksum"));
  }
  if (options_.mode == kSignedTrailer) {
    const aws::SigningParams& params = options_.signing;
    std::string to_sign = "AWS4-HMAC-SHA256-TRAILER\n" + aws::FormatAmzDate(params.time) + "\n" +
                          aws::CredentialScope(params) + "\n" + previous_signature_ + "\n" +
                          aws::Sha256Hex(trailer_lines);
    if (!ConstantTimeEquals(aws::Signature(to_sign, params), trailer_signature)) {
      return Fail(MakeError(403, "SignatureDoesNotMatch",
                            "aws-chunked: the trailer signature does not match"));
    }
  }
  return Status::Ok();
}

Result<size_t> AwsChunkedReader::Read(char* buffer, size_t capacity) {
  if (failure_) return ::trainyard::InvalidArgument(failure_->message);
  if (delivered_ == options_.decoded_length || capacity == 0) return size_t{0};
  if (in_chunk_ == 0) {
    TY_RETURN_IF_ERROR(StartChunk());
    if (in_chunk_ == 0) {
      return Fail(MakeError(400, "IncompleteBody",
                            "aws-chunked: the body ended before x-amz-decoded-content-length"));
    }
  }
  uint64_t want = std::min<uint64_t>({capacity, in_chunk_, options_.decoded_length - delivered_});
  TY_RETURN_IF_ERROR(Fill(1));
  size_t n = static_cast<size_t>(std::min<uint64_t>(want, buffered_.size() - position_));
  if (n == 0) {
    return Fail(MakeError(400, "IncompleteBody", "aws-chunked: the body ended inside a chunk"));
  }
  std::memcpy(buffer, buffered_.data() + position_, n);
  position_ += n;
  in_chunk_ -= n;
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(chunk_hash_), buffer, n);
  if (checksum_) checksum_->Update(buffer, n);
  if (in_chunk_ == 0) {
    TY_ASSIGN_OR_RETURN(std::string rest, ReadLine());
    if (!rest.empty()) {
      return Fail(MakeError(400, "InvalidRequest", "aws-chunked: a chunk longer than its size"));
    }
    TY_RETURN_IF_ERROR(FinishChunk());
  } else if (delivered_ + n == options_.decoded_length) {
    return Fail(MakeError(400, "InvalidRequest",
                          "aws-chunked: a chunk runs past x-amz-decoded-content-length"));
  }
  if (delivered_ + n == options_.decoded_length) TY_RETURN_IF_ERROR(ReadEnd());
  delivered_ += n;
  return n;
}

}  // namespace trainyard::server::s3
