#include "server/http/websocket_frame.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace trainyard::server {
namespace {

// A client frame: masked with a fixed key, FIN and opcode as given.
std::string ClientFrame(uint8_t opcode, std::string_view payload, bool fin = true) {
  std::string frame;
  frame.push_back(static_cast<char>((fin ? 0x80 : 0) | opcode));
  uint64_t size = payload.size();
  if (size < 126) {
    frame.push_back(static_cast<char>(0x80 | size));
  } else if (size <= 0xFFFF) {
    frame.push_back(static_cast<char>(0x80 | 126));
    frame.push_back(static_cast<char>(size >> 8));
    frame.push_back(static_cast<char>(size & 0xFF));
  } else {
    frame.push_back(static_cast<char>(0x80 | 127));
    for (int shift = 56; shift >= 0; shift -= 8) frame.push_back(static_cast<char>(size >> shift));
  }
  const char mask[4] = {0x37, static_cast<char>(0xfa), 0x21, 0x3d};
  frame.append(mask, 4);
  for (size_t i = 0; i < payload.size(); ++i) frame.push_back(payload[i] ^ mask[i % 4]);
  return frame;
}

TEST(WebSocketFrameTest, AcceptKeyIsTheRfcExample) {
  // RFC 6455 1.3.
  EXPECT_EQ(WebSocketAcceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WebSocketFrameTest, EncodesTheThreeLengthForms) {
  EXPECT_EQ(EncodeWebSocketFrame(WebSocketOpcode::kText, "Hello"), std::string("\x81\x05Hello"));
  std::string medium = EncodeWebSocketFrame(WebSocketOpcode::kText, std::string(300, 'a'));
  EXPECT_EQ(medium.substr(0, 4), std::string("\x81\x7e\x01\x2c", 4));
  EXPECT_EQ(medium.size(), 304u);
  std::string large = EncodeWebSocketFrame(WebSocketOpcode::kText, std::string(70000, 'a'));
  EXPECT_EQ(large.substr(0, 10), std::string("\x81\x7f\x00\x00\x00\x00\x00\x01\x11\x70", 10));
}

TEST(WebSocketFrameTest, CloseFrameCarriesCodeAndShortReason) {
  std::string frame = EncodeWebSocketClose(4403, "Forbidden");
  EXPECT_EQ(frame, std::string("\x88\x0b\x11\x33", 4) + "Forbidden");
  std::string long_reason(300, 'x');
  EXPECT_EQ(EncodeWebSocketClose(1008, long_reason).size(), 2u + 125u);
  // Cut at a code point boundary: 61 "é" are 122 bytes, a 62nd would pass 123.
  std::string accents;
  for (int i = 0; i < 80; ++i) accents += "é";
  EXPECT_EQ(EncodeWebSocketClose(1000, accents).size(), 2u + 2u + 122u);
}

TEST(WebSocketFrameTest, DecodesMaskedTextInPieces) {
  WebSocketDecoder decoder(1024);
  std::string bytes = ClientFrame(0x1, R"({"type":"connection_init"})") + ClientFrame(0x9, "hi");
  std::vector<WebSocketMessage> messages;
  for (char byte : bytes) {
    ASSERT_FALSE(decoder.Feed(std::string_view(&byte, 1), messages).has_value());
  }
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].kind, WebSocketMessage::Kind::kText);
  EXPECT_EQ(messages[0].payload, R"({"type":"connection_init"})");
  EXPECT_EQ(messages[1].kind, WebSocketMessage::Kind::kPing);
  EXPECT_EQ(messages[1].payload, "hi");
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
}

TEST(WebSocketFrameTest, AssemblesFragmentsAroundAControlFrame) {
  WebSocketDecoder decoder(1024);
  std::vector<WebSocketMessage> messages;
  std::string bytes = ClientFrame(0x1, "Hel", false) + ClientFrame(0xA, "") +
                      ClientFrame(0x0, "lo ", false) + ClientFrame(0x0, "world");
  ASSERT_FALSE(decoder.Feed(bytes, messages).has_value());
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].kind, WebSocketMessage::Kind::kPong);
  EXPECT_EQ(messages[1].payload, "Hello world");
}

TEST(WebSocketFrameTest, LargeLengthForms) {
  WebSocketDecoder decoder(1 << 20);
  std::vector<WebSocketMessage> messages;
  ASSERT_FALSE(decoder.Feed(ClientFrame(0x1, std::string(300, 'a')), messages).has_value());
  ASSERT_FALSE(decoder.Feed(ClientFrame(0x1, std::string(70000, 'b')), messages).has_value());
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].payload.size(), 300u);
  EXPECT_EQ(messages[1].payload, std::string(70000, 'b'));
}

TEST(WebSocketFrameTest, CloseFrames) {
  WebSocketDecoder decoder(1024);
  std::vector<WebSocketMessage> messages;
  ASSERT_FALSE(decoder
                   .Feed(ClientFrame(0x8, std::string("\x03\xe8", 2) + "bye") +
                             ClientFrame(0x1, "ignored after close"),
                         messages)
                   .has_value());
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].kind, WebSocketMessage::Kind::kClose);
  EXPECT_EQ(messages[0].close_code, 1000);
  EXPECT_EQ(messages[0].close_reason, "bye");

  WebSocketDecoder empty(1024);
  messages.clear();
  ASSERT_FALSE(empty.Feed(ClientFrame(0x8, ""), messages).has_value());
  EXPECT_EQ(messages.at(0).close_code, 1005);
}

// Each violation with the close code RFC 6455 asks for.
TEST(WebSocketFrameTest, RefusesViolations) {
  struct Case {
    std::string name;
    std::string bytes;
    uint16_t code;
  };
  std::string unmasked = std::string("\x81\x02", 2) + "hi";
  std::string reserved = ClientFrame(0x1, "hi");
  reserved[0] = static_cast<char>(reserved[0] | 0x40);
  std::string non_minimal = ClientFrame(0x1, std::string(300, 'a'));
  non_minimal[2] = 0;
  non_minimal[3] = 5;
  std::vector<Case> cases = {
      {"unmasked", unmasked, 1002},
      {"reserved bits", reserved, 1002},
      {"binary", ClientFrame(0x2, "\x01"), 1003},
      {"unknown opcode", ClientFrame(0x3, ""), 1002},
      {"bare continuation", ClientFrame(0x0, "x"), 1002},
      {"text inside a message", ClientFrame(0x1, "a", false) + ClientFrame(0x1, "b"), 1002},
      {"fragmented ping", ClientFrame(0x9, "p", false), 1002},
      {"long ping", ClientFrame(0x9, std::string(126, 'p')), 1002},
      {"one-byte close", ClientFrame(0x8, "\x03"), 1002},
      {"reserved close code", ClientFrame(0x8, std::string("\x03\xee", 2)), 1002},
      {"invalid UTF-8", ClientFrame(0x1, "\xc3\x28"), 1007},
      {"too big", ClientFrame(0x1, std::string(2000, 'a')), 1009},
      {"too big in fragments",
       ClientFrame(0x1, std::string(600, 'a'), false) + ClientFrame(0x0, std::string(600, 'a')),
       1009},
      {"non-minimal length", non_minimal, 1002},
  };
  for (const Case& c : cases) {
    WebSocketDecoder decoder(1024);
    std::vector<WebSocketMessage> messages;
    auto failure = decoder.Feed(c.bytes, messages);
    ASSERT_TRUE(failure.has_value()) << c.name;
    EXPECT_EQ(failure->code, c.code) << c.name << ": " << failure->reason;
    EXPECT_FALSE(failure->reason.empty()) << c.name;
    // Sticky: nothing more is read.
    EXPECT_TRUE(decoder.Feed(ClientFrame(0x1, "more"), messages).has_value()) << c.name;
  }
}

TEST(WebSocketFrameTest, RefusesAHugeFrameFromItsHeaderAlone) {
  WebSocketDecoder decoder(1024);
  std::vector<WebSocketMessage> messages;
  // The header of a 4 GiB frame; its payload never needs to arrive.
  std::string header("\x81\xff\x00\x00\x00\x01\x00\x00\x00\x00", 10);
  auto failure = decoder.Feed(header, messages);
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->code, 1009);
}

}  // namespace
}  // namespace trainyard::server
