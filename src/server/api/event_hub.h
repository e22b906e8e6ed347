// EventHub: delivers the event log (MetadataStore events) and job logs to server-sent-event
// streams. One thread reads what is new from the store when woken (Notify) and fans it out; a
// client that (re)connects with Last-Event-ID first gets everything after that id from the
// store, under the same lock, so nothing is lost or sent twice between replay and live events.
//
// A stream whose socket buffer is full is dropped (the client reconnects and catches up), so a
// slow client never holds up the others. Every 15 s each stream gets a ": keep-alive" comment,
// which also finds clients that went away. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <thread>

#include "metadata/metadata_store.h"
#include "server/http/http_server.h"

namespace trainyard::server {

class EventHub {
 public:
  explicit EventHub(metadata::MetadataStore& metadata,
                    std::chrono::milliseconds heartbeat = std::chrono::seconds(15));
  ~EventHub();  // Stop()

  Status Start();
  void Stop();  // closes every stream
  // New events or log lines are in the store.
  void Notify();

  // Sends the events after `after_id` that match `filter`, then every new one.
  void Subscribe(EventStreamPtr stream, metadata::EventFilter filter, int64_t after_id);
  // Sends the job's log lines after `after_line_id` as "log" events, then new ones as they come,
  // then an "end" event once the job has ended and its lines are all sent.
  void FollowLog(EventStreamPtr stream, std::string job_name, int64_t after_line_id);

  size_t stream_count();
  // Events written to streams so far, for /metrics.
  int64_t events_sent();

 private:
  struct Subscriber {
    EventStreamPtr stream;
    metadata::EventFilter filter;
    int64_t after = 0;  // it has (or wants) nothing up to this id
  };
  struct LogFollower {
    EventStreamPtr stream;
    std::string job_name;
    int64_t last_line_id = 0;
  };

  void Loop();
  bool Stopping();
  void FanOutEvents();
  // false when the follower is done (ended or closed).
  bool ServeLog(LogFollower& follower);

  metadata::MetadataStore& metadata_;
  std::chrono::milliseconds heartbeat_;
  // Notify only touches wake_mutex_, so a progress callback never waits for a fan-out.
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  bool notified_ = false;
  bool stopping_ = false;
  std::mutex mutex_;    // the streams and the cursor
  int64_t cursor_ = 0;  // the last event id fanned out
  int64_t events_sent_ = 0;
  std::list<Subscriber> subscribers_;
  std::list<LogFollower> followers_;
  std::thread thread_;
};

// One server-sent event: "id: N\nevent: TYPE\ndata: JSON\n\n".
std::string FormatServerSentEvent(int64_t id, const std::string& type, const nlohmann::json& data);
// The JSON of an event as the API shows it.
nlohmann::json EventJson(const metadata::Event& event);

}  // namespace trainyard::server
