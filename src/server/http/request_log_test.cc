#include "server/http/request_log.h"

#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <thread>

#include "common/log_capture.h"
#include "server/http/http_server.h"
#include "support/curl_callbacks.h"

namespace trainyard::server::internal {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

struct ClientCall {
  std::string target;
  std::vector<std::string> headers;
  std::optional<std::string> body;  // a POST when set, else a GET
};

// The status of `call` against the server on `port`, or 0 when nothing came back.
long Perform(uint16_t port, const ClientCall& call) {
  CURL* curl = curl_easy_init();
  curl_slist* header_list = nullptr;
  for (const std::string& header : call.headers) {
    header_list = curl_slist_append(header_list, header.c_str());
  }
  std::string url = "http://127.0.0.1:" + std::to_string(port) + call.target;
  std::string received;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, header_list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, trainyard::testing::CurlAppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &received);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  if (call.body) curl_easy_setopt(curl, CURLOPT_POSTFIELDS, call.body->c_str());
  long status = 0;
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(header_list);
  curl_easy_cleanup(curl);
  return status;
}

// Serves `call` with `handler` and returns the one line the server logged (it writes it once
// the response is sent, so the client may see the response first: the line is awaited).
std::string LoggedLine(Handler handler, HttpServerOptions options, const ClientCall& call,
                       long expected_status, const LogOptions& log_options = {}) {
  LogCapture log(log_options);
  options.port = 0;
  auto server = HttpServer::Start(options, std::move(handler));
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  if (!server.ok()) return "";
  EXPECT_EQ(Perform((*server)->port(), call), expected_status);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (log.Lines().empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  (*server)->Stop();
  EXPECT_EQ(log.Lines().size(), 1u) << log.Text();
  return log.Lines().empty() ? "" : log.Lines()[0];
}

void Ignore(const HttpRequest&, BodyReader&, ResponseWriter&) {}

TEST(RequestLog, OneLinePerRequestWithMethodPathStatusDurationAndRequestId) {
  std::string line = LoggedLine(
      [](const HttpRequest&, BodyReader&, ResponseWriter& response) {
        response.SetStatus(201);
        response.SetHeader("x-amz-request-id", "4442587FB7D0A2F9");
      },
      {.logger_name = "s3"},
      {.target = "/bucket/key?X-Amz-Signature=f00dfeed&X-Amz-Credential=AKIAEXAMPLE"}, 201);
  EXPECT_THAT(line, AllOf(HasSubstr("info s3: method=GET path=/bucket/key status=201 duration_ms="),
                          HasSubstr("request=4442587FB7D0A2F9")));
  // The query carries a presigned URL's signature and credential: never logged.
  EXPECT_THAT(
      line, AllOf(Not(HasSubstr("?")), Not(HasSubstr("f00dfeed")), Not(HasSubstr("AKIAEXAMPLE"))));
}

TEST(RequestLog, NeverWritesTheAuthorizationHeaderOrATokenInTheQuery) {
  std::string line = LoggedLine(
      [](const HttpRequest&, BodyReader&, ResponseWriter& response) { response.SetStatus(401); },
      {.logger_name = "api"},
      {.target = "/api/v1/sweeps?token=query-secret",
       .headers = {"Authorization: Bearer header-secret", "Cookie: session=cookie-secret"},
       .body = "{\"token\":\"body-secret\"}"},
      401, {.level = "trace"});
  EXPECT_THAT(line, HasSubstr("api: method=POST path=/api/v1/sweeps status=401"));
  EXPECT_THAT(line, Not(HasSubstr("secret")));
}

TEST(RequestLog, AFailedHandlerIsA500AtWarnWithItsError) {
  std::string line = LoggedLine([](const HttpRequest&, BodyReader&,
                                   ResponseWriter&) { throw std::runtime_error("disk on fire"); },
                                {}, {.target = "/x"}, 500);
  EXPECT_THAT(line, AllOf(HasSubstr("warn http: method=GET path=/x status=500"),
                          HasSubstr("error=handler failed: disk on fire")));
}

TEST(RequestLog, ARequestRefusedBeforeItsHandlerIsLoggedToo) {
  std::string line = LoggedLine(Ignore, {.max_body_bytes = 10},
                                {.target = "/upload?part=1", .body = std::string(100, 'x')}, 413);
  EXPECT_THAT(line, AllOf(HasSubstr("method=POST path=/upload status=413"),
                          HasSubstr("error=request body of 100 bytes")));
}

TEST(RequestLog, AMalformedQueryIsNeitherLoggedNorQuoted) {
  std::string line = LoggedLine(Ignore, {}, {.target = "/api/v1/jobs?token=half-secret%zz"}, 400);
  EXPECT_THAT(line, HasSubstr("path=/api/v1/jobs status=400"));
  EXPECT_THAT(line, Not(HasSubstr("secret")));
}

TEST(RequestLog, MessageNamesTheRequestsIdWhenThereIsOne) {
  HttpRequest request{.method = "DELETE", .target = "/api/v1/datasets/ds-1?force=1"};
  request.remote_address = "127.0.0.1:5000";
  EXPECT_EQ(
      RequestLogMessage(request, {.status = 204, .duration = std::chrono::microseconds(2500)}),
      "method=DELETE path=/api/v1/datasets/ds-1 status=204 duration_ms=2 "
      "remote=127.0.0.1:5000");
  EXPECT_THAT(RequestLogMessage(request, {.status = 200, .request_id = "abc"}),
              HasSubstr(" request=abc"));
  EXPECT_TRUE(IsRequestIdHeader("x-amzn-RequestId"));
  EXPECT_TRUE(IsRequestIdHeader("X-Request-Id"));
  EXPECT_FALSE(IsRequestIdHeader("Authorization"));
}

}  // namespace
}  // namespace trainyard::server::internal
