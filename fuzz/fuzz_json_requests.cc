// libFuzzer target: JSON bodies as the API decodes them — a sweep request and a progress
// callback body (each with its canonical form read back to the same thing) — and a Range header.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "contract/progress_body.h"
#include "control/sweep_request.h"
#include "server/api/http_helpers.h"
#include "server/api/progress_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  if (size > 0 && data[0] == 'R') {
    uint64_t object_size = size > 1 ? data[1] * 1000ull : 0;
    auto range = trainyard::server::ParseRange(text.substr(std::min<size_t>(2, size)), object_size);
    if (range.ok() && range->has_value()) {
      if ((*range)->length == 0 || (*range)->offset + (*range)->length > object_size) std::abort();
    }
    return 0;
  }
  nlohmann::json body = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return 0;
  auto request = trainyard::control::ParseSweepRequest(body);
  if (request.ok()) {
    nlohmann::json canonical = trainyard::control::ToJson(*request);
    auto again = trainyard::control::ParseSweepRequest(canonical);
    if (!again.ok() || trainyard::control::ToJson(*again) != canonical) std::abort();
  }
  // Dropped: only a crash counts here; the body's own round trip is checked below.
  (void)trainyard::server::DecodeProgress(body);
  auto progress = trainyard::contract::DecodeProgressBody(body);
  if (progress.ok()) {
    nlohmann::json canonical = trainyard::contract::EncodeProgressBody(*progress);
    auto again = trainyard::contract::DecodeProgressBody(canonical);
    if (!again.ok() || trainyard::contract::EncodeProgressBody(*again) != canonical) std::abort();
  }
  return 0;
}
