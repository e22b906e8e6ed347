#include "wrapper/http_post.h"

#include <gtest/gtest.h>

#include <thread>

#include "support/http_test_server.h"

namespace trainyard::wrapper {
namespace {
using namespace std::chrono_literals;
using testing::HttpTestServer;

TEST(ParseHttpUrlTest, SplitsHostPortAndTarget) {
  auto url = ParseHttpUrl("http://127.0.0.1:8080/api/v1/jobs/j/progress?x=1#top");
  ASSERT_TRUE(url.has_value());
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, "8080");
  EXPECT_EQ(url->target, "/api/v1/jobs/j/progress?x=1");
  EXPECT_EQ(url->host_header, "127.0.0.1:8080");

  url = ParseHttpUrl("http://[::1]:9000/p");
  ASSERT_TRUE(url.has_value());
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, "9000");
  EXPECT_EQ(url->host_header, "[::1]:9000");

  url = ParseHttpUrl("http://trainyard.internal");
  ASSERT_TRUE(url.has_value());
  EXPECT_EQ(url->port, "80");
  EXPECT_EQ(url->target, "/");
  EXPECT_EQ(ParseHttpUrl("http://h?q=1")->target, "/?q=1");
}

TEST(ParseHttpUrlTest, LeavesEverythingElseToLibcurl) {
  for (const char* url :
       {"https://h/p", "HTTP://h/p", "http://", "http://user:pw@h/p", "http://h:0/p",
        "http://h:70000/p", "http://h:x/p", "http://[::1/p", "http://:80/p", "ftp://h/p"}) {
    EXPECT_FALSE(ParseHttpUrl(url).has_value()) << url;
  }
}

PostRequest To(const std::string& url, std::string body = "{}") {
  PostRequest request;
  request.url = *ParseHttpUrl(url);
  request.headers = {"Content-Type: application/json", "Authorization: Bearer t0k"};
  request.body = std::move(body);
  return request;
}

TEST(PostPlainHttpTest, SendsTheRequestAndReadsTheStatus) {
  HttpTestServer server([](const testing::RecordedRequest&) {
    return testing::HttpTestResponse{.status = 202, .body = std::string(100'000, 'x')};
  });
  std::atomic<bool> abandon{false};
  PostOutcome outcome = PostPlainHttp(To(server.url("/p?a=b"), R"({"k":1})"), abandon);
  EXPECT_EQ(outcome.status, 202) << outcome.error;
  EXPECT_EQ(outcome.error, "");
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/p?a=b");
  EXPECT_EQ(requests[0].headers["host"], "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(requests[0].headers["authorization"], "Bearer t0k");
  EXPECT_EQ(requests[0].headers["content-type"], "application/json");
  EXPECT_EQ(requests[0].body, R"({"k":1})");
}

TEST(PostPlainHttpTest, SaysWhyNoAnswerCame) {
  std::atomic<bool> abandon{false};
  PostOutcome refused = PostPlainHttp(
      To("http://127.0.0.1:" + std::to_string(testing::UnusedLoopbackPort()) + "/p"), abandon);
  EXPECT_EQ(refused.status, 0);
  EXPECT_NE(refused.error.find("Connection refused"), std::string::npos) << refused.error;

  HttpTestServer hanging(HttpTestServer::Mode::kHang);
  PostRequest request = To(hanging.url("/p"));
  request.timeout = 300ms;
  auto started = std::chrono::steady_clock::now();
  PostOutcome timed_out = PostPlainHttp(request, abandon);
  EXPECT_EQ(timed_out.status, 0);
  EXPECT_NE(timed_out.error.find("timed out"), std::string::npos) << timed_out.error;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
}

TEST(PostPlainHttpTest, GivesUpAtOnceWhenAbandoned) {
  HttpTestServer hanging(HttpTestServer::Mode::kHang);
  std::atomic<bool> abandon{false};
  std::thread abandoner([&] {
    std::this_thread::sleep_for(200ms);
    abandon = true;
  });
  auto started = std::chrono::steady_clock::now();
  PostOutcome outcome = PostPlainHttp(To(hanging.url("/p")), abandon);
  abandoner.join();
  EXPECT_EQ(outcome.error, "abandoned");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

}  // namespace
}  // namespace trainyard::wrapper
