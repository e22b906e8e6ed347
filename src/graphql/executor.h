// Execution of a GraphQL request (spec 6): the operation chosen by name, its variables coerced,
// fields collected with fragments and @include/@skip, resolved (a mutation's root fields one
// after another), completed against their types, with field errors at their paths and nulls
// carried up to the nearest nullable field (6.4.4).
//
// Thread-safe for distinct requests on one schema (the schema is read only).
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "graphql/ast.h"
#include "graphql/error.h"
#include "graphql/schema.h"

namespace trainyard::graphql {

struct Request {
  std::string query;
  std::string operation_name;  // may be empty when the document has one operation
  nlohmann::json variables;    // an object, or null
  // A GET request runs queries only (GraphQL over HTTP): a mutation is refused.
  bool queries_only = false;
};

struct ExecutionOptions {
  // The extensions of a resolver's failure; default {"code": StatusCodeName(code)}.
  std::function<nlohmann::json(const Status&)> error_extensions;
  // The most fields one operation may resolve (each field of each object of each list counts
  // one); past it, execution stops: data is null and one error says so, with code
  // ResourceExhausted. Nesting and aliases can otherwise make a short document ask for
  // millions of values. 0: no limit.
  size_t max_fields = 0;
};

struct Response {
  // Absent when the request failed before execution (a syntax, validation or variable error).
  std::optional<nlohmann::json> data;
  std::vector<Error> errors;
  // The operation is a mutation and the request allowed queries only (HTTP answers 405).
  bool mutation_refused = false;
};

// {"errors"?, "data"?} as the spec shapes a response (7.1).
nlohmann::json ToJson(const Response& response);

// Parses, validates and executes `request`. A subscription is refused (it has no single answer:
// see Prepare).
Response Execute(const Schema& schema, const Request& request,
                 const ExecutionOptions& options = {});

// A request parsed, validated, its operation chosen and its variables coerced, ready to execute
// once, or (a subscription) once per event. Immutable; copies share the document.
struct PreparedOperation {
  std::vector<Error> errors;  // why it cannot run; then nothing else is set
  std::shared_ptr<const Document> document;
  const OperationDefinition* operation = nullptr;  // in `document`
  nlohmann::json variables;
  // A subscription's one root field and its coerced arguments (6.2.3.1 CreateSourceEventStream):
  // what the caller needs to open the field's stream of events.
  std::string subscription_field;
  nlohmann::json subscription_arguments;

  bool ok() const { return errors.empty(); }
  bool is_subscription() const {
    return operation && operation->type == OperationDefinition::Type::kSubscription;
  }
  bool is_mutation() const {
    return operation && operation->type == OperationDefinition::Type::kMutation;
  }
};

// Everything Execute does before resolving a field. Errors (syntax, validation, variables) are
// in the result's `errors`, shaped as Execute returns them.
PreparedOperation Prepare(const Schema& schema, const Request& request);

// Executes a prepared operation with `root_value` as the parent of its root fields. For a
// subscription, once per event (6.2.3.2 MapSourceToResponseEvent): the event is the root
// value, which the subscription field's resolver turns into the field's value.
Response ExecutePrepared(const Schema& schema, const PreparedOperation& prepared,
                         const nlohmann::json& root_value, const ExecutionOptions& options = {});

}  // namespace trainyard::graphql
