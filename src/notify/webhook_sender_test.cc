#include "notify/webhook_sender.h"

#include <gtest/gtest.h>

#include "support/http_test_server.h"

namespace trainyard::notify {
namespace {

using testing::HttpTestServer;

WebhookPost Post(const std::string& url) {
  return WebhookPost{.url = url,
                     .body = R"({"type":"job.completed"})",
                     .event_type = "job.completed",
                     .delivery_id = "dl-0123456789abcdef",
                     .secret = "0123456789abcdef-secret",
                     .timestamp = "1800000000"};
}

TEST(WebhookSenderTest, ANamedHostIsPinnedToItsCheckedAddressesAndTheBodySigned) {
  HttpTestServer receiver(HttpTestServer::Mode::kAnswer, 202);
  std::string url = "http://localhost:" + std::to_string(receiver.port()) + "/hook";
  SendOutcome outcome = SendWebhook(Post(url), {.allow_private = true});
  ASSERT_TRUE(outcome.ok()) << outcome.error;
  EXPECT_EQ(outcome.response_code, 202);
  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/hook");
  EXPECT_EQ(requests[0].body, R"({"type":"job.completed"})");
  EXPECT_EQ(requests[0].headers.at("x-trainyard-event"), "job.completed");
  EXPECT_EQ(requests[0].headers.at("x-trainyard-delivery"), "dl-0123456789abcdef");
  EXPECT_EQ(requests[0].headers.at("x-trainyard-timestamp"), "1800000000");
  EXPECT_EQ(requests[0].headers.at("x-trainyard-signature"),
            SignatureHeader("0123456789abcdef-secret", "1800000000", requests[0].body));
  EXPECT_EQ(requests[0].headers.at("x-trainyard-signature").rfind("sha256=", 0), 0u);
}

TEST(WebhookSenderTest, PrivateTargetsAreRefusedBeforeAnyByteIsSent) {
  HttpTestServer receiver(HttpTestServer::Mode::kAnswer, 200);
  for (const std::string& host : {std::string("localhost"), std::string("127.0.0.1")}) {
    SendOutcome outcome =
        SendWebhook(Post("http://" + host + ":" + std::to_string(receiver.port()) + "/"), {});
    EXPECT_FALSE(outcome.ok());
    EXPECT_FALSE(outcome.response_code);
    EXPECT_NE(outcome.error.find("loopback"), std::string::npos) << outcome.error;
  }
  EXPECT_TRUE(receiver.requests().empty());
}

TEST(WebhookSenderTest, ANon2xxAnswerAndNoAnswerAreFailures) {
  HttpTestServer failing(HttpTestServer::Mode::kAnswer, 500);
  SendOutcome answered = SendWebhook(Post(failing.url("/")), {.allow_private = true});
  EXPECT_FALSE(answered.ok());
  EXPECT_EQ(answered.response_code, 500);
  EXPECT_EQ(answered.error, "answered 500");
  HttpTestServer hanging(HttpTestServer::Mode::kHang);
  SendOutcome timed_out = SendWebhook(
      Post(hanging.url("/")), {.allow_private = true, .timeout = std::chrono::milliseconds(300)});
  EXPECT_FALSE(timed_out.ok());
  EXPECT_FALSE(timed_out.response_code);
  EXPECT_GE(timed_out.latency_ms, 250);
  // No redirect is followed: a 3xx is a failed try, not a trip elsewhere.
  HttpTestServer redirecting([](const testing::RecordedRequest&) {
    return testing::HttpTestResponse{
        .status = 307, .body = "", .headers = {{"Location", "http://169.254.169.254/"}}};
  });
  SendOutcome redirected = SendWebhook(Post(redirecting.url("/")), {.allow_private = true});
  EXPECT_EQ(redirected.response_code, 307);
  EXPECT_FALSE(redirected.ok());
}

}  // namespace
}  // namespace trainyard::notify
