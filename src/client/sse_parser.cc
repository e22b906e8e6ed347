#include "client/sse_parser.h"

namespace trainyard::client {

bool SseParser::Feed(std::string_view bytes) {
  if (stopped_) return false;
  for (char c : bytes) {
    // Lines end in "\r\n", "\n" or "\r" (the SSE grammar allows all three).
    if (skip_lf_) {
      skip_lf_ = false;
      if (c == '\n') continue;
    }
    if (c == '\r' || c == '\n') {
      skip_lf_ = c == '\r';
      std::string line;
      line.swap(pending_);
      if (!ProcessLine(line)) {
        stopped_ = true;
        return false;
      }
      continue;
    }
    pending_.push_back(c);
  }
  return true;
}

bool SseParser::ProcessLine(std::string_view line) {
  if (line.empty()) {
    // A blank line ends the block; a block without data is not dispatched (per the spec).
    bool keep_going = true;
    if (has_data_) keep_going = callback_(event_);
    event_ = SseEvent{};
    event_.id = last_event_id_;
    has_data_ = false;
    return keep_going;
  }
  if (line.front() == ':') return true;  // a comment (servers send them as keep-alives)
  std::string_view field = line, value;
  if (size_t colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) event_.data.push_back('\n');
    event_.data.append(value);
    has_data_ = true;
  } else if (field == "event") {
    event_.event = value.empty() ? "message" : std::string(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) {
      event_.id = std::string(value);
      last_event_id_ = event_.id;
    }
  }
  return true;
}

}  // namespace trainyard::client
