// EventHub: delivers the event log (MetadataStore events) and job logs to server-sent-event
// streams. One thread reads what is new from the store when woken (Notify) and fans it out; a
// client that (re)connects with Last-Event-ID first gets everything after that id from the
// store, under the same lock, so nothing is lost or sent twice between replay and live events.
//
// A slow client never holds up the others, and is not dropped: each event stream has its
// EventQueue (event_queue.h), which writes what the socket takes and keeps the rest, conflating
// progress and metrics snapshots to the newest per job; only a client whose queue passes its cap
// (a client that does not read at all for a long time) is closed, and it reconnects with
// Last-Event-ID and loses nothing. The events of one fan-out round (those that came while the
// previous round was written) are conflated the same way for every stream. A log follower reads the
// next lines from the store only once its socket took the previous ones, so it holds at most one
// page. Streams with something pending are retried every few milliseconds. Every 15 s each stream
// gets a ": keep-alive" comment, which also finds clients that went away. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <thread>

#include "metadata/metadata_store.h"
#include "server/api/event_queue.h"
#include "server/http/http_server.h"

namespace trainyard::server {

class EventHub {
 public:
  // `max_queue_bytes`: the cap of each event stream's queue (EventQueue). `poll_interval`: how
  // often the store is read without a Notify, for a store that other servers write too (their
  // events and log lines reach this server's clients within it); 0: only when notified.
  explicit EventHub(metadata::MetadataStore& metadata,
                    std::chrono::milliseconds heartbeat = std::chrono::seconds(15),
                    size_t max_queue_bytes = EventQueue::kDefaultMaxBytes,
                    std::chrono::milliseconds poll_interval = std::chrono::milliseconds(0));
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
  // Progress and metrics events left out for a newer one of the same job: once per stream
  // whose queue left one out, once per fan-out round that left one out for every stream.
  int64_t events_conflated();
  // Event streams closed because their queue passed the cap.
  int64_t streams_over_cap();

 private:
  struct Subscriber {
    EventStreamPtr stream;
    metadata::EventFilter filter;
    int64_t after = 0;  // it has (or wants) nothing up to this id
    EventQueue queue;
  };
  struct LogFollower {
    EventStreamPtr stream;
    std::string job_name;
    int64_t last_line_id = 0;  // the last line written (or in `unsent`)
    std::string unsent;        // what the socket did not take yet: goes out first
    bool ended = false;        // `unsent` ends with the "end" event
  };

  void Loop();
  bool Stopping();
  void FanOutEvents();
  // Sends the events to the subscriber (queued as far as needed); closes an over-cap stream.
  void Deliver(Subscriber& subscriber, const std::vector<FormattedEventPtr>& events);
  void Closed(Subscriber& subscriber, const Status& why);
  // Something is waiting for a socket to take it.
  bool Backlogged();
  // false when the follower is done (ended or closed).
  bool ServeLog(LogFollower& follower);

  metadata::MetadataStore& metadata_;
  std::chrono::milliseconds heartbeat_;
  size_t max_queue_bytes_;
  std::chrono::milliseconds poll_interval_;
  // Notify only touches wake_mutex_, so a progress callback never waits for a fan-out.
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  bool notified_ = false;
  bool stopping_ = false;
  std::mutex mutex_;    // the streams and the cursor
  int64_t cursor_ = 0;  // the last event id fanned out
  int64_t events_sent_ = 0;
  int64_t events_conflated_ = 0;  // of streams gone; live ones count in their queue
  int64_t round_conflated_ = 0;   // left out of a fan-out round for a newer one (Conflate)
  int64_t streams_over_cap_ = 0;
  std::list<Subscriber> subscribers_;
  std::list<LogFollower> followers_;
  std::thread thread_;
};

// One server-sent event: "id: N\nevent: TYPE\ndata: JSON\n\n".
std::string FormatServerSentEvent(int64_t id, const std::string& type, const nlohmann::json& data);
// The JSON of an event as the API shows it.
nlohmann::json EventJson(const metadata::Event& event);

}  // namespace trainyard::server
