// libFuzzer target: request targets (path and query) as the HTTP server decodes them. A decoded
// path never holds a NUL.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server/http/request_parsing.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view target(reinterpret_cast<const char*>(data), size);
  auto decoded = trainyard::server::internal::DecodeTarget(target);
  if (decoded.ok() && decoded->path.find('\0') != std::string::npos) std::abort();
  return 0;
}
