#include "aws/metadata_http.h"

#include <curl/curl.h>

#include <algorithm>
#include <memory>
#include <mutex>

namespace trainyard::aws {

namespace {

size_t AppendBody(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

Result<MetadataResponse> SendOnce(const MetadataRequest& request) {
  // curl_global_init is not thread-safe in older libcurl; run it once, before any handle exists.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return Internal("curl_easy_init failed");
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> headers(nullptr, curl_slist_free_all);
  for (const auto& [name, value] : request.headers) {
    std::string line = name + ": " + value;
    curl_slist* appended = curl_slist_append(headers.get(), line.c_str());
    if (appended == nullptr) return Internal("curl_slist_append failed");
    headers.release();
    headers.reset(appended);
  }
  MetadataResponse response;
  char error[CURL_ERROR_SIZE] = "";
  CURL* handle = curl.get();
  curl_easy_setopt(handle, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM: safe in threads
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(request.connect_timeout.count()));
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(request.total_timeout.count()));
  curl_easy_setopt(handle, CURLOPT_PROXY, "");  // ignore http_proxy & co.
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(handle, CURLOPT_MAXFILESIZE_LARGE,
                   static_cast<curl_off_t>(request.max_response_bytes));
  if (!request.body.empty()) {
    curl_easy_setopt(handle, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  }
  if (request.method != "GET") {
    curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  CURLcode code = curl_easy_perform(handle);
  if (code != CURLE_OK) {
    std::string reason = error[0] != '\0' ? error : curl_easy_strerror(code);
    std::string message = request.method + " " + RedactUrl(request.url) + " failed: " + reason;
    if (code == CURLE_OPERATION_TIMEDOUT) return Status(StatusCode::kDeadlineExceeded, message);
    return Unavailable(message);
  }
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace

Result<MetadataResponse> SendMetadataRequest(const MetadataRequest& request) {
  Result<MetadataResponse> result = Internal("no attempt made");
  for (int attempt = 0; attempt < std::max(request.attempts, 1); ++attempt) {
    result = SendOnce(request);
    if (result.ok() && result->status < 500) return result;
  }
  return result;
}

std::string RedactUrl(const std::string& url) {
  std::string redacted = url.substr(0, url.find_first_of("?#"));
  size_t authority = redacted.find("://");
  authority = authority == std::string::npos ? 0 : authority + 3;
  size_t path = redacted.find('/', authority);
  size_t at = redacted.rfind('@', path == std::string::npos ? redacted.size() : path);
  if (at != std::string::npos && at >= authority) redacted.erase(authority, at + 1 - authority);
  return redacted;
}

Result<UrlParts> SplitUrl(const std::string& url) {
  std::unique_ptr<CURLU, void (*)(CURLU*)> handle(curl_url(), curl_url_cleanup);
  if (!handle) return Internal("curl_url failed");
  if (curl_url_set(handle.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return InvalidArgument("'" + RedactUrl(url) + "' is not a valid URL");
  }
  UrlParts parts;
  for (auto [part, out] :
       {std::pair{CURLUPART_SCHEME, &parts.scheme}, std::pair{CURLUPART_HOST, &parts.host}}) {
    char* value = nullptr;
    if (curl_url_get(handle.get(), part, &value, 0) != CURLUE_OK || value == nullptr) {
      return InvalidArgument("'" + RedactUrl(url) + "' has no scheme or host");
    }
    *out = value;
    curl_free(value);
  }
  return parts;
}

}  // namespace trainyard::aws
