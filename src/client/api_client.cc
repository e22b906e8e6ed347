#include "client/api_client.h"

#include <curl/curl.h>

#include "client/curl_call.h"

namespace trainyard::client {

namespace {

// For error bodies that are not the API's JSON (a proxy's HTML page, a crash): the code the
// HTTP status stands for in docs/api.md.
StatusCode CodeForHttpStatus(long http_status) {
  switch (http_status) {
    case 400: return StatusCode::kInvalidArgument;
    case 401: return StatusCode::kUnauthenticated;
    case 403: return StatusCode::kPermissionDenied;
    case 404: return StatusCode::kNotFound;
    case 409: return StatusCode::kFailedPrecondition;
    case 413:
    case 507: return StatusCode::kResourceExhausted;
    case 502:
    case 503: return StatusCode::kUnavailable;
    case 504: return StatusCode::kDeadlineExceeded;
    default: return StatusCode::kInternal;
  }
}

Result<nlohmann::json> ParseJsonBody(const HttpResponse& response) {
  if (response.body.find_first_not_of(" \t\r\n") == std::string::npos) {
    return nlohmann::json::object();
  }
  nlohmann::json json = nlohmann::json::parse(response.body, nullptr, false);
  if (json.is_discarded()) {
    return Internal("the server answered HTTP " + std::to_string(response.status) +
                    " with a body that is not JSON");
  }
  return json;
}

}  // namespace

Status StatusFromErrorResponse(long http_status, const std::string& body) {
  nlohmann::json json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_discarded() && json.is_object() && json.contains("error") &&
      json["error"].is_object()) {
    const nlohmann::json& error = json["error"];
    std::string code = error.value("code", std::string());
    std::string message = error.contains("message") && error["message"].is_string()
                              ? error["message"].get<std::string>()
                              : "HTTP " + std::to_string(http_status);
    StatusCode parsed = code.empty() ? CodeForHttpStatus(http_status) : ParseStatusCodeName(code);
    if (parsed == StatusCode::kOk) parsed = StatusCode::kInternal;
    return Status(parsed, message);
  }
  // Keep the first line only: an HTML error page is of no use on a terminal.
  std::string excerpt = body.substr(0, body.find_first_of("\r\n"));
  if (excerpt.size() > 200) excerpt = excerpt.substr(0, 200) + "...";
  std::string message = "the server answered HTTP " + std::to_string(http_status);
  if (!excerpt.empty()) message += ": " + excerpt;
  return Status(CodeForHttpStatus(http_status), message);
}

ApiClient::ApiClient(ApiClientOptions options) : options_(std::move(options)) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/') {
    options_.base_url.pop_back();
  }
}

std::string ApiClient::Url(const std::string& path) const {
  return options_.base_url + path;
}

std::string ApiClient::Escape(const std::string& text) {
  char* escaped = curl_easy_escape(nullptr, text.data(), static_cast<int>(text.size()));
  if (escaped == nullptr) return text;
  std::string result = escaped;
  curl_free(escaped);
  return result;
}

Result<HttpResponse> ApiClient::Send(const std::string& method, const std::string& path,
                                     const std::string& body,
                                     const std::map<std::string, std::string>& headers) {
  CurlCall call(options_, method, Url(path));
  if (method == "POST" || method == "PUT" || method == "PATCH" || !body.empty()) {
    curl_easy_setopt(call.handle(), CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(call.handle(), CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(body.size()));
  }
  call.AddHeader("Accept", "application/json");
  for (const auto& [name, value] : headers) call.AddHeader(name, value);
  TY_RETURN_IF_ERROR(call.Perform());
  if (call.status() >= 400) return StatusFromErrorResponse(call.status(), call.body());
  return HttpResponse{call.status(), std::move(call.body()), call.headers()};
}

Result<nlohmann::json> ApiClient::Get(const std::string& path) {
  TY_ASSIGN_OR_RETURN(HttpResponse response, Send("GET", path));
  return ParseJsonBody(response);
}

Result<nlohmann::json> ApiClient::Post(const std::string& path, const nlohmann::json& body,
                                       const std::map<std::string, std::string>& headers) {
  std::map<std::string, std::string> all = headers;
  all.emplace("Content-Type", "application/json");
  TY_ASSIGN_OR_RETURN(HttpResponse response, Send("POST", path, body.dump(), all));
  return ParseJsonBody(response);
}

Result<nlohmann::json> ApiClient::Delete(const std::string& path) {
  TY_ASSIGN_OR_RETURN(HttpResponse response, Send("DELETE", path));
  return ParseJsonBody(response);
}

}  // namespace trainyard::client
