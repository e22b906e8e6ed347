#include "notify/webhook_request.h"

#include <gtest/gtest.h>

#include "control/sweep_request.h"

namespace trainyard::notify {
namespace {

using nlohmann::json;

std::string FieldOf(const json& body, bool allow_private = false) {
  auto checked = CheckWebhookRequest(body, allow_private);
  EXPECT_FALSE(checked.ok()) << body.dump();
  EXPECT_EQ(checked.status().code(), StatusCode::kInvalidArgument) << checked.status().ToString();
  return control::FieldOfError(checked.status());
}

TEST(WebhookRequestTest, DefaultsToEveryEventJsonAndAMadeSecret) {
  auto checked = CheckWebhookRequest({{"url", "https://203.0.113.7/hook"}}, false);
  ASSERT_TRUE(checked.ok()) << checked.status().ToString();
  EXPECT_EQ(checked->record.url, "https://203.0.113.7/hook");
  EXPECT_EQ(checked->record.events, WebhookEventTypes());
  EXPECT_EQ(checked->record.format, "json");
  EXPECT_TRUE(checked->secret_generated);
  EXPECT_EQ(checked->record.secret.size(), 64u);
  auto again = CheckWebhookRequest({{"url", "https://203.0.113.7/hook"}}, false);
  EXPECT_NE(again->record.secret, checked->record.secret);
}

TEST(WebhookRequestTest, KeepsTheGivenEventsOnceAndTheGivenSecret) {
  auto checked =
      CheckWebhookRequest({{"url", "http://203.0.113.7:8080/x"},
                           {"events", {"sweep.completed", "job.failed", "sweep.completed"}},
                           {"secret", "0123456789abcdef"},
                           {"format", "slack"}},
                          false);
  ASSERT_TRUE(checked.ok()) << checked.status().ToString();
  EXPECT_EQ(checked->record.events, (std::vector<std::string>{"sweep.completed", "job.failed"}));
  EXPECT_EQ(checked->record.secret, "0123456789abcdef");
  EXPECT_FALSE(checked->secret_generated);
  EXPECT_EQ(checked->record.format, "slack");
}

TEST(WebhookRequestTest, NamesTheFieldOfEachMistake) {
  const std::string url = "https://203.0.113.7/hook";
  EXPECT_EQ(FieldOf(json::object()), "url");
  EXPECT_EQ(FieldOf({{"url", 5}}), "url");
  EXPECT_EQ(FieldOf({{"url", "mailto:a@b.c"}}), "url");
  EXPECT_EQ(FieldOf({{"url", "http://127.0.0.1/"}}), "url");
  EXPECT_EQ(FieldOf({{"url", "http://169.254.169.254/"}}), "url");
  EXPECT_EQ(FieldOf({{"url", url}, {"events", json::array()}}), "events");
  EXPECT_EQ(FieldOf({{"url", url}, {"events", {"job.created"}}}), "events");
  EXPECT_EQ(FieldOf({{"url", url}, {"events", "job.completed"}}), "events");
  EXPECT_EQ(FieldOf({{"url", url}, {"secret", "too-short"}}), "secret");
  EXPECT_EQ(FieldOf({{"url", url}, {"secret", std::string(257, 'x')}}), "secret");
  EXPECT_EQ(FieldOf({{"url", url}, {"secret", 1234567890123456789}}), "secret");
  EXPECT_EQ(FieldOf({{"url", url}, {"format", "xml"}}), "format");
  EXPECT_EQ(FieldOf({{"url", url}, {"headers", json::object()}}), "headers");
  EXPECT_FALSE(CheckWebhookRequest(json::array(), false).ok());
  // A private target is taken when the server allows it.
  EXPECT_TRUE(CheckWebhookRequest({{"url", "http://127.0.0.1:9/"}}, true).ok());
}

}  // namespace
}  // namespace trainyard::notify
