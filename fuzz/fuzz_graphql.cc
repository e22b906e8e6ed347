// libFuzzer target: GraphQL documents as the /graphql endpoint takes them: parsed, then validated
// and executed against the graphql module's test schema (src/graphql/test_schema.h) with the
// input's own first line as the variables when it is JSON. A crash, a hang, or an answer out of
// the spec's shape (both data and no errors missing, an error without a message) counts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "graphql/executor.h"
#include "graphql/parser.h"
#include "graphql/test_schema.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const trainyard::graphql::testing::Library library =
      trainyard::graphql::testing::MakeLibrary();
  std::string_view source(reinterpret_cast<const char*>(data), size);
  trainyard::graphql::ParseOutcome outcome = trainyard::graphql::Parse(source);
  if (outcome.document.has_value() == outcome.error.has_value()) std::abort();
  if (outcome.error) {
    if (outcome.error->locations.size() != 1) std::abort();
    const auto& location = outcome.error->locations[0];
    if (location.line < 1 || location.column < 1) std::abort();
    return 0;
  }
  std::string first_line(source.substr(0, source.find('\n')));
  nlohmann::json variables = nlohmann::json::parse(first_line, nullptr, false);
  if (variables.is_discarded()) variables = nullptr;
  trainyard::graphql::Request request{std::string(source), "", variables, false};
  trainyard::graphql::Response response = trainyard::graphql::Execute(*library.schema, request);
  if (!response.data && response.errors.empty()) std::abort();
  for (const auto& error : response.errors) {
    if (error.message.empty()) std::abort();
  }
  return 0;
}
