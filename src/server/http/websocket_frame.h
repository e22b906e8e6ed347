// The WebSocket wire format (RFC 6455) without sockets: the opening handshake's accept key, the
// frames the server writes, and a decoder of the frames a client writes that assembles them into
// messages. Text only: a binary message is refused (1003), as graphql-transport-ws sends text.
//
// Not thread-safe: a decoder belongs to one connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trainyard::server {

// Close codes of RFC 6455 (7.4.1) that the server sends itself.
inline constexpr uint16_t kWebSocketNormalClosure = 1000;
inline constexpr uint16_t kWebSocketGoingAway = 1001;
inline constexpr uint16_t kWebSocketProtocolError = 1002;
inline constexpr uint16_t kWebSocketUnsupportedData = 1003;
inline constexpr uint16_t kWebSocketInvalidPayload = 1007;  // text that is not UTF-8
inline constexpr uint16_t kWebSocketPolicyViolation = 1008;
inline constexpr uint16_t kWebSocketMessageTooBig = 1009;

enum class WebSocketOpcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + the RFC's GUID)).
std::string WebSocketAcceptKey(std::string_view key);

// One unmasked frame with FIN set, as a server sends it. A control frame's payload must be at
// most 125 bytes (the caller's business).
std::string EncodeWebSocketFrame(WebSocketOpcode opcode, std::string_view payload);
// A close frame: the code, then the reason cut to what fits in 123 bytes (at a UTF-8 boundary).
std::string EncodeWebSocketClose(uint16_t code, std::string_view reason);

// What the client said, message by message.
struct WebSocketMessage {
  enum class Kind { kText, kPing, kPong, kClose };
  Kind kind = Kind::kText;
  std::string payload;       // a text message's text, a ping's or pong's data
  uint16_t close_code = 0;   // kClose: 1005 when the frame carried none
  std::string close_reason;  // kClose
};

// Why the connection must be closed: the close code to send and a reason for the client.
struct WebSocketFailure {
  uint16_t code = kWebSocketProtocolError;
  std::string reason;
};

// Reads client frames: each must be masked, without RSV bits; control frames short and whole
// (they may come between the fragments of a message); a message assembled from its fragments is
// at most `max_message_bytes` (1009 beyond, checked as each frame's header arrives, so that a
// huge frame is refused before it is read); text must be UTF-8 (1007); binary is refused (1003).
class WebSocketDecoder {
 public:
  explicit WebSocketDecoder(size_t max_message_bytes) : max_message_bytes_(max_message_bytes) {}

  // Takes the bytes received and appends every message they complete to `messages`. The first
  // violation is returned (and returned again by every later call): the connection must close.
  // Bytes after a close frame are ignored.
  std::optional<WebSocketFailure> Feed(std::string_view bytes,
                                       std::vector<WebSocketMessage>& messages);
  // Bytes received and not yet part of a whole frame, and of a message not yet whole.
  size_t buffered_bytes() const { return pending_.size() + message_.size(); }

 private:
  std::optional<WebSocketFailure> TakeFrame(bool& progressed,
                                            std::vector<WebSocketMessage>& messages);

  size_t max_message_bytes_;
  std::string pending_;      // received, not yet a whole frame
  std::string message_;      // the fragments of a text message so far
  bool in_message_ = false;  // a text frame without FIN came; continuations follow
  bool closed_ = false;      // a close frame came
  std::optional<WebSocketFailure> failure_;
};

}  // namespace trainyard::server
