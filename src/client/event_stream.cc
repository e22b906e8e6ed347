// ApiClient::StreamEvents: server-sent events, parsed as the bytes arrive.
#include "client/api_client.h"
#include "client/curl_call.h"

namespace trainyard::client {

namespace {

struct StreamState {
  CurlCall* call = nullptr;
  SseParser* parser = nullptr;
  bool stopped = false;
  std::string error_body;
};

size_t OnStreamBytes(char* data, size_t size, size_t count, void* opaque) {
  auto* state = static_cast<StreamState*>(opaque);
  size_t bytes = size * count;
  if (state->call->status() >= 400) {
    if (state->error_body.size() < kMaxErrorBody) state->error_body.append(data, bytes);
    return bytes;
  }
  if (!state->parser->Feed(std::string_view(data, bytes))) {
    state->stopped = true;
    return 0;  // curl ends the transfer (CURLE_WRITE_ERROR), which here means "done"
  }
  return bytes;
}

}  // namespace

Status ApiClient::StreamEvents(const std::string& path, const SseParser::Callback& on_event) {
  SseParser parser(on_event);
  CurlCall call(options_, "GET", Url(path));
  // A log can be silent for hours: only connecting has a limit.
  curl_easy_setopt(call.handle(), CURLOPT_TIMEOUT_MS, 0L);
  call.AddHeader("Accept", "text/event-stream");
  call.AddHeader("Cache-Control", "no-cache");
  StreamState state{&call, &parser, false, ""};
  curl_easy_setopt(call.handle(), CURLOPT_WRITEFUNCTION, OnStreamBytes);
  curl_easy_setopt(call.handle(), CURLOPT_WRITEDATA, &state);
  Status done = call.Perform();
  if (state.stopped) return Status::Ok();
  if (call.status() >= 400) return StatusFromErrorResponse(call.status(), state.error_body);
  // An unfinished last block is dropped, as the SSE specification says.
  return done;
}

}  // namespace trainyard::client
