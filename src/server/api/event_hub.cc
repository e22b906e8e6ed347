#include "server/api/event_hub.h"

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
bool Matches(const metadata::EventFilter& filter, const metadata::Event& event) {
  return (filter.sweep_id.empty() || filter.sweep_id == event.sweep_id) &&
         (filter.job_name.empty() || filter.job_name == event.job_name);
}
}  // namespace

EventHub::EventHub(metadata::MetadataStore& metadata, std::chrono::milliseconds heartbeat)
    : metadata_(metadata), heartbeat_(heartbeat) {}

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
  while (true) {
    bool notified;
    {
      std::unique_lock wake_lock(wake_mutex_);
      wake_.wait_until(wake_lock, next_heartbeat, [this] { return notified_ || stopping_; });
      if (stopping_) return;
      notified = notified_;
      notified_ = false;
    }
    std::lock_guard lock(mutex_);
    if (notified) {
      FanOutEvents();
      for (auto it = followers_.begin(); it != followers_.end();) {
        it = ServeLog(*it) ? std::next(it) : followers_.erase(it);
      }
    }
    if (std::chrono::steady_clock::now() >= next_heartbeat) {
      next_heartbeat = std::chrono::steady_clock::now() + heartbeat_;
      for (Subscriber& subscriber : subscribers_) subscriber.stream->Send(": keep-alive\n\n");
      for (auto it = followers_.begin(); it != followers_.end();) {
        // A follower of a job that ends without new lines still gets its "end".
        it = (it->stream->Send(": keep-alive\n\n") && ServeLog(*it)) ? std::next(it)
                                                                     : followers_.erase(it);
      }
    }
    subscribers_.remove_if([](const Subscriber& s) { return s.stream->closed(); });
  }
}

void EventHub::FanOutEvents() {
  while (true) {
    auto events = metadata_.ListEvents(cursor_, {}, 1000);
    if (!events.ok() || events->empty()) return;
    // Formatted once; each stream then gets all its events in one write, so a burst costs a
    // system call per stream rather than per event and stream.
    std::vector<std::string> texts;
    texts.reserve(events->size());
    for (const metadata::Event& event : *events) {
      texts.push_back(FormatServerSentEvent(event.id, event.type, EventJson(event)));
    }
    std::string batch;
    for (Subscriber& subscriber : subscribers_) {
      if (subscriber.stream->closed()) continue;
      batch.clear();
      for (size_t i = 0; i < events->size(); ++i) {
        const metadata::Event& event = (*events)[i];
        if (event.id <= subscriber.after || !Matches(subscriber.filter, event)) continue;
        batch += texts[i];
        ++events_sent_;
      }
      if (!batch.empty()) subscriber.stream->Send(batch);
    }
    cursor_ = events->back().id;
    if (events->size() < 1000) return;
  }
}

void EventHub::Subscribe(EventStreamPtr stream, metadata::EventFilter filter, int64_t after_id) {
  std::lock_guard lock(mutex_);
  if (Stopping()) {
    stream->Close();
    return;
  }
  // Replay up to the cursor; the loop sends what comes after it (it holds the same lock).
  int64_t position = after_id;
  while (position < cursor_ && !stream->closed()) {
    auto events = metadata_.ListEvents(position, filter, 1000);
    if (!events.ok() || events->empty()) break;
    for (const metadata::Event& event : *events) {
      if (event.id > cursor_) break;
      stream->Send(FormatServerSentEvent(event.id, event.type, EventJson(event)));
      position = event.id;
    }
    if (events->size() < 1000) break;
  }
  subscribers_.push_back({std::move(stream), std::move(filter), position});
}

void EventHub::FollowLog(EventStreamPtr stream, std::string job_name, int64_t after_line_id) {
  std::lock_guard lock(mutex_);
  if (Stopping()) {
    stream->Close();
    return;
  }
  LogFollower follower{std::move(stream), std::move(job_name), after_line_id};
  if (ServeLog(follower)) followers_.push_back(std::move(follower));
}

bool EventHub::ServeLog(LogFollower& follower) {
  if (follower.stream->closed()) return false;
  // Read the state first: lines written before the job ended are then all in the list below.
  auto job = metadata_.GetJob(follower.job_name);
  if (!job.ok()) {
    follower.stream->Close();
    return false;
  }
  while (true) {
    auto lines = metadata_.ListLogLines(follower.job_name, follower.last_line_id, 1000);
    if (!lines.ok()) break;
    for (const metadata::LogLine& line : *lines) {
      json data = {{"stream", line.stream},
                   {"line", line.line},
                   {"timestamp", FormatIso8601(line.timestamp)}};
      if (!follower.stream->Send(FormatServerSentEvent(line.id, "log", data))) return false;
      follower.last_line_id = line.id;
    }
    if (lines->size() < 1000) break;
  }
  if (core::IsTerminal(job->status)) {
    follower.stream->Send(FormatServerSentEvent(follower.last_line_id, "end",
                                                {{"status", core::ToString(job->status)}}));
    follower.stream->Close();
    return false;
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

}  // namespace trainyard::server
