#include "server/http/websocket_frame.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "common/utf8.h"

namespace trainyard::server {
namespace {

constexpr std::string_view kAcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool IsControl(uint8_t opcode) {
  return (opcode & 0x8) != 0;
}

// The close codes a peer may send (RFC 6455 7.4): 1000-1003, 1007-1011 (1004-1006 and 1015 are
// reserved for the endpoints' own reports, never for the wire), and 3000-4999.
bool IsValidCloseCode(uint16_t code) {
  if (code >= 1000 && code <= 1003) return true;
  if (code >= 1007 && code <= 1011) return true;
  return code >= 3000 && code <= 4999;
}

WebSocketFailure Protocol(std::string reason) {
  return {kWebSocketProtocolError, std::move(reason)};
}

}  // namespace

std::string WebSocketAcceptKey(std::string_view key) {
  std::string input(key);
  input += kAcceptGuid;
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  unsigned char encoded[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  int length = EVP_EncodeBlock(encoded, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<const char*>(encoded), static_cast<size_t>(length));
}

std::string EncodeWebSocketFrame(WebSocketOpcode opcode, std::string_view payload) {
  std::string frame;
  frame.reserve(payload.size() + 10);
  frame.push_back(static_cast<char>(0x80 | static_cast<uint8_t>(opcode)));
  uint64_t size = payload.size();
  if (size < 126) {
    frame.push_back(static_cast<char>(size));
  } else if (size <= 0xFFFF) {
    frame.push_back(static_cast<char>(126));
    frame.push_back(static_cast<char>(size >> 8));
    frame.push_back(static_cast<char>(size & 0xFF));
  } else {
    frame.push_back(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8) {
      frame.push_back(static_cast<char>((size >> shift) & 0xFF));
    }
  }
  frame.append(payload);
  return frame;
}

std::string EncodeWebSocketClose(uint16_t code, std::string_view reason) {
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  std::string valid = ToValidUtf8(reason);
  size_t cut = 0;
  for (size_t pos = 0; pos < valid.size();) {
    NextCodePoint(valid, &pos);  // valid UTF-8: moves past one whole code point
    if (pos > 123) break;
    cut = pos;
  }
  payload.append(valid, 0, cut);
  return EncodeWebSocketFrame(WebSocketOpcode::kClose, payload);
}

std::optional<WebSocketFailure> WebSocketDecoder::Feed(std::string_view bytes,
                                                       std::vector<WebSocketMessage>& messages) {
  if (failure_) return failure_;
  if (closed_) return std::nullopt;
  pending_.append(bytes);
  for (;;) {
    bool progressed = false;
    if (auto failure = TakeFrame(progressed, messages)) {
      failure_ = std::move(failure);
      pending_.clear();
      message_.clear();
      return failure_;
    }
    if (!progressed || closed_) break;
  }
  if (closed_) pending_.clear();
  return std::nullopt;
}

std::optional<WebSocketFailure> WebSocketDecoder::TakeFrame(
    bool& progressed, std::vector<WebSocketMessage>& messages) {
  if (pending_.size() < 2) return std::nullopt;
  const auto* data = reinterpret_cast<const uint8_t*>(pending_.data());
  const bool fin = (data[0] & 0x80) != 0;
  if ((data[0] & 0x70) != 0) return Protocol("reserved bits set without an extension");
  const uint8_t opcode = data[0] & 0x0F;
  const bool masked = (data[1] & 0x80) != 0;
  if (!masked) return Protocol("a client frame must be masked");
  uint64_t size = data[1] & 0x7F;
  size_t header = 2;
  if (size == 126) {
    if (pending_.size() < 4) return std::nullopt;
    size = (uint64_t{data[2]} << 8) | data[3];
    if (size < 126) return Protocol("payload length not in its shortest form");
    header = 4;
  } else if (size == 127) {
    if (pending_.size() < 10) return std::nullopt;
    size = 0;
    for (int i = 2; i < 10; ++i) size = (size << 8) | data[i];
    if (size >> 63) return Protocol("payload length with its most significant bit set");
    if (size <= 0xFFFF) return Protocol("payload length not in its shortest form");
    header = 10;
  }
  switch (opcode) {
    case 0x0:
      if (!in_message_) return Protocol("a continuation frame without a message to continue");
      break;
    case 0x1:
      if (in_message_) return Protocol("a new message before the last one's final fragment");
      break;
    case 0x2:
      return WebSocketFailure{kWebSocketUnsupportedData, "binary messages are not accepted"};
    case 0x8:
    case 0x9:
    case 0xA:
      if (!fin) return Protocol("a fragmented control frame");
      if (size > 125) return Protocol("a control frame longer than 125 bytes");
      break;
    default: return Protocol("unknown opcode " + std::to_string(opcode));
  }
  if (!IsControl(opcode) && message_.size() + size > max_message_bytes_) {
    return WebSocketFailure{kWebSocketMessageTooBig,
                            "message larger than " + std::to_string(max_message_bytes_) + " bytes"};
  }
  if (pending_.size() < header + 4 + size) return std::nullopt;
  const uint8_t* mask = data + header;
  std::string payload(pending_, header + 4, static_cast<size_t>(size));
  for (size_t i = 0; i < payload.size(); ++i)
    payload[i] = static_cast<char>(payload[i] ^ mask[i % 4]);
  pending_.erase(0, header + 4 + static_cast<size_t>(size));
  progressed = true;

  if (opcode == 0x8) {
    WebSocketMessage close;
    close.kind = WebSocketMessage::Kind::kClose;
    if (payload.size() == 1) return Protocol("a close frame with a one-byte payload");
    if (payload.empty()) {
      close.close_code = 1005;  // no status code present (RFC 6455 7.1.5)
    } else {
      close.close_code = static_cast<uint16_t>((uint8_t(payload[0]) << 8) | uint8_t(payload[1]));
      if (!IsValidCloseCode(close.close_code)) {
        return Protocol("close code " + std::to_string(close.close_code) + " is not allowed");
      }
      close.close_reason = payload.substr(2);
      if (!CodePointCount(close.close_reason)) {
        return WebSocketFailure{kWebSocketInvalidPayload, "close reason is not UTF-8"};
      }
    }
    closed_ = true;
    messages.push_back(std::move(close));
    return std::nullopt;
  }
  if (opcode == 0x9 || opcode == 0xA) {
    WebSocketMessage control;
    control.kind = opcode == 0x9 ? WebSocketMessage::Kind::kPing : WebSocketMessage::Kind::kPong;
    control.payload = std::move(payload);
    messages.push_back(std::move(control));
    return std::nullopt;
  }
  message_ += payload;
  in_message_ = !fin;
  if (fin) {
    if (!CodePointCount(message_)) {
      return WebSocketFailure{kWebSocketInvalidPayload, "text message is not UTF-8"};
    }
    WebSocketMessage text;
    text.payload = std::move(message_);
    message_.clear();
    messages.push_back(std::move(text));
  }
  return std::nullopt;
}

}  // namespace trainyard::server
