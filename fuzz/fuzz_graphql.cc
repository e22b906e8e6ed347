// libFuzzer target: GraphQL documents as the /graphql endpoint parses them. Only a crash, a hang
// or an error without a valid location counts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "graphql/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view source(reinterpret_cast<const char*>(data), size);
  trainyard::graphql::ParseOutcome outcome = trainyard::graphql::Parse(source);
  if (outcome.document.has_value() == outcome.error.has_value()) std::abort();
  if (outcome.error) {
    if (outcome.error->locations.size() != 1) std::abort();
    const auto& location = outcome.error->locations[0];
    if (location.line < 1 || location.column < 1) std::abort();
  }
  return 0;
}
