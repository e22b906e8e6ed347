#include "storage/s3/s3_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <random>
#include <thread>

#include "aws/crypto.h"
#include "aws/presigned_url.h"
#include "aws/uri_encode.h"
#include "common/ascii.h"
#include "storage/s3/s3_xml.h"

namespace trainyard::storage::s3 {
namespace {

constexpr size_t kMaxCollectedBody = 16 << 20;  // listings and errors; objects stream

void InitCurlOnce() {
  // curl_global_init is not thread-safe in older libcurl: once, before any handle exists.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string Trim(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return "";
  size_t end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

struct Transfer {
  const S3Call* call = nullptr;
  S3Reply* reply = nullptr;
  size_t body_offset = 0;  // of call->body already sent
  bool stopped_by_sink = false;
};

// The status line comes before the body: it tells OnData where the bytes go.
size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    transfer->reply->headers.clear();  // a new status line (after a 100 Continue)
    size_t space = line.find(' ');
    if (space != std::string_view::npos && line.size() >= space + 4) {
      transfer->reply->status =
          std::strtol(std::string(line.substr(space + 1, 3)).c_str(), nullptr, 10);
    }
  } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
    transfer->reply->headers[AsciiLower(std::string(line.substr(0, colon)))] =
        Trim(line.substr(colon + 1));
  }
  return size * count;
}

size_t OnData(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t bytes = size * count;
  S3Reply& reply = *transfer->reply;
  if (transfer->call->on_data && reply.status / 100 == 2) {
    if (!transfer->call->on_data(data, bytes)) {
      transfer->stopped_by_sink = true;
      return 0;  // aborts the transfer
    }
    reply.streamed_bytes += bytes;
    return bytes;
  }
  if (reply.body.size() + bytes > kMaxCollectedBody) return 0;
  reply.body.append(data, bytes);
  return bytes;
}

size_t OnRead(char* buffer, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  std::string_view rest = transfer->call->body.substr(transfer->body_offset);
  size_t bytes = std::min(rest.size(), size * count);
  std::copy_n(rest.data(), bytes, buffer);
  transfer->body_offset += bytes;
  return bytes;
}

}  // namespace

struct S3Client::Handle {
  CURL* curl = nullptr;
  Handle() : curl(curl_easy_init()) {}
  ~Handle() { curl_easy_cleanup(curl); }
};

S3Client::S3Client(const S3ObjectStoreOptions& options) : options_(options) {
  InitCurlOnce();
  std::string endpoint = options_.endpoint;
  if (endpoint.empty()) endpoint = "https://s3." + options_.region + ".amazonaws.com";
  while (endpoint.ends_with('/')) endpoint.pop_back();
  size_t scheme_end = endpoint.find("://");
  std::string scheme = endpoint.substr(0, scheme_end);
  std::string host = endpoint.substr(scheme_end + 3);
  if (!options_.path_style) host = options_.bucket + "." + host;
  scheme_host_ = scheme + "://" + host;
  // The Host header curl sends, which must be the one signed: without a default port.
  if ((scheme == "http" && host.ends_with(":80")) ||
      (scheme == "https" && host.ends_with(":443"))) {
    host = host.substr(0, host.rfind(':'));
  }
  host_header_ = host;
}

S3Client::~S3Client() = default;

std::unique_ptr<S3Client::Handle> S3Client::Acquire() {
  {
    std::lock_guard lock(pool_mutex_);
    if (!pool_.empty()) {
      std::unique_ptr<Handle> handle = std::move(pool_.back());
      pool_.pop_back();
      return handle;
    }
  }
  return std::make_unique<Handle>();
}

void S3Client::Release(std::unique_ptr<Handle> handle) {
  std::lock_guard lock(pool_mutex_);
  pool_.push_back(std::move(handle));
}

std::string S3Client::EncodedPath(const std::string& object_key) const {
  std::string path = options_.path_style ? "/" + aws::UriEncode(options_.bucket, true) : "";
  if (!object_key.empty()) {
    path += "/" + aws::UriEncode(object_key, /*encode_slash=*/false);
  } else if (path.empty()) {
    path = "/";
  }
  return path;
}

Result<std::string> S3Client::Presign(const std::string& method, const std::string& object_key,
                                      std::chrono::seconds expires,
                                      const std::string& endpoint) const {
  if (method != "GET" && method != "PUT" && method != "HEAD") {
    return InvalidArgument("method '" + method + "': must be GET, PUT or HEAD");
  }
  TY_ASSIGN_OR_RETURN(aws::TimedCredentials credentials, options_.credentials->Fetch());
  const TimePoint now = std::chrono::system_clock::now();
  if (!endpoint.empty()) {
    return aws::PresignObjectUrl({.endpoint = endpoint,
                                  .bucket = options_.bucket,
                                  .key = object_key,
                                  .method = method,
                                  .region = options_.region,
                                  .signed_at = now,
                                  .expires = expires},
                                 credentials.credentials);
  }
  // The store's own address and addressing style, as its requests go (Send).
  aws::HttpRequestToSign request;
  request.method = method;
  request.path = EncodedPath(object_key);
  request.headers.emplace_back("Host", host_header_);
  request.payload_sha256_hex = "UNSIGNED-PAYLOAD";
  aws::SigningParams params{.credentials = credentials.credentials,
                            .region = options_.region,
                            .service = "s3",
                            .time = now,
                            .s3_rules = true};
  TY_ASSIGN_OR_RETURN(std::string query, aws::PresignQuery(request, params, expires));
  return scheme_host_ + request.path + "?" + query;
}

Result<S3Reply> S3Client::Send(const S3Call& call) {
  TY_ASSIGN_OR_RETURN(aws::TimedCredentials credentials, options_.credentials->Fetch());
  aws::HttpRequestToSign request;
  request.method = call.method;
  request.path = EncodedPath(call.object_key);
  request.query = call.query;
  request.headers = call.headers;
  request.headers.emplace_back("Host", host_header_);
  request.payload_sha256_hex =
      call.body_sha256_hex.empty() ? aws::Sha256Hex(call.body) : call.body_sha256_hex;
  aws::SigningParams params{.credentials = credentials.credentials,
                            .region = options_.region,
                            .service = "s3",
                            .time = std::chrono::system_clock::now(),
                            .s3_rules = true};
  TY_ASSIGN_OR_RETURN(aws::SignedRequest signed_request, aws::SignWithHeaders(request, params));

  std::string url = scheme_host_ + request.path;
  if (!call.query.empty()) url += "?" + aws::CanonicalQueryString(call.query);

  struct curl_slist* header_list = nullptr;
  auto add_header = [&](const std::string& name, const std::string& value) {
    header_list = curl_slist_append(header_list, (name + ": " + value).c_str());
  };
  for (const auto& [name, value] : call.headers) add_header(name, value);
  for (const auto& [name, value] : signed_request.headers_to_add) add_header(name, value);
  // No "Expect: 100-continue" round trip before each part; no curl-chosen content type.
  header_list = curl_slist_append(header_list, "Expect:");
  if (call.method == "POST" || call.method == "PUT") {
    bool typed = std::any_of(call.headers.begin(), call.headers.end(),
                             [](const auto& h) { return AsciiLower(h.first) == "content-type"; });
    if (!typed) header_list = curl_slist_append(header_list, "Content-Type:");
  }
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(header_list,
                                                                      curl_slist_free_all);

  std::unique_ptr<Handle> handle = Acquire();
  CURL* curl = handle->curl;
  curl_easy_reset(curl);
  S3Reply reply;
  Transfer transfer{&call, &reply};
  char error[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  // A transfer slower than 1 KiB/s for 60 s is dead (a stalled connection, not a slow network).
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnData);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  if (call.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (call.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, OnRead);
    curl_easy_setopt(curl, CURLOPT_READDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
  } else if (call.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, OnRead);
    curl_easy_setopt(curl, CURLOPT_READDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
  } else if (call.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, call.method.c_str());
  }
  CURLcode code = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  Release(std::move(handle));

  if (code != CURLE_OK) {
    if (transfer.stopped_by_sink) {
      return Internal(call.method + " of '" + call.object_key + "': the sink failed");
    }
    std::string reason = error[0] ? error : curl_easy_strerror(code);
    return Unavailable(call.method + " of '" + call.object_key + "' at " + scheme_host_ +
                       " failed: " + reason);
  }
  reply.status = status;
  return reply;
}

bool S3Client::Retryable(const Result<S3Reply>& outcome) const {
  if (!outcome.ok()) return outcome.status().code() == StatusCode::kUnavailable;
  long status = outcome->status;
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

void S3Client::Backoff(int attempt) const {
  // Full jitter (as the SDKs): uniform in [0, min(max, base * 2^(attempt-2))].
  auto ceiling = options_.retry_base_delay * (1LL << std::min(attempt - 2, 20));
  ceiling = std::min<std::chrono::milliseconds>(ceiling, options_.retry_max_delay);
  thread_local std::mt19937_64 random{std::random_device{}()};
  std::uniform_int_distribution<int64_t> pick(0, ceiling.count());
  std::this_thread::sleep_for(std::chrono::milliseconds(pick(random)));
}

Result<S3Reply> S3Client::SendWithRetries(const S3Call& call) {
  for (int attempt = 1;; ++attempt) {
    Result<S3Reply> outcome = Send(call);
    if (!Retryable(outcome) || attempt >= options_.max_attempts) return outcome;
    Backoff(attempt + 1);
  }
}

Status ReplyError(const std::string& operation, const std::string& what, const S3Reply& reply) {
  std::string detail = "HTTP " + std::to_string(reply.status);
  if (std::optional<S3ErrorXml> error = ParseErrorXml(reply.body)) {
    detail += " " + error->code;
    if (!error->message.empty()) detail += ": " + error->message;
  }
  std::string message = "S3 " + operation + " of " + what + " failed: " + detail;
  switch (reply.status) {
    case 404: return NotFound(message);
    case 403: return Status(StatusCode::kPermissionDenied, message);
    case 400:
    case 411:
    case 416: return InvalidArgument(message);
    case 409: return FailedPrecondition(message);
    default: return Unavailable(message);
  }
}

}  // namespace trainyard::storage::s3
