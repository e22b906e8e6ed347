#include "server/api/event_hub.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "server/http/socket_io.h"

namespace trainyard::server {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// The client's end of a real socket whose other end is the hub's event stream; with `buffer`,
// both socket buffers are that small, so a client that does not read fills them soon.
class Client {
 public:
  explicit Client(int buffer = 4096) {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &buffer, sizeof(buffer));
    setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &buffer, sizeof(buffer));
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    stream = internal::MakeSocketEventStream(fds[0]);
    fd_ = fds[1];
  }
  ~Client() { close(fd_); }

  // Reads until `done` says the text so far is complete, the stream ends, or 20 s pass.
  template <typename Done>
  const std::string& ReadUntil(Done done) {
    auto deadline = Clock::now() + std::chrono::seconds(20);
    while (!done(received) && Clock::now() < deadline) {
      pollfd pfd{fd_, POLLIN, 0};
      if (poll(&pfd, 1, 100) <= 0) continue;
      char buffer[65536];
      ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) {
        ended = true;
        break;
      }
      received.append(buffer, static_cast<size_t>(n));
    }
    return received;
  }

  EventStreamPtr stream;
  std::string received;
  bool ended = false;

 private:
  int fd_ = -1;
};

struct Received {
  int64_t id;
  std::string type;
  json event;
};

std::vector<Received> Parse(const std::string& text) {
  std::vector<Received> events;
  size_t at = 0;
  while ((at = text.find("id: ", at)) != std::string::npos) {
    size_t end = text.find("\n\n", at);
    if (end == std::string::npos) break;
    std::string block = text.substr(at, end - at);
    size_t type_at = block.find("\nevent: ") + 8;
    size_t data_at = block.find("\ndata: ") + 7;
    events.push_back({std::stoll(block.substr(4)),
                      block.substr(type_at, block.find('\n', type_at) - type_at),
                      json::parse(block.substr(data_at))});
    at = end;
  }
  return events;
}

class EventHubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = metadata::OpenMetadataStore("sqlite::memory:");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store = std::move(*opened);
    std::vector<metadata::JobRecord> jobs;
    for (int i = 0; i < kJobs; ++i) jobs.push_back({.name = "job-" + std::to_string(i)});
    ASSERT_TRUE(store->CreateSweep({.id = "sw-slow"}, {}, jobs).ok());
  }

  // One report of every job: a bulky progress snapshot and a metric point, as a trainer sends.
  void ReportProgress(int step) {
    for (int i = 0; i < kJobs; ++i) {
      metadata::ProgressUpdate update;
      update.progress = json{{"step", step}, {"message", std::string(1000, 'p')}};
      update.metrics.push_back({.name = "loss", .value = 1.0 / (step + 1), .step = step});
      ASSERT_TRUE(store->RecordProgress("job-" + std::to_string(i), update).ok());
    }
  }
  // A status change of every job, which no client may miss.
  void ChangeStatus(int step) {
    for (int i = 0; i < kJobs; ++i) {
      auto job = store->GetJob("job-" + std::to_string(i));
      ASSERT_TRUE(job.ok());
      metadata::Event event{.type = "job.status",
                            .sweep_id = "sw-slow",
                            .job_name = job->name,
                            .data = {{"step", step}}};
      ASSERT_TRUE(store->UpdateJobState(*job, {event}).ok());
    }
  }

  static constexpr int kJobs = 3;
  metadata::MetadataStorePtr store;
};

// A client that does not read while a few jobs report many times, then reads: it gets every
// status change in order and the last progress of each job, and is not closed.
TEST_F(EventHubTest, ASlowSubscriberGetsEveryStatusChangeAndTheLatestProgress) {
  EventHub hub(*store);
  ASSERT_TRUE(hub.Start().ok());
  Client client;
  hub.Subscribe(client.stream, {}, 0);  // replays the job.created events first

  constexpr int kSteps = 600;  // 1,800 progress events of ~1.2 KB: far more than the buffers
  for (int step = 0; step < kSteps; ++step) {
    ReportProgress(step);
    if (step % 50 == 0) ChangeStatus(step);
    hub.Notify();
  }
  std::string last = "\"step\":" + std::to_string(kSteps - 1);
  client.ReadUntil([&](const std::string& text) {
    std::map<std::string, bool> done;
    for (const Received& event : Parse(text)) {
      if (event.type == "job.progress" && event.event["data"]["step"] == kSteps - 1) {
        done[event.event["job_name"]] = true;
      }
    }
    return done.size() == kJobs;
  });

  ASSERT_FALSE(client.ended);
  EXPECT_FALSE(client.stream->closed());
  EXPECT_EQ(hub.stream_count(), 1u);
  std::vector<Received> events = Parse(client.received);
  std::map<std::string, std::vector<int>> statuses;
  std::map<std::string, int> created, progress_seen, last_step;
  int64_t previous_id = 0;
  for (const Received& event : events) {
    EXPECT_GT(event.id, previous_id) << "ids increase";
    previous_id = event.id;
    std::string job = event.event["job_name"];
    if (event.type == "job.created") ++created[job];
    if (event.type == "job.status" || event.type == "job.progress") {
      int step = event.event["data"]["step"].get<int>();
      // Each job's events keep their order: nothing older comes after something newer.
      EXPECT_GE(step, last_step[job]) << job << " " << event.type << " id " << event.id;
      last_step[job] = step;
    }
    if (event.type == "job.status") statuses[job].push_back(event.event["data"]["step"]);
    if (event.type == "job.progress") ++progress_seen[job];
  }
  std::vector<int> every_status;
  for (int step = 0; step < kSteps; step += 50) every_status.push_back(step);
  for (int i = 0; i < kJobs; ++i) {
    std::string job = "job-" + std::to_string(i);
    EXPECT_EQ(created[job], 1) << job;
    EXPECT_EQ(statuses[job], every_status) << job;
    EXPECT_EQ(last_step[job], kSteps - 1) << job;
    // Conflation did happen: the client did not get every report.
    EXPECT_LT(progress_seen[job], kSteps) << job;
  }
  EXPECT_GT(hub.events_conflated(), 0);
  EXPECT_EQ(hub.streams_over_cap(), 0);
}

// A client that never reads, under a flood of status changes (nothing to conflate), is closed
// once its queue passes the cap: memory stays bounded.
TEST_F(EventHubTest, AClientThatNeverReadsIsClosedPastTheCap) {
  EventHub hub(*store, std::chrono::seconds(15), /*max_queue_bytes=*/64 << 10);
  ASSERT_TRUE(hub.Start().ok());
  Client client;
  hub.Subscribe(client.stream, {}, 0);
  for (int step = 0; step < 300; ++step) {
    ChangeStatus(step);
    hub.Notify();
  }
  auto deadline = Clock::now() + std::chrono::seconds(20);
  while (hub.streams_over_cap() == 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(hub.streams_over_cap(), 1);
  EXPECT_TRUE(client.stream->closed());
}

// Events another server wrote into a shared store reach this hub's clients with no Notify: a
// hub that polls reads them within its poll interval; one that does not, never.
TEST_F(EventHubTest, APollingHubSendsEventsItWasNotToldOf) {
  EventHub polling(*store, std::chrono::seconds(15), EventQueue::kDefaultMaxBytes,
                   milliseconds(50));
  EventHub notified_only(*store);
  ASSERT_TRUE(polling.Start().ok());
  ASSERT_TRUE(notified_only.Start().ok());
  Client live, deaf;
  polling.Subscribe(live.stream, {}, *store->LastEventId());
  notified_only.Subscribe(deaf.stream, {}, *store->LastEventId());
  ChangeStatus(7);  // as another server would: the store only
  live.ReadUntil([](const std::string& text) { return Parse(text).size() == kJobs; });
  std::vector<Received> events = Parse(live.received);
  ASSERT_EQ(events.size(), static_cast<size_t>(kJobs)) << live.received;
  for (const Received& event : events) EXPECT_EQ(event.type, "job.status");
  deaf.ReadUntil([start = Clock::now()](const std::string&) {
    return Clock::now() - start > milliseconds(500);
  });
  EXPECT_TRUE(Parse(deaf.received).empty()) << deaf.received;
}

// A log follower that reads slowly gets every line, in order, then the end.
TEST_F(EventHubTest, ASlowLogFollowerGetsEveryLineAndTheEnd) {
  EventHub hub(*store);
  ASSERT_TRUE(hub.Start().ok());
  constexpr int kLines = 3000;  // ~0.5 MB of events: many times the socket's buffers
  for (int batch = 0; batch < kLines / 100; ++batch) {
    metadata::ProgressUpdate update;
    for (int i = 0; i < 100; ++i) {
      update.log.push_back(
          {.stream = "stdout",
           .line = "line " + std::to_string(batch * 100 + i) + std::string(100, '.')});
    }
    ASSERT_TRUE(store->RecordProgress("job-0", update).ok());
  }
  auto job = store->GetJob("job-0");
  ASSERT_TRUE(job.ok());
  job->status = core::JobStatus::kCompleted;
  ASSERT_TRUE(store->UpdateJobState(*job, {}).ok());

  Client client(/*buffer=*/64 << 10);
  hub.FollowLog(client.stream, "job-0", 0);
  client.ReadUntil([](const std::string& text) {
    return text.find("event: end") != std::string::npos && text.ends_with("\n\n");
  });
  std::vector<Received> events = Parse(client.received);
  ASSERT_EQ(events.size(), kLines + 1u);
  for (int i = 0; i < kLines; ++i) {
    ASSERT_EQ(events[i].type, "log");
    ASSERT_EQ(events[i].event["line"].get<std::string>().substr(0, 5 + std::to_string(i).size()),
              "line " + std::to_string(i));
  }
  EXPECT_EQ(events.back().type, "end");
  EXPECT_EQ(events.back().event["status"], "Completed");
  client.ReadUntil([](const std::string&) { return false; });
  EXPECT_TRUE(client.ended);  // closed after the end
}

}  // namespace
}  // namespace trainyard::server
