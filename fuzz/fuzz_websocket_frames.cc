// libFuzzer target: the bytes a WebSocket client sends (server/http/websocket_frame.h), fed to
// the decoder in pieces whose sizes the input's first byte chooses. A crash, a hang, a failure
// without a reason or with a code the server never sends, a message over the size cap, or a
// text message that is not UTF-8 counts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "common/utf8.h"
#include "server/http/websocket_frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  constexpr size_t kCap = 4096;
  const size_t piece = 1 + data[0] % 64;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  trainyard::server::WebSocketDecoder decoder(kCap);
  std::vector<trainyard::server::WebSocketMessage> messages;
  for (size_t offset = 0; offset < bytes.size(); offset += piece) {
    auto failure = decoder.Feed(bytes.substr(offset, piece), messages);
    if (failure) {
      if (failure->reason.empty()) std::abort();
      if (failure->code != 1002 && failure->code != 1003 && failure->code != 1007 &&
          failure->code != 1009) {
        std::abort();
      }
      break;
    }
  }
  for (const auto& message : messages) {
    if (message.kind == trainyard::server::WebSocketMessage::Kind::kText) {
      if (message.payload.size() > kCap) std::abort();
      if (!trainyard::CodePointCount(message.payload)) std::abort();
    }
    if (message.kind != trainyard::server::WebSocketMessage::Kind::kText &&
        message.payload.size() > 125) {
      std::abort();
    }
  }
  return 0;
}
