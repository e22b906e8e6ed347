#include "server/http/request_log.h"

#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
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

// A GET or a POST of `body` with `headers`; the status, or 0 when nothing came back.
long Request(uint16_t port, const std::string& target, const std::vector<std::string>& headers,
             const std::string* body = nullptr) {
  CURL* curl = curl_easy_init();
  curl_slist* header_list = nullptr;
  for (const std::string& header : headers)
    header_list = curl_slist_append(header_list, header.c_str());
  std::string url = "http://127.0.0.1:" + std::to_string(port) + target;
  std::string received;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, header_list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, trainyard::testing::CurlAppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &received);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  if (body) curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->c_str());
  long status = 0;
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(header_list);
  curl_easy_cleanup(curl);
  return status;
}

// The server writes its line once the response is sent, so the client may see the response
// first: waits for `count` lines.
std::vector<std::string> AwaitLines(const LogCapture& log, size_t count) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (log.Lines().size() < count && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return log.Lines();
}

std::unique_ptr<HttpServer> StartServer(Handler handler, HttpServerOptions options) {
  options.port = 0;
  auto server = HttpServer::Start(options, std::move(handler));
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return server.ok() ? std::move(server).value() : nullptr;
}

TEST(RequestLog, OneLinePerRequestWithMethodPathStatusDurationAndRequestId) {
  LogCapture log;
  auto server = StartServer(
      [](const HttpRequest&, BodyReader&, ResponseWriter& response) {
        response.SetStatus(201);
        response.SetHeader("x-amz-request-id", "4442587FB7D0A2F9");
      },
      {.logger_name = "s3"});
  ASSERT_EQ(Request(server->port(),
                    "/bucket/key?X-Amz-Signature=f00dfeed&X-Amz-Credential=AKIAEXAMPLE", {}),
            201);
  std::vector<std::string> lines = AwaitLines(log, 1);
  ASSERT_EQ(lines.size(), 1u) << log.Text();
  EXPECT_THAT(lines[0], AllOf(HasSubstr("info s3: method=GET path=/bucket/key status=201 "
                                        "duration_ms="),
                              HasSubstr("request=4442587FB7D0A2F9")));
  // The query carries a presigned URL's signature and credential: never logged.
  EXPECT_THAT(lines[0], AllOf(Not(HasSubstr("?")), Not(HasSubstr("f00dfeed")),
                              Not(HasSubstr("AKIAEXAMPLE"))));
}

TEST(RequestLog, NeverWritesTheAuthorizationHeaderOrATokenInTheQuery) {
  LogCapture log({.level = "trace"});
  auto server = StartServer(
      [](const HttpRequest&, BodyReader&, ResponseWriter& response) { response.SetStatus(401); },
      {.logger_name = "api"});
  std::string body = "{\"token\":\"body-secret\"}";
  ASSERT_EQ(
      Request(server->port(), "/api/v1/sweeps?token=query-secret",
              {"Authorization: Bearer header-secret", "Cookie: session=cookie-secret"}, &body),
      401);
  std::vector<std::string> lines = AwaitLines(log, 1);
  ASSERT_EQ(lines.size(), 1u) << log.Text();
  EXPECT_THAT(lines[0], HasSubstr("api: method=POST path=/api/v1/sweeps status=401"));
  EXPECT_THAT(log.Text(), Not(HasSubstr("secret")));
}

TEST(RequestLog, AFailedHandlerIsA500AtWarnWithItsError) {
  LogCapture log;
  auto server = StartServer([](const HttpRequest&, BodyReader&,
                               ResponseWriter&) { throw std::runtime_error("disk on fire"); },
                            {});
  ASSERT_EQ(Request(server->port(), "/x", {}), 500);
  std::vector<std::string> lines = AwaitLines(log, 1);
  ASSERT_EQ(lines.size(), 1u) << log.Text();
  EXPECT_THAT(lines[0], AllOf(HasSubstr("warn http: method=GET path=/x status=500"),
                              HasSubstr("error=handler failed: disk on fire")));
}

TEST(RequestLog, ARequestRefusedBeforeItsHandlerIsLoggedToo) {
  LogCapture log;
  auto server =
      StartServer([](const HttpRequest&, BodyReader&, ResponseWriter&) {}, {.max_body_bytes = 10});
  std::string body(100, 'x');
  ASSERT_EQ(Request(server->port(), "/upload?part=1", {}, &body), 413);
  std::vector<std::string> lines = AwaitLines(log, 1);
  ASSERT_EQ(lines.size(), 1u) << log.Text();
  EXPECT_THAT(lines[0], AllOf(HasSubstr("method=POST path=/upload status=413"),
                              HasSubstr("error=request body of 100 bytes")));
}

TEST(RequestLog, AMalformedQueryIsNeitherLoggedNorQuoted) {
  LogCapture log;
  auto server = StartServer([](const HttpRequest&, BodyReader&, ResponseWriter&) {}, {});
  ASSERT_EQ(Request(server->port(), "/api/v1/jobs?token=half-secret%zz", {}), 400);
  std::vector<std::string> lines = AwaitLines(log, 1);
  ASSERT_EQ(lines.size(), 1u) << log.Text();
  EXPECT_THAT(lines[0], HasSubstr("path=/api/v1/jobs status=400"));
  EXPECT_THAT(lines[0], Not(HasSubstr("secret")));
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
