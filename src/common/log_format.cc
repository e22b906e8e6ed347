// The two line formats of the log (log.h): text for people, JSON for log collectors.
#include <nlohmann/json.hpp>
#include <string_view>

#include "common/log_internal.h"
#include "common/time_format.h"

namespace trainyard::log_internal {
namespace {

// The names LogOptions::level accepts (spdlog says "warning" and "critical").
std::string_view LevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

std::string_view Payload(const spdlog::details::log_msg& message) {
  return {message.payload.data(), message.payload.size()};
}

// "2026-11-27T18:32:33.120Z warn control: job=sw-1-001 could not be finished: ..."
// A line break or other control character in the message (a peer's error text, a log tail) is
// escaped, so that each entry stays one line and no message can forge another entry.
class TextFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& message, spdlog::memory_buf_t& line) override {
    Append(line, FormatIso8601(message.time));
    Append(line, " ");
    Append(line, LevelName(message.level));
    Append(line, " ");
    Append(line, std::string_view(message.logger_name.data(), message.logger_name.size()));
    Append(line, ": ");
    for (char c : Payload(message)) {
      auto byte = static_cast<unsigned char>(c);
      if (c == '\n') {
        Append(line, "\\n");
      } else if (byte < 0x20 || byte == 0x7f) {
        static constexpr char kHex[] = "0123456789abcdef";
        const char escaped[] = {'\\', 'x', kHex[byte >> 4], kHex[byte & 0xf]};
        Append(line, std::string_view(escaped, sizeof escaped));
      } else {
        line.push_back(c);
      }
    }
    line.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<TextFormatter>();
  }

 private:
  static void Append(spdlog::memory_buf_t& line, std::string_view text) {
    line.append(text.data(), text.data() + text.size());
  }
};

// {"time":"2026-11-27T18:32:33.120Z","level":"warn","logger":"control","msg":"job=..."}
// Bytes that are not UTF-8 become U+FFFD rather than an invalid document.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& message, spdlog::memory_buf_t& line) override {
    nlohmann::ordered_json entry = {
        {"time", FormatIso8601(message.time)},
        {"level", LevelName(message.level)},
        {"logger", std::string_view(message.logger_name.data(), message.logger_name.size())},
        {"msg", Payload(message)}};
    std::string text = entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    text.push_back('\n');
    line.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

std::unique_ptr<spdlog::formatter> MakeLineFormatter(const std::string& format) {
  if (format == "json") return std::make_unique<JsonFormatter>();
  return std::make_unique<TextFormatter>();
}

}  // namespace trainyard::log_internal
