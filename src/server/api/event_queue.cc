#include "server/api/event_queue.h"

#include <set>

#include "server/api/event_hub.h"

namespace trainyard::server {
namespace {

// One write takes at most this much of the queue: a socket buffer holds less anyway.
constexpr size_t kFlushBatchBytes = 256 << 10;

// The newer metrics event, with the older one's points of the metrics it does not carry: the
// newest pending point of each metric.
FormattedEventPtr MergeMetrics(const FormattedEvent& older, const FormattedEventPtr& newer) {
  const nlohmann::json* old_points =
      older.event.data.contains("metrics") ? &older.event.data.at("metrics") : nullptr;
  const nlohmann::json* new_points =
      newer->event.data.contains("metrics") ? &newer->event.data.at("metrics") : nullptr;
  if (old_points == nullptr || new_points == nullptr || !old_points->is_array() ||
      !new_points->is_array()) {
    return newer;
  }
  std::set<std::string> renewed;
  for (const nlohmann::json& point : *new_points) {
    if (point.is_object() && point.contains("name") && point["name"].is_string()) {
      renewed.insert(point["name"].get<std::string>());
    }
  }
  nlohmann::json merged = nlohmann::json::array();
  for (const nlohmann::json& point : *old_points) {
    bool named = point.is_object() && point.contains("name") && point["name"].is_string();
    if (named && !renewed.contains(point["name"].get<std::string>())) merged.push_back(point);
  }
  if (merged.empty()) return newer;
  for (const nlohmann::json& point : *new_points) merged.push_back(point);
  metadata::Event event = newer->event;
  event.data["metrics"] = std::move(merged);
  return FormatEvent(std::move(event));
}

}  // namespace

FormattedEventPtr FormatEvent(metadata::Event event) {
  auto formatted = std::make_shared<FormattedEvent>();
  formatted->text = FormatServerSentEvent(event.id, event.type, EventJson(event));
  formatted->event = std::move(event);
  return formatted;
}

bool IsConflatable(const std::string& event_type) {
  return event_type == "job.progress" || event_type == "job.metrics";
}

std::vector<FormattedEventPtr> Conflate(const std::vector<FormattedEventPtr>& events,
                                        int64_t& conflated) {
  std::vector<FormattedEventPtr> kept;
  kept.reserve(events.size());
  std::map<std::pair<std::string, std::string>, size_t> newest;  // job, type: index in kept
  for (const FormattedEventPtr& event : events) {
    const metadata::Event& raw = event->event;
    if (!IsConflatable(raw.type) || raw.job_name.empty()) {
      kept.push_back(event);
      continue;
    }
    auto [found, added] = newest.try_emplace({raw.job_name, raw.type}, kept.size());
    if (added) {
      kept.push_back(event);
      continue;
    }
    FormattedEventPtr& older = kept[found->second];
    kept.push_back(raw.type == "job.metrics" ? MergeMetrics(*older, event) : event);
    older = nullptr;
    found->second = kept.size() - 1;
    ++conflated;
  }
  std::erase(kept, nullptr);
  return kept;
}

Status EventQueue::Deliver(const std::vector<FormattedEventPtr>& events, EventStream& stream) {
  if (events.empty()) return Status::Ok();
  if (!idle()) {
    for (const FormattedEventPtr& event : events) Push(event);
    TY_RETURN_IF_ERROR(Flush(stream));
    return CheckCap();
  }
  // Nothing pending (the usual case): one write of the whole batch, and only what does not fit
  // is queued.
  std::string batch;
  std::vector<std::pair<size_t, FormattedEventPtr>> ends;
  ends.reserve(events.size());
  for (const FormattedEventPtr& event : events) {
    batch += event->text;
    ends.emplace_back(batch.size(), event);
  }
  TY_RETURN_IF_ERROR(Write(std::move(batch), ends, stream));
  return CheckCap();
}

Status EventQueue::Write(std::string bytes,
                         const std::vector<std::pair<size_t, FormattedEventPtr>>& ends,
                         EventStream& stream) {
  std::optional<size_t> written = stream.SendSome(bytes);
  if (!written) return Unavailable("the event stream is closed");
  size_t whole = 0;
  while (whole < ends.size() && ends[whole].first <= *written) ++whole;
  sent_ += static_cast<int64_t>(whole);
  size_t next = whole;
  size_t start = whole == 0 ? 0 : ends[whole - 1].first;
  if (next < ends.size() && *written > start) {
    // An event written in part must be finished before anything else goes out.
    unsent_ = bytes.substr(*written, ends[next].first - *written);
    ++sent_;
    ++next;
  }
  for (; next < ends.size(); ++next) Push(ends[next].second);
  return Status::Ok();
}

Status EventQueue::Flush(EventStream& stream) {
  while (true) {
    if (!unsent_.empty()) {
      std::optional<size_t> written = stream.SendSome(unsent_);
      if (!written) return Unavailable("the event stream is closed");
      unsent_.erase(0, *written);
      if (!unsent_.empty()) return Status::Ok();
    }
    if (entries_.empty()) return Status::Ok();
    std::string batch;
    std::vector<size_t> ends;
    for (auto it = entries_.begin(); it != entries_.end() && batch.size() < kFlushBatchBytes;
         ++it) {
      batch += it->event->text;
      ends.push_back(batch.size());
    }
    std::optional<size_t> written = stream.SendSome(batch);
    if (!written) return Unavailable("the event stream is closed");
    size_t done = 0;
    while (done < ends.size() && ends[done] <= *written) ++done;
    size_t start = done == 0 ? 0 : ends[done - 1];
    if (done < ends.size() && *written > start) {
      unsent_ = batch.substr(*written, ends[done] - *written);
      ++done;
    }
    for (size_t i = 0; i < done; ++i) {
      Entry& front = entries_.front();
      queued_bytes_ -= front.event->text.size();
      if (front.conflatable) {
        pending_snapshot_.erase({front.event->event.job_name, front.event->event.type});
      }
      entries_.pop_front();
    }
    sent_ += static_cast<int64_t>(done);
    if (*written < batch.size()) return Status::Ok();  // the socket's buffer is full
  }
}

Status EventQueue::SendComment(const std::string& comment, EventStream& stream) {
  if (!idle()) return Status::Ok();
  std::optional<size_t> written = stream.SendSome(comment);
  if (!written) return Unavailable("the event stream is closed");
  if (*written < comment.size()) unsent_ = comment.substr(*written);
  return Status::Ok();
}

void EventQueue::Push(FormattedEventPtr event) {
  const metadata::Event& raw = event->event;
  if (!IsConflatable(raw.type) || raw.job_name.empty()) {
    queued_bytes_ += event->text.size();
    entries_.push_back({std::move(event), false});
    return;
  }
  Key key{raw.job_name, raw.type};
  auto found = pending_snapshot_.find(key);
  if (found != pending_snapshot_.end()) {
    const std::list<Entry>::iterator older = found->second;
    if (raw.type == "job.metrics") event = MergeMetrics(*older->event, event);
    queued_bytes_ -= older->event->text.size();
    entries_.erase(older);
    pending_snapshot_.erase(found);
    ++conflated_;
  }
  queued_bytes_ += event->text.size();
  entries_.push_back({std::move(event), true});
  pending_snapshot_.emplace(std::move(key), std::prev(entries_.end()));
}

Status EventQueue::CheckCap() const {
  if (bytes() <= max_bytes_) return Status::Ok();
  return ResourceExhausted("the client's unsent events (" + std::to_string(entries_.size()) + ", " +
                           std::to_string(bytes()) + " bytes) passed the cap of " +
                           std::to_string(max_bytes_) + " bytes");
}

}  // namespace trainyard::server
