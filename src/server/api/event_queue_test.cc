#include "server/api/event_queue.h"

#include <gtest/gtest.h>

#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace trainyard::server {
namespace {

using nlohmann::json;

// A socket whose buffer takes `room` more bytes: what the queue writes is exactly what it
// would hand to the kernel.
class BoundedStream : public EventStream {
 public:
  bool Send(std::string_view bytes) override {
    std::optional<size_t> written = SendSome(bytes);
    if (!written || *written < bytes.size()) Close();
    return !closed_;
  }
  std::optional<size_t> SendSome(std::string_view bytes) override {
    if (closed_) return std::nullopt;
    size_t n = std::min(room, bytes.size());
    received.append(bytes.substr(0, n));
    room -= n;
    return n;
  }
  bool closed() const override { return closed_; }
  void Close() override { closed_ = true; }

  size_t room = 0;
  std::string received;

 private:
  bool closed_ = false;
};

FormattedEventPtr Make(int64_t id, const std::string& type, const std::string& job,
                       json data = json::object()) {
  return FormatEvent({.id = id, .type = type, .sweep_id = "sw", .job_name = job, .data = data});
}

// The ids and types of the events in a server-sent-event text, in order.
std::vector<std::string> Received(const std::string& text) {
  std::vector<std::string> events;
  size_t at = 0;
  while ((at = text.find("id: ", at)) != std::string::npos) {
    size_t end = text.find('\n', at);
    size_t type_end = text.find('\n', end + 1);
    events.push_back(text.substr(at + 4, end - at - 4) + " " +
                     text.substr(end + 8, type_end - end - 8));
    at = type_end;
  }
  return events;
}

TEST(EventQueueTest, SnapshotsConflateToTheNewestPerJobAndStatusChangesAreKept) {
  EventQueue queue;
  BoundedStream stream;  // takes nothing for now
  ASSERT_TRUE(
      queue
          .Deliver(
              {Make(1, "job.progress", "a", {{"step", 1}}),
               Make(2, "job.progress", "a", {{"step", 2}}),
               Make(3, "job.progress", "a", {{"step", 3}}),
               Make(4, "job.status", "a", {{"status", "Completed"}}),
               Make(5, "job.progress", "a", {{"step", 4}}),
               Make(6, "job.metrics", "a", {{"metrics", {{{"name", "loss"}, {"value", 0.5}}}}}),
               Make(7, "job.metrics", "a", {{"metrics", {{{"name", "accuracy"}, {"value", 0.9}}}}}),
               Make(8, "job.progress", "b", {{"step", 1}}), Make(9, "job.created", "c")},
              stream)
          .ok());
  EXPECT_EQ(stream.received, "");
  EXPECT_FALSE(queue.idle());
  EXPECT_EQ(queue.queued_events(), 5u);
  EXPECT_EQ(queue.conflated(), 4);

  stream.room = std::numeric_limits<size_t>::max();
  ASSERT_TRUE(queue.Flush(stream).ok());
  EXPECT_TRUE(queue.idle());
  EXPECT_EQ(queue.TakeSentCount(), 5);
  // Ids increase; job a's progress after its status change is the newest one.
  EXPECT_EQ(Received(stream.received),
            (std::vector<std::string>{"4 job.status", "5 job.progress", "7 job.metrics",
                                      "8 job.progress", "9 job.created"}));
  EXPECT_NE(stream.received.find("\"step\":4"), std::string::npos);
  // The metrics event carries the newest point of each metric.
  EXPECT_NE(stream.received.find("\"name\":\"loss\""), std::string::npos);
  EXPECT_NE(stream.received.find("\"name\":\"accuracy\""), std::string::npos);
  EXPECT_EQ(stream.received.find("\"step\":3"), std::string::npos);
}

TEST(EventQueueTest, ConflateKeepsTheNewestSnapshotPerJobInPlaceAndEveryOtherEvent) {
  int64_t conflated = 0;
  std::vector<FormattedEventPtr> kept = Conflate(
      {Make(1, "job.progress", "a", {{"step", 1}}),
       Make(2, "job.metrics", "a", {{"metrics", {{{"name", "loss"}, {"value", 0.5}}}}}),
       Make(3, "job.status", "a"), Make(4, "job.progress", "b", {{"step", 1}}),
       Make(5, "job.progress", "a", {{"step", 2}}),
       Make(6, "job.metrics", "a", {{"metrics", {{{"name", "accuracy"}, {"value", 0.9}}}}}),
       Make(7, "job.status", "a")},
      conflated);
  std::vector<int64_t> ids;
  for (const FormattedEventPtr& event : kept) ids.push_back(event->event.id);
  EXPECT_EQ(ids, (std::vector<int64_t>{3, 4, 5, 6, 7}));
  EXPECT_EQ(conflated, 2);
  EXPECT_EQ(kept[3]->event.data["metrics"].size(), 2u);  // loss, then accuracy
  EXPECT_NE(kept[3]->text.find("\"loss\""), std::string::npos);
}

TEST(EventQueueTest, AnEventWrittenInPartIsFinishedBeforeAnythingElse) {
  EventQueue queue;
  BoundedStream stream;
  FormattedEventPtr first = Make(1, "job.progress", "a", {{"step", 1}});
  stream.room = first->text.size() / 2;
  ASSERT_TRUE(queue.Deliver({first, Make(2, "job.progress", "a", {{"step", 2}})}, stream).ok());
  // The second would replace the first, but the first is on its way: it is finished.
  ASSERT_TRUE(queue.Deliver({Make(3, "job.progress", "a", {{"step", 3}})}, stream).ok());
  stream.room = std::numeric_limits<size_t>::max();
  ASSERT_TRUE(queue.Flush(stream).ok());
  EXPECT_EQ(stream.received, first->text + Make(3, "job.progress", "a", {{"step", 3}})->text);
  EXPECT_TRUE(queue.idle());
}

TEST(EventQueueTest, WhatFitsIsWrittenAtOnceAndTheRestInOrderLater) {
  EventQueue queue;
  BoundedStream stream;
  std::vector<FormattedEventPtr> events;
  std::string expected;
  for (int i = 1; i <= 20; ++i) {
    events.push_back(Make(i, "job.status", "job-" + std::to_string(i % 3), {{"i", i}}));
    expected += events.back()->text;
  }
  stream.room = expected.size() / 3;
  ASSERT_TRUE(queue.Deliver(events, stream).ok());
  EXPECT_EQ(stream.received, expected.substr(0, expected.size() / 3));
  while (!queue.idle()) {
    stream.room = 7;  // a client that reads a few bytes at a time
    ASSERT_TRUE(queue.Flush(stream).ok());
  }
  EXPECT_EQ(stream.received, expected);
}

TEST(EventQueueTest, AQueuePastItsCapIsReportedAndAClosedStreamToo) {
  EventQueue queue(/*max_bytes=*/2000);
  BoundedStream stream;
  std::vector<FormattedEventPtr> events;
  for (int i = 1; i <= 10; ++i) {
    events.push_back(Make(i, "job.status", "a", {{"message", std::string(200, 'x')}}));
  }
  Status delivered = queue.Deliver(events, stream);
  EXPECT_EQ(delivered.code(), StatusCode::kResourceExhausted) << delivered.ToString();
  EXPECT_NE(delivered.message().find("cap of 2000 bytes"), std::string::npos);
  stream.Close();
  EXPECT_EQ(queue.Flush(stream).code(), StatusCode::kUnavailable);

  // Snapshots alone stay under the cap however many come.
  EventQueue snapshots(/*max_bytes=*/2000);
  BoundedStream slow;
  for (int i = 1; i <= 1000; ++i) {
    ASSERT_TRUE(snapshots.Deliver({Make(i, "job.progress", "a", {{"step", i}})}, slow).ok());
  }
  EXPECT_EQ(snapshots.queued_events(), 1u);
}

TEST(EventQueueTest, KeepAliveOnlyWhenNothingIsPending) {
  EventQueue queue;
  BoundedStream stream;
  stream.room = 100;
  ASSERT_TRUE(queue.SendComment(": keep-alive\n\n", stream).ok());
  EXPECT_EQ(stream.received, ": keep-alive\n\n");
  stream.room = 0;
  ASSERT_TRUE(queue.Deliver({Make(1, "job.status", "a")}, stream).ok());
  stream.room = 100;
  ASSERT_TRUE(queue.SendComment(": keep-alive\n\n", stream).ok());
  EXPECT_EQ(stream.received, ": keep-alive\n\n");  // the pending event goes first, by Flush
}

}  // namespace
}  // namespace trainyard::server
