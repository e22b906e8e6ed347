#include "server/sagemaker/sagemaker_test_client.h"

#include <curl/curl.h>
#include <strings.h>

#include "aws/crypto.h"
#include "aws/sigv4.h"
#include "support/curl_callbacks.h"

namespace trainyard::server::sagemaker::testing {

std::string JsonTestResponse::Type() const {
  if (!json.is_object() || !json.contains("__type")) return "";
  return json["__type"].get<std::string>();
}

std::string JsonTestResponse::Message() const {
  if (!json.is_object() || !json.contains("message")) return "";
  return json["message"].get<std::string>();
}

JsonTestResponse JsonTestClient::Send(const JsonTestRequest& request) {
  std::map<std::string, std::string> headers = {{"Content-Type", "application/x-amz-json-1.1"},
                                                {"X-Amz-Target", request.target}};
  if (request.sign) {
    aws::HttpRequestToSign to_sign;
    to_sign.method = request.method;
    to_sign.path = "/";
    to_sign.headers.emplace_back("Host", endpoint_.substr(endpoint_.find("://") + 3));
    for (const auto& [name, value] : headers) to_sign.headers.emplace_back(name, value);
    to_sign.payload_sha256_hex = aws::Sha256Hex(request.body);
    aws::SigningParams params;
    params.credentials = request.credentials.value_or(credentials_);
    params.region = request.region;
    params.service = request.service;
    params.time = request.signing_time.value_or(std::chrono::system_clock::now());
    auto signed_request = aws::SignWithHeaders(to_sign, params);
    if (signed_request.ok()) {
      for (const auto& [name, value] : signed_request->headers_to_add) headers[name] = value;
    }
  }
  for (const auto& [name, value] : request.headers) {
    for (auto it = headers.begin(); it != headers.end();) {
      it = strcasecmp(it->first.c_str(), name.c_str()) == 0 ? headers.erase(it) : std::next(it);
    }
    headers[name] = value;
  }
  const std::string& body =
      request.body_after_signing.empty() ? request.body : request.body_after_signing;

  JsonTestResponse response;
  CURL* curl = curl_easy_init();
  curl_slist* header_list = nullptr;
  for (const auto& [name, value] : headers) {
    header_list = curl_slist_append(header_list, (name + ": " + value).c_str());
  }
  header_list = curl_slist_append(header_list, "Expect:");
  std::string url = endpoint_ + "/";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, header_list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, trainyard::testing::CurlAppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, trainyard::testing::CurlAppendHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  if (curl_easy_perform(curl) == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  }
  curl_slist_free_all(header_list);
  curl_easy_cleanup(curl);
  response.json = nlohmann::json::parse(response.body, nullptr, false);
  if (response.json.is_discarded()) response.json = nullptr;
  return response;
}

JsonTestResponse JsonTestClient::SageMaker(const std::string& operation,
                                           const nlohmann::json& input) {
  JsonTestRequest request;
  request.target = "SageMaker." + operation;
  request.body = input.dump();
  return Send(request);
}

JsonTestResponse JsonTestClient::Logs(const std::string& operation, const nlohmann::json& input) {
  JsonTestRequest request;
  request.target = "Logs_20140328." + operation;
  request.service = "logs";
  request.body = input.dump();
  return Send(request);
}

}  // namespace trainyard::server::sagemaker::testing
