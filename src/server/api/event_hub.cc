#include "server/api/event_hub.h"

#include <map>

#include "common/log.h"
#include "core/job_status.h"

namespace trainyard::server {

using nlohmann::json;

std::string FormatServerSentEvent(int64_t id, const std::string& type, const json& data) {
  // dump() escapes line breaks inside strings, so the data is always one line.
  return "id: " + std::to_string(id) + "\nevent: " + type +
         "\ndata: " + data.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
}

json EventJson(const metadata::Event& event) {
  return {{"id", event.id},
          {"type", event.type},
          {"sweep_id", event.sweep_id},
          {"job_name", event.job_name},
          {"time", FormatIso8601(event.time)},
          {"data", event.data}};
}

namespace {
// How soon a stream whose socket was full is tried again.
constexpr std::chrono::milliseconds kRetryBacklog(10);

bool Matches(const metadata::EventFilter& filter, const metadata::Event& event) {
  return (filter.sweep_id.empty() || filter.sweep_id == event.sweep_id) &&
         (filter.job_name.empty() || filter.job_name == event.job_name);
}
}  // namespace

EventHub::EventHub(metadata::MetadataStore& metadata, std::chrono::milliseconds heartbeat,
                   size_t max_queue_bytes, std::chrono::milliseconds poll_interval)
    : metadata_(metadata),
      heartbeat_(heartbeat),
      max_queue_bytes_(max_queue_bytes),
      poll_interval_(poll_interval) {}

EventHub::~EventHub() {
  Stop();
}

Status EventHub::Start() {
  TY_ASSIGN_OR_RETURN(cursor_, metadata_.LastEventId());
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void EventHub::Stop() {
  {
    std::lock_guard wake_lock(wake_mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mutex_);
  for (Subscriber& subscriber : subscribers_) subscriber.stream->Close();
  for (LogFollower& follower : followers_) follower.stream->Close();
  subscribers_.clear();
  followers_.clear();
}

void EventHub::Notify() {
  {
    std::lock_guard lock(wake_mutex_);
    notified_ = true;
  }
  wake_.notify_one();
}

void EventHub::Loop() {
  auto next_heartbeat = std::chrono::steady_clock::now() + heartbeat_;
  const bool polls = poll_interval_.count() > 0;
  auto next_poll = std::chrono::steady_clock::now() + poll_interval_;
  bool backlogged = false;
  while (true) {
    bool notified;
    {
      auto until = backlogged
                       ? std::min(next_heartbeat, std::chrono::steady_clock::now() + kRetryBacklog)
                       : next_heartbeat;
      if (polls) until = std::min(until, next_poll);
      std::unique_lock wake_lock(wake_mutex_);
      wake_.wait_until(wake_lock, until, [this] { return notified_ || stopping_; });
      if (stopping_) return;
      notified = notified_;
      notified_ = false;
    }
    // Another server's events and log lines are in the store with no Notify here: read at
    // every poll.
    if (polls && std::chrono::steady_clock::now() >= next_poll) {
      notified = true;
      next_poll = std::chrono::steady_clock::now() + poll_interval_;
    }
    std::lock_guard lock(mutex_);
    if (notified || backlogged) {
      // Streams with a backlog first, so their older events go out before new ones come.
      for (Subscriber& subscriber : subscribers_) {
        if (subscriber.queue.idle() || subscriber.stream->closed()) continue;
        Status flushed = subscriber.queue.Flush(*subscriber.stream);
        events_sent_ += subscriber.queue.TakeSentCount();
        if (!flushed.ok()) Closed(subscriber, flushed);
      }
    }
    if (notified) FanOutEvents();
    if (notified || backlogged) {
      for (auto it = followers_.begin(); it != followers_.end();) {
        // A retry is for the followers with something unsent: the others have nothing new.
        if (!notified && it->unsent.empty()) {
          ++it;
          continue;
        }
        it = ServeLog(*it) ? std::next(it) : followers_.erase(it);
      }
    }
    if (std::chrono::steady_clock::now() >= next_heartbeat) {
      next_heartbeat = std::chrono::steady_clock::now() + heartbeat_;
      for (Subscriber& subscriber : subscribers_) {
        Status sent = subscriber.queue.SendComment(": keep-alive\n\n", *subscriber.stream);
        if (!sent.ok()) Closed(subscriber, sent);
      }
      for (auto it = followers_.begin(); it != followers_.end();) {
        // A follower of a job that ends without new lines still gets its "end".
        if (it->unsent.empty()) it->unsent = ": keep-alive\n\n";
        it = ServeLog(*it) ? std::next(it) : followers_.erase(it);
      }
    }
    subscribers_.remove_if([this](const Subscriber& s) {
      if (!s.stream->closed()) return false;
      events_conflated_ += s.queue.conflated();
      return true;
    });
    backlogged = Backlogged();
  }
}

bool EventHub::Backlogged() {
  for (const Subscriber& subscriber : subscribers_) {
    if (!subscriber.queue.idle()) return true;
  }
  for (const LogFollower& follower : followers_) {
    if (!follower.unsent.empty()) return true;
  }
  return false;
}

void EventHub::Deliver(Subscriber& subscriber, const std::vector<FormattedEventPtr>& events) {
  Status delivered = subscriber.queue.Deliver(events, *subscriber.stream);
  events_sent_ += subscriber.queue.TakeSentCount();
  if (!delivered.ok()) Closed(subscriber, delivered);
}

void EventHub::Closed(Subscriber& subscriber, const Status& why) {
  // A client that went away needs no word; one over the cap is closed here, and said so.
  if (why.code() == StatusCode::kResourceExhausted) {
    ++streams_over_cap_;
    Logger("api").warn(
        "event stream sweep={} job={} closed, the client does not read: {}; it reconnects with "
        "Last-Event-ID and loses nothing",
        subscriber.filter.sweep_id, subscriber.filter.job_name, why.message());
  }
  subscriber.stream->Close();
}

void EventHub::FanOutEvents() {
  while (true) {
    auto events = metadata_.ListEvents(cursor_, {}, 1000);
    if (!events.ok()) {
      // The next wake-up tries again from the same cursor: nothing is skipped.
      Logger("api").warn("event hub cannot read the events after id={}: {}", cursor_,
                         events.status().message());
      return;
    }
    if (events->empty()) return;
    cursor_ = events->back().id;
    // Formatted once; each stream then gets all its events in one write, so a burst costs a
    // system call per stream rather than per event and stream.
    size_t listed = events->size();
    // A round with more than one event of a job came while the previous round was still being
    // written: all were pending at once, and every subscriber needs only the newest snapshot.
    // Progress events that a newer one replaces are not even formatted.
    std::map<std::string, size_t> newest_progress;
    for (size_t i = 0; i < listed; ++i) {
      const metadata::Event& event = (*events)[i];
      if (event.type == "job.progress" && !event.job_name.empty()) {
        newest_progress[event.job_name] = i;
      }
    }
    std::vector<FormattedEventPtr> formatted;
    formatted.reserve(listed);
    for (size_t i = 0; i < listed; ++i) {
      metadata::Event& event = (*events)[i];
      if (event.type == "job.progress" && !event.job_name.empty() &&
          newest_progress[event.job_name] != i) {
        ++round_conflated_;
        continue;
      }
      formatted.push_back(FormatEvent(std::move(event)));
    }
    formatted = Conflate(formatted, round_conflated_);
    std::vector<FormattedEventPtr> matching;
    for (Subscriber& subscriber : subscribers_) {
      if (subscriber.stream->closed()) continue;
      matching.clear();
      for (const FormattedEventPtr& event : formatted) {
        if (event->event.id <= subscriber.after || !Matches(subscriber.filter, event->event)) {
          continue;
        }
        matching.push_back(event);
      }
      Deliver(subscriber, matching);
    }
    if (listed < 1000) return;
  }
}

void EventHub::Subscribe(EventStreamPtr stream, metadata::EventFilter filter, int64_t after_id) {
  std::lock_guard lock(mutex_);
  if (Stopping()) {
    stream->Close();
    return;
  }
  // Replay up to the cursor; the loop sends what comes after it (it holds the same lock).
  Subscriber& subscriber = subscribers_.emplace_back(
      Subscriber{std::move(stream), std::move(filter), after_id, EventQueue(max_queue_bytes_)});
  while (subscriber.after < cursor_ && !subscriber.stream->closed()) {
    auto events = metadata_.ListEvents(subscriber.after, subscriber.filter, 1000);
    if (!events.ok()) {
      Logger("api").warn(
          "event stream sweep={} job={} closed: cannot replay the events after "
          "id={}: {}",
          subscriber.filter.sweep_id, subscriber.filter.job_name, subscriber.after,
          events.status().message());
      subscriber.stream->Close();
      break;
    }
    if (events->empty()) break;
    size_t listed = events->size();
    std::vector<FormattedEventPtr> replay;
    for (metadata::Event& event : *events) {
      if (event.id > cursor_) break;
      replay.push_back(FormatEvent(std::move(event)));
    }
    if (replay.empty()) break;
    subscriber.after = replay.back()->event.id;
    Deliver(subscriber, replay);
    if (listed < 1000) break;
  }
  if (!subscriber.queue.idle()) Notify();  // see FollowLog
}

void EventHub::FollowLog(EventStreamPtr stream, std::string job_name, int64_t after_line_id) {
  std::lock_guard lock(mutex_);
  if (Stopping()) {
    stream->Close();
    return;
  }
  LogFollower follower{std::move(stream), std::move(job_name), after_line_id};
  if (!ServeLog(follower)) return;
  // The loop may be asleep until the next keep-alive: what did not fit needs it sooner.
  if (!follower.unsent.empty()) Notify();
  followers_.push_back(std::move(follower));
}

bool EventHub::ServeLog(LogFollower& follower) {
  if (follower.stream->closed()) return false;
  if (!follower.unsent.empty()) {
    std::optional<size_t> written = follower.stream->SendSome(follower.unsent);
    if (!written) return false;
    follower.unsent.erase(0, *written);
    // Lines are read from the store only once the socket took the previous ones: a slow
    // client holds one page here, never the whole log.
    if (!follower.unsent.empty()) return true;
  }
  if (follower.ended) {
    follower.stream->Close();
    return false;
  }
  // Read the state first: lines written before the job ended are then all in the list below.
  auto job = metadata_.GetJob(follower.job_name);
  if (!job.ok()) {
    Logger("api").warn("log stream job={} closed: {}", follower.job_name, job.status().message());
    follower.stream->Close();
    return false;
  }
  while (true) {
    auto lines = metadata_.ListLogLines(follower.job_name, follower.last_line_id, 1000);
    if (!lines.ok()) {
      // The next wake-up tries again from the same line.
      Logger("api").warn("log stream job={} cannot read the lines after id={}: {}",
                         follower.job_name, follower.last_line_id, lines.status().message());
      return true;
    }
    if (lines->empty()) break;
    std::string batch;
    for (const metadata::LogLine& line : *lines) {
      json data = {{"stream", line.stream},
                   {"line", line.line},
                   {"timestamp", FormatIso8601(line.timestamp)}};
      batch += FormatServerSentEvent(line.id, "log", data);
    }
    follower.last_line_id = lines->back().id;
    std::optional<size_t> written = follower.stream->SendSome(batch);
    if (!written) return false;
    if (*written < batch.size()) {
      follower.unsent = batch.substr(*written);
      return true;
    }
    if (lines->size() < 1000) break;
  }
  if (core::IsTerminal(job->status)) {
    follower.unsent = FormatServerSentEvent(follower.last_line_id, "end",
                                            {{"status", core::ToString(job->status)}});
    follower.ended = true;
    return ServeLog(follower);
  }
  return true;
}

bool EventHub::Stopping() {
  std::lock_guard wake_lock(wake_mutex_);
  return stopping_;
}

size_t EventHub::stream_count() {
  std::lock_guard lock(mutex_);
  return subscribers_.size() + followers_.size();
}

int64_t EventHub::events_sent() {
  std::lock_guard lock(mutex_);
  return events_sent_;
}

int64_t EventHub::events_conflated() {
  std::lock_guard lock(mutex_);
  int64_t conflated = events_conflated_ + round_conflated_;
  for (const Subscriber& subscriber : subscribers_) conflated += subscriber.queue.conflated();
  return conflated;
}

int64_t EventHub::streams_over_cap() {
  std::lock_guard lock(mutex_);
  return streams_over_cap_;
}

}  // namespace trainyard::server
