// EventQueue: what one /api/v1/events subscriber has yet to receive, so that a client that
// reads slower than events come is sent the latest state instead of being disconnected.
//
// Snapshot events are conflated: of "job.progress" only the newest pending one per job is kept
// (its data is the whole snapshot), and of "job.metrics" one per job whose points are the
// newest pending point of each metric. A conflated event moves to the end of the queue with the
// newer id, so ids stay increasing and each job's events keep their order. Every other event
// (job.created, job.status, sweep events, ...) is kept. An event skipped this way is one the
// client can do without: a later event it does receive carries the latest state.
//
// Memory is bounded: when the bytes queued pass `max_bytes`, Deliver reports ResourceExhausted
// and the caller closes the stream (the client reconnects with Last-Event-ID; nothing is lost,
// since every event is in the store). Events are shared between the queues of all subscribers,
// so the bytes counted against one queue are an upper bound of what it holds alone.
//
// Not thread-safe: the event hub holds it under its lock.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "metadata/metadata_store.h"
#include "server/http/http_server.h"

namespace trainyard::server {

// An event of the log with its server-sent-event text, formatted once for every subscriber.
struct FormattedEvent {
  metadata::Event event;
  std::string text;  // FormatServerSentEvent of the event's JSON
};
using FormattedEventPtr = std::shared_ptr<const FormattedEvent>;

FormattedEventPtr FormatEvent(metadata::Event event);
// Whether only the newest pending event of this type per job matters (a state snapshot).
bool IsConflatable(const std::string& event_type);
// `events` (increasing ids) conflated as in an EventQueue: each job.progress or job.metrics event
// that a later one of the same job and type replaces is left out (a kept metrics event takes the
// newest point of each metric). For the events the hub reads in one round, which were all
// pending at once. `conflated` counts what was left out.
std::vector<FormattedEventPtr> Conflate(const std::vector<FormattedEventPtr>& events,
                                        int64_t& conflated);

class EventQueue {
 public:
  // 4 MiB: ~15,000 status events of ~280 bytes.
  static constexpr size_t kDefaultMaxBytes = 4 << 20;

  explicit EventQueue(size_t max_bytes = kDefaultMaxBytes) : max_bytes_(max_bytes) {}

  // Sends `events` (increasing ids) after what is pending: what the stream takes now is written
  // at once, the rest queued (conflated). Unavailable when the stream is closed;
  // ResourceExhausted when the queue passes its cap (the stream is left open: the caller closes
  // it and says why).
  Status Deliver(const std::vector<FormattedEventPtr>& events, EventStream& stream);
  // Writes what is pending, as far as the stream takes it now. Unavailable when it is closed.
  Status Flush(EventStream& stream);
  // Sends a ": comment" when nothing is pending (a stream with a backlog needs no keep-alive).
  Status SendComment(const std::string& comment, EventStream& stream);

  // Nothing pending: no event queued and no event partly written.
  bool idle() const { return unsent_.empty() && entries_.empty(); }
  size_t queued_events() const { return entries_.size(); }
  size_t bytes() const { return unsent_.size() + queued_bytes_; }
  // Events written to the stream (wholly) since the last call.
  int64_t TakeSentCount() { return std::exchange(sent_, 0); }
  // Events replaced by a newer one of their job and type, in all.
  int64_t conflated() const { return conflated_; }

 private:
  struct Entry {
    FormattedEventPtr event;
    bool conflatable = false;
  };
  using Key = std::pair<std::string, std::string>;  // job, type

  void Push(FormattedEventPtr event);
  // Writes `bytes` (whole events, `ends` the end offset of each); the part that does not fit is
  // kept: the rest of the event written in part in unsent_, the events after it queued again.
  Status Write(std::string bytes, const std::vector<std::pair<size_t, FormattedEventPtr>>& ends,
               EventStream& stream);
  Status CheckCap() const;

  size_t max_bytes_;
  std::string unsent_;  // the rest of an event written in part: goes out before anything else
  std::list<Entry> entries_;
  std::map<Key, std::list<Entry>::iterator> pending_snapshot_;  // the queued one per job, type
  size_t queued_bytes_ = 0;
  int64_t sent_ = 0;
  int64_t conflated_ = 0;
};

}  // namespace trainyard::server
