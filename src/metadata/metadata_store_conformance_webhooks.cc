// The conformance suite, part 3: webhooks, their deliveries and the dispatcher's cursor.
#include "metadata/metadata_store_conformance.h"

namespace trainyard::metadata {
namespace {

using nlohmann::json;

WebhookRecord MakeWebhook(const std::string& id, int64_t created_millis = 0) {
  return WebhookRecord{.id = id,
                       .url = "https://hooks.example.com/" + id,
                       .events = {"job.completed", "sweep.completed"},
                       .secret = "s3cret-" + id,
                       .format = "slack",
                       .created_at = TestTime(created_millis)};
}

DeliveryRecord MakeDelivery(const std::string& id, const std::string& webhook_id,
                            int64_t next_millis) {
  DeliveryRecord delivery;
  delivery.id = id;
  delivery.webhook_id = webhook_id;
  delivery.event_type = "job.completed";
  delivery.event_id = 42;
  delivery.sweep_id = "sw-a";
  delivery.job_name = "a-000";
  delivery.payload = {{"type", "job.completed"}, {"job", {{"name", "a-000"}}}};
  delivery.next_attempt_at = TestTime(next_millis);
  delivery.retry_until = TestTime(next_millis + 86'400'000);
  delivery.created_at = TestTime(next_millis);
  return delivery;
}

TEST_P(MetadataStoreConformanceTest, WebhookRoundTripsEveryField) {
  ASSERT_TRUE(store_->CreateWebhook(MakeWebhook("wh-1", 5)).ok());
  Result<WebhookRecord> got = store_->GetWebhook("wh-1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  WebhookRecord expected = MakeWebhook("wh-1", 5);
  EXPECT_EQ(got->url, expected.url);
  EXPECT_EQ(got->events, expected.events);
  EXPECT_EQ(got->secret, expected.secret);
  EXPECT_EQ(got->format, "slack");
  EXPECT_EQ(got->created_at, expected.created_at);
  EXPECT_EQ(store_->CreateWebhook(expected).code(), StatusCode::kAlreadyExists);
  Result<WebhookRecord> missing = store_->GetWebhook("wh-none");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Contains(missing.status().message(), "wh-none"));
}

TEST_P(MetadataStoreConformanceTest, WebhooksListOldestFirstAndDeleteTakesTheirDeliveries) {
  ASSERT_TRUE(store_->CreateWebhook(MakeWebhook("wh-b", 20)).ok());
  ASSERT_TRUE(store_->CreateWebhook(MakeWebhook("wh-a", 10)).ok());
  Result<std::vector<WebhookRecord>> listed = store_->ListWebhooks();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].id, "wh-a");
  EXPECT_EQ((*listed)[1].id, "wh-b");

  ASSERT_TRUE(store_->AddDeliveries({MakeDelivery("dl-1", "wh-a", 0)}, 0, 7).ok());
  ASSERT_TRUE(store_->DeleteWebhook("wh-a").ok());
  EXPECT_EQ(store_->GetDelivery("dl-1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->DeleteWebhook("wh-a").code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->ListDeliveries("wh-a").status().code(), StatusCode::kNotFound);
  listed = store_->ListWebhooks();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
}

TEST_P(MetadataStoreConformanceTest, AddDeliveriesMovesTheCursorInTheSameTransaction) {
  Result<int64_t> cursor = store_->WebhookCursor();
  ASSERT_TRUE(cursor.ok());
  EXPECT_EQ(*cursor, 0);
  ASSERT_TRUE(store_->CreateWebhook(MakeWebhook("wh-1")).ok());
  ASSERT_TRUE(store_->AddDeliveries({MakeDelivery("dl-1", "wh-1", 0)}, 0, 41).ok());
  EXPECT_EQ(*store_->WebhookCursor(), 41);
  // Nothing to deliver still moves the cursor.
  ASSERT_TRUE(store_->AddDeliveries({}, 41, 50).ok());
  EXPECT_EQ(*store_->WebhookCursor(), 50);
  // A refused batch leaves both the deliveries and the cursor as they were.
  Status refused = store_->AddDeliveries(
      {MakeDelivery("dl-2", "wh-1", 0), MakeDelivery("dl-1", "wh-1", 0)}, 50, 60);
  EXPECT_EQ(refused.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*store_->WebhookCursor(), 50);
  EXPECT_EQ(store_->GetDelivery("dl-2").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->AddDeliveries({MakeDelivery("dl-3", "wh-ghost", 0)}, 50, 70).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(*store_->WebhookCursor(), 50);
}

// Two dispatchers (replicas) that read the cursor at the same value: the first to add its
// batch moves the cursor; the other's batch, made from the same events, is refused whole.
TEST_P(MetadataStoreConformanceTest, AddDeliveriesFromAStaleCursorInsertsNothing) {
  ASSERT_TRUE(store_->CreateWebhook(MakeWebhook("wh-1")).ok());
  ASSERT_TRUE(store_->AddDeliveries({MakeDelivery("dl-first", "wh-1", 0)}, 0, 30).ok());
  Status stale = store_->AddDeliveries({MakeDelivery("dl-second", "wh-1", 0)}, 0, 35);
  EXPECT_EQ(stale.code(), StatusCode::kFailedPrecondition) << stale.ToString();
  EXPECT_EQ(*store_->WebhookCursor(), 30);
  EXPECT_EQ(store_->GetDelivery("dl-second").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->GetDelivery("dl-first").ok());
}

TEST_P(MetadataStoreConformanceTest, DeliveryRoundTripsAndUpdatesItsState) {
  ASSERT_TRUE(store_->CreateWebhook(MakeWebhook("wh-1")).ok());
  DeliveryRecord delivery = MakeDelivery("dl-1", "wh-1", 100);
  ASSERT_TRUE(store_->AddDeliveries({delivery}, 0, 1).ok());
  Result<DeliveryRecord> got = store_->GetDelivery("dl-1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->webhook_id, "wh-1");
  EXPECT_EQ(got->event_type, "job.completed");
  EXPECT_EQ(got->event_id, 42);
  EXPECT_EQ(got->sweep_id, "sw-a");
  EXPECT_EQ(got->job_name, "a-000");
  EXPECT_EQ(got->payload, delivery.payload);
  EXPECT_EQ(got->status, "pending");
  EXPECT_EQ(got->attempts, 0);
  EXPECT_FALSE(got->response_code);
  EXPECT_FALSE(got->latency_ms);
  EXPECT_EQ(got->next_attempt_at, delivery.next_attempt_at);
  EXPECT_EQ(got->retry_until, delivery.retry_until);
  EXPECT_EQ(got->created_at, delivery.created_at);

  got->attempts = 2;
  got->response_code = 503;
  got->latency_ms = 17;
  got->last_error = "answered 503";
  got->next_attempt_at = TestTime(5000);
  ASSERT_TRUE(store_->UpdateDelivery(*got).ok());
  Result<DeliveryRecord> updated = store_->GetDelivery("dl-1");
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->attempts, 2);
  EXPECT_EQ(updated->response_code, 503);
  EXPECT_EQ(updated->latency_ms, 17);
  EXPECT_EQ(updated->last_error, "answered 503");
  EXPECT_EQ(updated->next_attempt_at, TestTime(5000));

  updated->status = "succeeded";
  updated->next_attempt_at.reset();
  ASSERT_TRUE(store_->UpdateDelivery(*updated).ok());
  EXPECT_FALSE(store_->GetDelivery("dl-1")->next_attempt_at);
  EXPECT_EQ(store_->UpdateDelivery(MakeDelivery("dl-none", "wh-1", 0)).code(),
            StatusCode::kNotFound);
}

TEST_P(MetadataStoreConformanceTest, ClaimedDueDeliveriesArePendingOnesEarliestFirstAndOnce) {
  ASSERT_TRUE(store_->CreateWebhook(MakeWebhook("wh-1")).ok());
  DeliveryRecord done = MakeDelivery("dl-done", "wh-1", 10);
  done.status = "succeeded";
  ASSERT_TRUE(
      store_
          ->AddDeliveries({MakeDelivery("dl-late", "wh-1", 300), MakeDelivery("dl-b", "wh-1", 200),
                           MakeDelivery("dl-a", "wh-1", 100), done},
                          0, 9)
          .ok());
  EXPECT_EQ(*store_->NextDeliveryTime(), TestTime(100));
  Result<std::vector<DeliveryRecord>> due =
      store_->ClaimDueDeliveries(TestTime(250), 10, TestTime(1000));
  ASSERT_TRUE(due.ok()) << due.status().ToString();
  ASSERT_EQ(due->size(), 2u);
  EXPECT_EQ((*due)[0].id, "dl-a");
  EXPECT_EQ((*due)[1].id, "dl-b");
  EXPECT_EQ((*due)[0].next_attempt_at, TestTime(100));  // as they were before the claim
  // Claimed: no one else gets them until the claim runs out.
  EXPECT_TRUE(store_->ClaimDueDeliveries(TestTime(250), 10, TestTime(1000))->empty());
  EXPECT_EQ(store_->GetDelivery("dl-a")->next_attempt_at, TestTime(1000));
  EXPECT_EQ(*store_->NextDeliveryTime(), TestTime(300));
  Result<std::vector<DeliveryRecord>> again =
      store_->ClaimDueDeliveries(TestTime(1000), 1, TestTime(2000));
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].id, "dl-late");

  Result<std::vector<DeliveryRecord>> listed = store_->ListDeliveries("wh-1");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 4u);
  EXPECT_EQ((*listed)[0].id, "dl-late");  // newest first
  EXPECT_EQ(store_->ListDeliveries("wh-1", 2)->size(), 2u);
}

TEST_P(MetadataStoreConformanceTest, NoPendingDeliveryMeansNoNextTime) {
  Result<std::optional<TimePoint>> next = store_->NextDeliveryTime();
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(*next);
}

}  // namespace
}  // namespace trainyard::metadata
