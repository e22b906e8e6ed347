#include "aws/json_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <random>
#include <thread>

#include "aws/crypto.h"
#include "aws/sigv4.h"

namespace trainyard::aws {
namespace {

// AWS's signature errors (InvalidSignatureException) quote the canonical request they expected,
// headers and all, a session token among them: that part never reaches a Status, so never a
// job's failure reason or a log line.
std::string WithoutQuotedRequest(std::string message) {
  const size_t quote = message.find("The Canonical String");
  if (quote == std::string::npos) return message;
  message.erase(quote);
  while (!message.empty() && std::isspace(static_cast<unsigned char>(message.back()))) {
    message.pop_back();
  }
  return message + " (AWS's quote of the signed request left out)";
}

size_t CollectBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

// "scheme://host[:port]" → "host[:port]", as the Host header and the signature want it.
std::string HostOf(const std::string& url) {
  size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  size_t end = url.find('/', start);
  return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// "com.amazonaws.sagemaker#ResourceInUse" and "ResourceInUse:http://..." both mean
// ResourceInUse (the JSON protocol allows either decoration).
std::string PlainErrorCode(std::string code) {
  if (size_t hash = code.rfind('#'); hash != std::string::npos) code = code.substr(hash + 1);
  if (size_t colon = code.find(':'); colon != std::string::npos) code = code.substr(0, colon);
  return code;
}

StatusCode CodeOf(const AwsError& error) {
  const std::string& code = error.code;
  if (code == "ValidationException" || code == "SerializationException" ||
      code == "InvalidParameterException")
    return StatusCode::kInvalidArgument;
  if (code.rfind("ResourceNotFound", 0) == 0) return StatusCode::kNotFound;
  if (code == "ResourceInUse" || code == "ResourceAlreadyExistsException")
    return StatusCode::kAlreadyExists;
  if (code == "ResourceLimitExceeded" || code == "LimitExceededException")
    return StatusCode::kResourceExhausted;
  if (code == "AccessDeniedException" || code == "UnrecognizedClientException" ||
      code == "InvalidSignatureException" || code == "MissingAuthenticationTokenException" ||
      code == "ExpiredTokenException" || error.http_status == 403)
    return StatusCode::kPermissionDenied;
  if (code == "ConflictException") return StatusCode::kFailedPrecondition;
  return StatusCode::kUnavailable;
}

}  // namespace

JsonServiceClient::JsonServiceClient(JsonServiceOptions options) : options_(std::move(options)) {
  url_ = options_.endpoint.empty()
             ? "https://" + options_.endpoint_host_prefix + "." + options_.region + ".amazonaws.com"
             : options_.endpoint;
  while (!url_.empty() && url_.back() == '/') url_.pop_back();
  host_header_ = HostOf(url_);
}

JsonServiceClient::~JsonServiceClient() {
  for (void* handle : pool_) curl_easy_cleanup(static_cast<CURL*>(handle));
}

void* JsonServiceClient::AcquireHandle() {
  {
    std::lock_guard lock(pool_mutex_);
    if (!pool_.empty()) {
      void* handle = pool_.back();
      pool_.pop_back();
      curl_easy_reset(static_cast<CURL*>(handle));  // keeps its connection
      return handle;
    }
  }
  return curl_easy_init();
}

void JsonServiceClient::ReleaseHandle(void* handle) {
  std::lock_guard lock(pool_mutex_);
  pool_.push_back(handle);
}

std::string JsonServiceClient::Url() const {
  return url_;
}

bool JsonServiceClient::IsRetryable(const AwsError& error) {
  static const char* const kThrottling[] = {"Throttling",
                                            "ThrottlingException",
                                            "ThrottledException",
                                            "RequestThrottledException",
                                            "TooManyRequestsException",
                                            "RequestLimitExceeded",
                                            "BandwidthLimitExceeded",
                                            "RequestThrottled",
                                            "SlowDown",
                                            "PriorRequestNotComplete",
                                            "EC2ThrottledException",
                                            "ProvisionedThroughputExceededException",
                                            "TransactionInProgressException",
                                            "RequestTimeout",
                                            "RequestTimeoutException",
                                            "InternalError",
                                            "InternalFailure",
                                            "ServiceUnavailable",
                                            "InternalServerError"};
  if (error.http_status == 0) return true;  // the connection failed or dropped
  for (const char* code : kThrottling) {
    if (error.code == code) return true;
  }
  long status = error.http_status;
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

JsonCallResult JsonServiceClient::Call(const std::string& operation, const nlohmann::json& input) {
  const std::string body = input.dump();
  for (int attempt = 1;; ++attempt) {
    JsonCallResult result = CallOnce(operation, body);
    // Only what reached the wire is retried: a credentials failure would fail again.
    bool retry = !result.ok() && result.sent && IsRetryable(result.error);
    if (!retry || attempt >= options_.max_attempts) return result;
    Backoff(attempt + 1);
  }
}

void JsonServiceClient::Backoff(int attempt) const {
  // Full jitter, as the SDKs: uniform in [0, min(max, base * 2^(attempt-2))].
  auto ceiling = options_.retry_base_delay * (1LL << std::min(attempt - 2, 20));
  ceiling = std::min<std::chrono::milliseconds>(ceiling, options_.retry_max_delay);
  thread_local std::mt19937_64 random{std::random_device{}()};
  std::uniform_int_distribution<int64_t> pick(0, ceiling.count());
  std::this_thread::sleep_for(std::chrono::milliseconds(pick(random)));
}

JsonCallResult JsonServiceClient::CallOnce(const std::string& operation, const std::string& body) {
  JsonCallResult result;
  const std::string what = options_.target_prefix + "." + operation;
  if (!options_.credentials) {
    result.status = FailedPrecondition(what + ": no AWS credentials provider");
    return result;
  }
  auto credentials = options_.credentials->Fetch();
  if (!credentials.ok()) {
    result.status = credentials.status().WithContext(what);
    return result;
  }

  HttpRequestToSign request;
  request.method = "POST";
  request.path = "/";
  request.headers = {{"Host", host_header_},
                     {"Content-Type", "application/x-amz-json-1.1"},
                     {"X-Amz-Target", what}};
  request.payload_sha256_hex = Sha256Hex(body);
  SigningParams params;
  params.credentials = credentials->credentials;
  params.region = options_.region;
  params.service = options_.signing_name;
  params.time = std::chrono::system_clock::now();
  auto signed_request = SignWithHeaders(request, params);
  if (!signed_request.ok()) {
    result.status = signed_request.status().WithContext(what);
    return result;
  }

  CURL* curl = static_cast<CURL*>(AcquireHandle());
  if (curl == nullptr) {
    result.status = Internal(what + ": curl_easy_init failed");
    return result;
  }
  curl_slist* headers = nullptr;
  HeaderList all = request.headers;
  all.insert(all.end(), signed_request->headers_to_add.begin(),
             signed_request->headers_to_add.end());
  for (const auto& [name, value] : all) {
    if (name == "Host") continue;  // curl sends it from the URL, identically
    headers = curl_slist_append(headers, (name + ": " + value).c_str());
  }
  headers = curl_slist_append(headers, "Expect:");
  std::string answer;
  curl_easy_setopt(curl, CURLOPT_URL, (url_ + "/").c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.total_timeout.count()));
  CURLcode code = curl_easy_perform(curl);
  long http_status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http_status);
  curl_slist_free_all(headers);
  if (code == CURLE_OK) {
    ReleaseHandle(curl);
  } else {
    curl_easy_cleanup(curl);  // its connection may be broken
  }

  result.sent = true;
  if (code != CURLE_OK) {
    result.status = Unavailable(what + ": " + url_ + ": " + curl_easy_strerror(code));
    return result;
  }
  nlohmann::json parsed = nlohmann::json::parse(answer.empty() ? "{}" : answer, nullptr, false);
  if (http_status >= 200 && http_status < 300) {
    if (parsed.is_discarded()) {
      result.status = Unavailable(what + ": the answer is not JSON");
      return result;
    }
    result.output = std::move(parsed);
    return result;
  }
  result.error.http_status = http_status;
  if (parsed.is_object()) {
    result.error.code = PlainErrorCode(parsed.value("__type", ""));
    // The JSON protocol spells it "message" or "Message".
    if (parsed.contains("message") && parsed["message"].is_string()) {
      result.error.message = WithoutQuotedRequest(parsed["message"]);
    } else if (parsed.contains("Message") && parsed["Message"].is_string()) {
      result.error.message = WithoutQuotedRequest(parsed["Message"]);
    }
  }
  if (result.error.code.empty()) result.error.code = "HTTP " + std::to_string(http_status);
  result.status =
      Status(CodeOf(result.error),
             operation + ": " + result.error.code +
                 (result.error.message.empty() ? std::string() : ": " + result.error.message));
  return result;
}

}  // namespace trainyard::aws
