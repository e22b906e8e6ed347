#include "server/s3/s3_test_client.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "aws/amz_date.h"
#include "aws/crypto.h"
#include "aws/sigv4.h"
#include "support/curl_callbacks.h"

namespace trainyard::server::s3::testing {
namespace {

struct ReadState {
  const std::string* body;
  size_t offset = 0;
};

size_t ReadBody(char* buffer, size_t size, size_t count, void* state_pointer) {
  auto* state = static_cast<ReadState*>(state_pointer);
  size_t n = std::min(size * count, state->body->size() - state->offset);
  std::memcpy(buffer, state->body->data() + state->offset, n);
  state->offset += n;
  return n;
}

std::string HostOf(const std::string& endpoint) {
  return endpoint.substr(endpoint.find("://") + 3);
}

}  // namespace

std::string S3TestResponse::Xml(const std::string& name) const {
  size_t start = body.find("<" + name + ">");
  if (start == std::string::npos) return "";
  start += name.size() + 2;
  size_t end = body.find("</" + name + ">", start);
  return end == std::string::npos ? "" : body.substr(start, end - start);
}

std::string Md5Base64(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_md5(), nullptr);
  unsigned char encoded[64];
  int n = EVP_EncodeBlock(encoded, digest, static_cast<int>(length));
  return std::string(reinterpret_cast<char*>(encoded), n);
}

S3TestResponse S3TestClient::Send(const S3TestRequest& request) {
  std::map<std::string, std::string> headers = request.headers;
  if (request.sign) {
    aws::HttpRequestToSign to_sign;
    to_sign.method = request.method;
    to_sign.path = request.path;
    to_sign.query = request.query;
    to_sign.headers.emplace_back("Host", HostOf(endpoint_));
    for (const auto& [name, value] : headers) to_sign.headers.emplace_back(name, value);
    to_sign.payload_sha256_hex =
        request.payload_sha256.empty() ? aws::Sha256Hex(request.body) : request.payload_sha256;
    aws::SigningParams params;
    params.credentials = request.credentials.value_or(credentials_);
    params.region = "us-east-1";
    params.service = "s3";
    params.time = request.signing_time.value_or(std::chrono::system_clock::now());
    params.s3_rules = true;
    auto signed_request = aws::SignWithHeaders(to_sign, params);
    if (!signed_request.ok()) {
      // A payload hash the signer refuses (STREAMING-...): sign its canonical form by hand.
      aws::SignedHeaderSet names;
      to_sign.headers.emplace_back("x-amz-date", aws::FormatAmzDate(params.time));
      to_sign.headers.emplace_back("x-amz-content-sha256", to_sign.payload_sha256_hex);
      std::string canonical = aws::CanonicalRequest(to_sign, params, &names);
      std::string signature = aws::Signature(aws::StringToSign(canonical, params), params);
      headers["x-amz-date"] = aws::FormatAmzDate(params.time);
      headers["x-amz-content-sha256"] = to_sign.payload_sha256_hex;
      headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=" + params.credentials.access_key_id +
                                 "/" + aws::CredentialScope(params) +
                                 ", SignedHeaders=" + names.ToString() + ", Signature=" + signature;
    } else {
      for (const auto& [name, value] : signed_request->headers_to_add) headers[name] = value;
    }
  }
  std::string url = endpoint_ + request.path;
  if (!request.query.empty()) url += "?" + aws::CanonicalQueryString(request.query);

  S3TestResponse response;
  CURL* curl = curl_easy_init();
  curl_slist* header_list = nullptr;
  bool has_content_type = false;
  for (const auto& [name, value] : headers) {
    header_list = curl_slist_append(header_list, (name + ": " + value).c_str());
    if (strcasecmp(name.c_str(), "content-type") == 0) has_content_type = true;
  }
  if (!has_content_type) header_list = curl_slist_append(header_list, "Content-Type:");
  header_list = curl_slist_append(header_list, "Expect:");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);  // hostile keys reach the server as written
  ReadState read_state{&request.body};
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.chunked) {
    header_list = curl_slist_append(header_list, "Transfer-Encoding: chunked");
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadBody);
    curl_easy_setopt(curl, CURLOPT_READDATA, &read_state);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  } else if (request.method == "PUT" || request.method == "POST" || !request.body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  } else {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, header_list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, trainyard::testing::CurlAppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, trainyard::testing::CurlAppendHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 30000L);
  if (curl_easy_perform(curl) == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  }
  curl_slist_free_all(header_list);
  curl_easy_cleanup(curl);
  return response;
}

S3TestResponse S3TestClient::Get(const std::string& path,
                                 std::vector<std::pair<std::string, std::string>> query) {
  S3TestRequest request;
  request.path = path;
  request.query = std::move(query);
  return Send(request);
}

S3TestResponse S3TestClient::Put(const std::string& path, const std::string& body,
                                 std::map<std::string, std::string> headers) {
  S3TestRequest request;
  request.method = "PUT";
  request.path = path;
  request.body = body;
  request.headers = std::move(headers);
  return Send(request);
}

S3TestResponse S3TestClient::Head(const std::string& path) {
  S3TestRequest request;
  request.method = "HEAD";
  request.path = path;
  return Send(request);
}

S3TestResponse S3TestClient::Delete(const std::string& path,
                                    std::vector<std::pair<std::string, std::string>> query) {
  S3TestRequest request;
  request.method = "DELETE";
  request.path = path;
  request.query = std::move(query);
  return Send(request);
}

std::string S3TestClient::PresignGet(const std::string& path, TimePoint time,
                                     std::chrono::seconds expires) {
  aws::HttpRequestToSign to_sign;
  to_sign.method = "GET";
  to_sign.path = path;
  to_sign.headers.emplace_back("Host", HostOf(endpoint_));
  to_sign.payload_sha256_hex = "UNSIGNED-PAYLOAD";
  aws::SigningParams params;
  params.credentials = credentials_;
  params.region = "eu-west-3";  // any region is accepted
  params.service = "s3";
  params.time = time;
  params.s3_rules = true;
  auto query = aws::PresignQuery(to_sign, params, expires);
  return endpoint_ + path + "?" + (query.ok() ? *query : "");
}

void S3TestClient::PutAndHangUp(const std::string& path,
                                std::vector<std::pair<std::string, std::string>> query,
                                size_t declared_size, const std::string& sent) {
  aws::HttpRequestToSign to_sign;
  to_sign.method = "PUT";
  to_sign.path = path;
  to_sign.query = query;
  to_sign.headers.emplace_back("Host", HostOf(endpoint_));
  to_sign.headers.emplace_back("Content-Length", std::to_string(declared_size));
  to_sign.payload_sha256_hex = "UNSIGNED-PAYLOAD";
  aws::SigningParams params;
  params.credentials = credentials_;
  params.region = "us-east-1";
  params.service = "s3";
  params.time = std::chrono::system_clock::now();
  params.s3_rules = true;
  auto signed_request = aws::SignWithHeaders(to_sign, params);
  std::string head = "PUT " + path;
  if (!query.empty()) head += "?" + aws::CanonicalQueryString(query);
  head += " HTTP/1.1\r\n";
  for (const auto& [name, value] : to_sign.headers) head += name + ": " + value + "\r\n";
  if (signed_request.ok()) {
    for (const auto& [name, value] : signed_request->headers_to_add) {
      head += name + ": " + value + "\r\n";
    }
  }
  head += "\r\n";
  std::string host = HostOf(endpoint_);
  int port = std::stoi(host.substr(host.rfind(':') + 1));
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    std::string bytes = head + sent;
    (void)!write(fd, bytes.data(), bytes.size());
  }
  close(fd);
}

S3TestResponse S3TestClient::PutAwsChunked(const std::string& path, const std::string& data,
                                           size_t chunk_size, const std::string& mode,
                                           bool tamper) {
  bool signed_chunks = mode == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
  aws::SigningParams params;
  params.credentials = credentials_;
  params.region = "us-east-1";
  params.service = "s3";
  params.time = std::chrono::system_clock::now();
  params.s3_rules = true;
  std::map<std::string, std::string> headers = {
      {"content-encoding", "aws-chunked"},
      {"x-amz-decoded-content-length", std::to_string(data.size())},
      {"x-amz-date", aws::FormatAmzDate(params.time)},
      {"x-amz-content-sha256", mode}};
  if (!signed_chunks) headers["x-amz-trailer"] = "x-amz-checksum-sha256";
  aws::HttpRequestToSign to_sign;
  to_sign.method = "PUT";
  to_sign.path = path;
  to_sign.headers.emplace_back("host", HostOf(endpoint_));
  for (const auto& [name, value] : headers) to_sign.headers.emplace_back(name, value);
  to_sign.payload_sha256_hex = mode;
  aws::SignedHeaderSet names;
  std::string canonical = aws::CanonicalRequest(to_sign, params, &names);
  std::string previous = aws::Signature(aws::StringToSign(canonical, params), params);
  headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=" + credentials_.access_key_id + "/" +
                             aws::CredentialScope(params) + ", SignedHeaders=" + names.ToString() +
                             ", Signature=" + previous;
  auto chunk = [&](const std::string& piece) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx", piece.size());
    std::string line = size;
    if (signed_chunks) {
      std::string to_sign_chunk = "AWS4-HMAC-SHA256-PAYLOAD\n" + aws::FormatAmzDate(params.time) +
                                  "\n" + aws::CredentialScope(params) + "\n" + previous + "\n" +
                                  aws::Sha256Hex("") + "\n" + aws::Sha256Hex(piece);
      previous = aws::Signature(to_sign_chunk, params);
      line += ";chunk-signature=" + previous;
    }
    std::string sent = piece;
    if (tamper && signed_chunks && !sent.empty()) sent[0] ^= 1;
    return line + "\r\n" + sent + "\r\n";
  };
  S3TestRequest request;
  request.method = "PUT";
  request.path = path;
  request.sign = false;
  for (size_t offset = 0; offset < data.size(); offset += chunk_size) {
    request.body += chunk(data.substr(offset, chunk_size));
  }
  std::string last = chunk("");
  if (signed_chunks) {
    request.body += last + "\r\n";
  } else {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    std::string summed = tamper ? data + "!" : data;
    EVP_Digest(summed.data(), summed.size(), digest, &length, EVP_sha256(), nullptr);
    unsigned char encoded[64];
    int n = EVP_EncodeBlock(encoded, digest, static_cast<int>(length));
    request.body +=
        "0\r\nx-amz-checksum-sha256:" + std::string(reinterpret_cast<char*>(encoded), n) +
        "\r\n\r\n";
  }
  request.headers = headers;
  return Send(request);
}

}  // namespace trainyard::server::s3::testing
