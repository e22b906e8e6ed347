#include "client/curl_call.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>

#include "common/ascii.h"

namespace trainyard::client {

namespace {

std::string Trim(const std::string& text) {
  size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  size_t end = text.find_last_not_of(" \t\r\n");
  return text.substr(begin, end - begin + 1);
}

}  // namespace

CurlCall::CurlCall(const ApiClientOptions& options, const std::string& method,
                   const std::string& url)
    : options_(options), method_(method), url_(url) {
  // curl_global_init is not thread-safe in older libcurl; run it once, before any handle exists.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  handle_ = curl_easy_init();
  if (handle_ == nullptr) return;
  curl_easy_setopt(handle_, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(handle_, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM
  curl_easy_setopt(handle_, CURLOPT_ERRORBUFFER, error_);
  curl_easy_setopt(handle_, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle_, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(handle_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(handle_, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(handle_, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(handle_, CURLOPT_HEADERDATA, this);
  curl_easy_setopt(handle_, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(handle_, CURLOPT_WRITEDATA, this);
  if (method == "POST") {
    curl_easy_setopt(handle_, CURLOPT_POST, 1L);
  } else if (method != "GET") {
    curl_easy_setopt(handle_, CURLOPT_CUSTOMREQUEST, method_.c_str());
  }
  if (!options_.token.empty()) AddHeader("Authorization", "Bearer " + options_.token);
  // Without this curl waits up to a second for "100 Continue" before sending a large body.
  AddHeader("Expect", "");
}

CurlCall::~CurlCall() {
  if (handle_ != nullptr) curl_easy_cleanup(handle_);
  curl_slist_free_all(header_list_);
}

void CurlCall::AddHeader(const std::string& name, const std::string& value) {
  // "Name:" (nothing after the colon) tells curl to leave out a header it would add itself.
  std::string line = value.empty() ? name + ":" : name + ": " + value;
  if (curl_slist* list = curl_slist_append(header_list_, line.c_str())) header_list_ = list;
}

void CurlCall::UseStallTimeout() {
  long seconds = std::max(1L, static_cast<long>(options_.timeout.count() / 1000));
  curl_easy_setopt(handle_, CURLOPT_TIMEOUT_MS, 0L);
  curl_easy_setopt(handle_, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(handle_, CURLOPT_LOW_SPEED_TIME, seconds);
}

Status CurlCall::Perform() {
  if (handle_ == nullptr) return Internal("curl_easy_init failed");
  curl_easy_setopt(handle_, CURLOPT_HTTPHEADER, header_list_);
  CURLcode code = curl_easy_perform(handle_);
  curl_easy_getinfo(handle_, CURLINFO_RESPONSE_CODE, &status_);
  if (code == CURLE_OK) return Status::Ok();
  std::string reason = error_[0] != '\0' ? error_ : curl_easy_strerror(code);
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: {
      long os_errno = 0;
      curl_easy_getinfo(handle_, CURLINFO_OS_ERRNO, &os_errno);
      if (code == CURLE_COULDNT_CONNECT && os_errno != 0) reason = std::strerror(os_errno);
      return Unavailable("cannot reach trainyard server at " + options_.base_url + ": " + reason);
    }
    case CURLE_OPERATION_TIMEDOUT:
      return Status(
          StatusCode::kDeadlineExceeded,
          method_ + " " + url_ + ": the trainyard server did not answer in time (" + reason + ")");
    default: return Unavailable(method_ + " " + url_ + " failed: " + reason);
  }
}

size_t CurlCall::OnHeader(char* data, size_t size, size_t count, void* self) {
  auto* call = static_cast<CurlCall*>(self);
  std::string line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new status line (after "100 Continue" or a redirect): forget the earlier headers.
    call->headers_.clear();
    size_t space = line.find(' ');
    if (space != std::string::npos)
      call->status_ = std::strtol(line.c_str() + space + 1, nullptr, 10);
  } else if (size_t colon = line.find(':'); colon != std::string::npos) {
    call->headers_[AsciiLower(Trim(line.substr(0, colon)))] = Trim(line.substr(colon + 1));
  }
  return size * count;
}

size_t CurlCall::OnBody(char* data, size_t size, size_t count, void* self) {
  static_cast<CurlCall*>(self)->body_.append(data, size * count);
  return size * count;
}

}  // namespace trainyard::client
