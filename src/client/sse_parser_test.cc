#include "client/sse_parser.h"

#include <gtest/gtest.h>

#include <vector>

namespace trainyard::client {
namespace {

std::vector<SseEvent> ParseInChunks(const std::string& stream, size_t chunk) {
  std::vector<SseEvent> events;
  SseParser parser([&](const SseEvent& event) {
    events.push_back(event);
    return true;
  });
  for (size_t at = 0; at < stream.size(); at += chunk) {
    EXPECT_TRUE(parser.Feed(std::string_view(stream).substr(at, chunk)));
  }
  return events;
}

const char kStream[] =
    ": keep-alive comment\r\n"
    "id: 1\r\n"
    "event: log\r\n"
    "data: {\"line\": \"epoch 1\"}\r\n"
    "\r\n"
    "id: 2\n"
    "event: log\n"
    "data: first\n"
    "data:second\n"
    "\n"
    "data: no event name\r"
    "\r"
    "event: end\n"
    "data: {}\n"
    "\n"
    "data: unfinished";

TEST(SseParserTest, ParsesTheSameEventsWhateverTheChunkBoundaries) {
  std::string stream = kStream;
  for (size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    std::vector<SseEvent> events = ParseInChunks(stream, chunk);
    ASSERT_EQ(events.size(), 4u) << "chunk size " << chunk;
    EXPECT_EQ(events[0].id, "1");
    EXPECT_EQ(events[0].event, "log");
    EXPECT_EQ(events[0].data, "{\"line\": \"epoch 1\"}");
    EXPECT_EQ(events[1].id, "2");
    EXPECT_EQ(events[1].data, "first\nsecond");
    EXPECT_EQ(events[2].event, "message");
    EXPECT_EQ(events[2].id, "2") << "the last event id carries over";
    EXPECT_EQ(events[2].data, "no event name");
    EXPECT_EQ(events[3].event, "end");
    EXPECT_EQ(events[3].data, "{}");
  }
}

TEST(SseParserTest, BlocksWithoutDataAreNotDispatched) {
  std::vector<SseEvent> events = ParseInChunks("event: ping\n\nid: 7\n\n", 3);
  EXPECT_TRUE(events.empty());
}

TEST(SseParserTest, StopsWhenTheCallbackSaysSo) {
  int calls = 0;
  SseParser parser([&](const SseEvent& event) {
    ++calls;
    return event.event != "end";
  });
  EXPECT_TRUE(parser.Feed("data: a\n\n"));
  EXPECT_FALSE(parser.Feed("event: end\ndata: x\n\ndata: after\n\n"));
  EXPECT_FALSE(parser.Feed("data: more\n\n"));
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace trainyard::client
