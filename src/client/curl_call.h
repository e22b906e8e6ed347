// CurlCall: one libcurl easy handle set up the way every ApiClient call needs it (URL, bearer
// token, headers, timeouts, the status line and headers of the answer captured), so that
// api_client.cc, transfers.cc and event_stream.cc only add what is particular to them.
// Internal to trainyard_client.
#pragma once

#include <curl/curl.h>

#include <map>
#include <memory>
#include <string>

#include "client/api_client.h"
#include "common/status.h"

namespace trainyard::client {

// An error answer's body, kept by a call whose own write callback takes the body elsewhere (a
// file, the event parser): error answers are small JSON documents; more is not worth keeping.
inline constexpr size_t kMaxErrorBody = 1 << 20;

class CurlCall {
 public:
  // `url` is complete; `options` gives the token, the base URL named in errors and timeouts.
  CurlCall(const ApiClientOptions& options, const std::string& method, const std::string& url);
  ~CurlCall();
  CurlCall(const CurlCall&) = delete;
  CurlCall& operator=(const CurlCall&) = delete;

  CURL* handle() const { return handle_; }
  void AddHeader(const std::string& name, const std::string& value);
  // Gives up when no byte moves for the client's timeout, instead of a total limit.
  void UseStallTimeout();
  // Runs the call. A transport failure (no connection, timeout) is the returned Status; an
  // error answer is not: see status().
  Status Perform();

  long status() const { return status_; }
  const std::map<std::string, std::string>& headers() const { return headers_; }
  // The answer's body so far when the write callback is the default one (AppendTo body()).
  std::string& body() { return body_; }

 private:
  static size_t OnHeader(char* data, size_t size, size_t count, void* self);
  static size_t OnBody(char* data, size_t size, size_t count, void* self);

  const ApiClientOptions& options_;
  std::string method_;
  std::string url_;
  CURL* handle_;
  curl_slist* header_list_ = nullptr;
  char error_[CURL_ERROR_SIZE] = "";
  long status_ = 0;
  std::map<std::string, std::string> headers_;
  std::string body_;
};

}  // namespace trainyard::client
