// SseParser: an incremental reader of text/event-stream (the server-sent-events format) that
// takes the bytes as they arrive, in chunks cut anywhere, and hands out each complete event.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace trainyard::client {

// One event: the `id:`, `event:` (default "message") and `data:` fields of one block; several
// `data:` lines are joined with "\n".
struct SseEvent {
  std::string id;
  std::string event = "message";
  std::string data;
};

class SseParser {
 public:
  // Returns false to stop: Feed then returns false and ignores the rest.
  using Callback = std::function<bool(const SseEvent&)>;

  explicit SseParser(Callback callback) : callback_(std::move(callback)) {}

  // Takes the next bytes of the stream; false once the callback asked to stop.
  bool Feed(std::string_view bytes);
  // The id of the last event dispatched that had one (for a reconnect's Last-Event-ID).
  const std::string& last_event_id() const { return last_event_id_; }

 private:
  bool ProcessLine(std::string_view line);

  Callback callback_;
  std::string pending_;   // bytes of a line not yet ended
  bool skip_lf_ = false;  // the last chunk ended in "\r": a following "\n" belongs to it
  bool stopped_ = false;
  SseEvent event_;
  bool has_data_ = false;
  std::string last_event_id_;
};

}  // namespace trainyard::client
