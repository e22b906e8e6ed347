// Why the MD5 check withholds the final bytes: ObjectStore::Put commits when it has read
// `size` bytes, and there is no "undo". Handing over everything but the last read until the
// digest is known turns a mismatch into a short source, which Put refuses without storing.
#include "server/s3/upload_body.h"

#include <openssl/evp.h>

#include <algorithm>

#include "aws/crypto.h"

namespace trainyard::server::s3 {
namespace {

std::string Md5(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_md5(), nullptr);
  return std::string(reinterpret_cast<char*>(digest), length);
}

}  // namespace

bool UploadBodyBuffer::ValidContentMd5(const std::string& text) {
  if (text.empty()) return true;
  auto raw = aws::Base64Decode(text);
  return raw && raw->size() == 16;
}

UploadBodyBuffer::UploadBodyBuffer(BodyReader& body, uint64_t size,
                                   const std::string& content_md5_base64)
    : body_(body), size_(size), buffer_(256 * 1024) {
  if (!content_md5_base64.empty()) {
    expected_md5_ = aws::Base64Decode(content_md5_base64).value_or("");
    md5_ = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md5_, EVP_md5(), nullptr);
    if (size_ == 0 && Md5("") != expected_md5_) md5_mismatch_ = true;
  }
}

UploadBodyBuffer::~UploadBodyBuffer() {
  if (md5_) EVP_MD_CTX_free(md5_);
}

UploadBodyBuffer::int_type UploadBodyBuffer::underflow() {
  if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
  if (!read_error_.ok() || md5_mismatch_ || delivered_ >= size_) return traits_type::eof();
  size_t want = static_cast<size_t>(std::min<uint64_t>(buffer_.size(), size_ - delivered_));
  auto got = body_.Read(buffer_.data(), want);
  if (!got.ok()) {
    read_error_ = got.status();
    return traits_type::eof();
  }
  if (*got == 0) {
    read_error_ = Unavailable("the body ended after " + std::to_string(delivered_) + " of " +
                              std::to_string(size_) + " bytes");
    return traits_type::eof();
  }
  if (md5_) {
    EVP_DigestUpdate(md5_, buffer_.data(), *got);
    if (delivered_ + *got == size_) {
      unsigned char digest[EVP_MAX_MD_SIZE];
      unsigned int length = 0;
      EVP_DigestFinal_ex(md5_, digest, &length);
      if (std::string(reinterpret_cast<char*>(digest), length) != expected_md5_) {
        md5_mismatch_ = true;
        return traits_type::eof();
      }
    }
  }
  delivered_ += *got;
  setg(buffer_.data(), buffer_.data(), buffer_.data() + *got);
  return traits_type::to_int_type(*gptr());
}

SmallBody ReadSmallBody(const HttpRequest& request, BodyReader& body, size_t limit,
                        const std::string& payload_sha256) {
  SmallBody result;
  auto text = body.ReadAll(limit);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kResourceExhausted) {
      result.error_code = "MaxMessageLengthExceeded";
      result.error_message =
          "Your request was too big: the limit is " + std::to_string(limit) + " bytes";
    } else {
      result.error_code = "IncompleteBody";
      result.error_message = "the request body ended early: " + text.status().message();
    }
    return result;
  }
  result.text = std::move(text).value();
  if (payload_sha256.size() == 64 && aws::Sha256Hex(result.text) != payload_sha256) {
    result.error_code = "XAmzContentSHA256Mismatch";
    result.error_message =
        "The provided 'x-amz-content-sha256' header does not match what was computed";
    return result;
  }
  const std::string& content_md5 = request.Header("content-md5");
  if (!content_md5.empty()) {
    auto expected = aws::Base64Decode(content_md5);
    if (!expected || expected->size() != 16) {
      result.error_code = "InvalidDigest";
      result.error_message = "The Content-MD5 you specified is not valid: '" + content_md5 + "'";
    } else if (Md5(result.text) != *expected) {
      result.error_code = "BadDigest";
      result.error_message = "The Content-MD5 you specified did not match what we received";
    }
  }
  return result;
}

}  // namespace trainyard::server::s3
